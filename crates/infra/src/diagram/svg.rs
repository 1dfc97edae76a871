//! The diagram as SVG, laid out here: a column per layer, each resource in its column in the
//! order it is made, an arrow from each resource to those made after it, the critical path of
//! `up` in orange.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{CRITICAL, Diagram, Layer};

const COLUMN: f64 = 230.0;
const BOX_W: f64 = 190.0;
const BOX_H: f64 = 34.0;
const GAP: f64 = 12.0;
const TOP: f64 = 80.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Diagram {
    /// The picture as SVG.
    pub fn svg(&self) -> String {
        let layers: Vec<Layer> = Layer::ALL
            .into_iter()
            .filter(|l| self.nodes.iter().any(|n| n.layer == *l))
            .collect();
        let mut at: HashMap<&str, (f64, f64)> = HashMap::new();
        let mut rows = 0usize;
        for (column, layer) in layers.iter().enumerate() {
            let members = self.nodes.iter().filter(|n| n.layer == *layer);
            for (row, node) in members.enumerate() {
                let x = 20.0 + COLUMN * column as f64;
                let y = TOP + (BOX_H + GAP) * row as f64;
                at.insert(node.id.as_str(), (x, y));
                rows = rows.max(row + 1);
            }
        }
        let width = 40.0 + COLUMN * layers.len() as f64;
        let height = TOP + (BOX_H + GAP) * rows as f64 + 20.0;
        let mut out = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#999"/></marker><marker id="hot" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{CRITICAL}"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="26" font-size="15" font-weight="bold">{}</text>
"##,
            escape(&self.title())
        );
        for (column, layer) in layers.iter().enumerate() {
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-weight="bold" fill="#555">{}</text>"##,
                20.0 + COLUMN * column as f64,
                TOP - 14.0,
                layer.name()
            );
        }
        self.arrows(&mut out, &at);
        for node in &self.nodes {
            let Some(&(x, y)) = at.get(node.id.as_str()) else {
                continue;
            };
            let stroke = if self.on_path(&node.id) {
                format!(r#"stroke="{CRITICAL}" stroke-width="3""#)
            } else {
                r##"stroke="#888" stroke-width="1""##.to_owned()
            };
            let _ = writeln!(
                out,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{}" {stroke}/><text x="{:.1}" y="{:.1}">{}</text><text x="{:.1}" y="{:.1}" font-size="10" fill="#555">{}</text>"##,
                node.layer.colour(),
                x + 8.0,
                y + 15.0,
                escape(&node.id),
                x + 8.0,
                y + 28.0,
                escape(node.label)
            );
        }
        out.push_str("</svg>\n");
        out
    }

    /// An arrow from each dependency's right edge to its dependent's left edge (or, within a
    /// column, a curve along the column's right side); the critical path's drawn last, on top.
    fn arrows(&self, out: &mut String, at: &HashMap<&str, (f64, f64)>) {
        let mut edges = self.edges();
        edges.sort_by_key(|(dep, id)| self.critical_edge(dep, id));
        // A step of the path that is no arrow (a service waits for the load balancer to work
        // through its target group): drawn dashed, so the path reads end to end.
        let leaps: Vec<(&str, &str)> = self
            .critical
            .windows(2)
            .map(|w| (w[0].as_str(), w[1].as_str()))
            .filter(|pair| !edges.contains(pair))
            .collect();
        for (dep, id) in edges.iter().chain(&leaps).copied() {
            let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(dep), at.get(id)) else {
                continue;
            };
            let hot = self.critical_edge(dep, id);
            let (colour, width, marker) = if hot {
                (CRITICAL, 2.5, "hot")
            } else {
                ("#999", 1.0, "arrow")
            };
            let path = if (x1 - x2).abs() < 1.0 {
                let side = x1 + BOX_W;
                format!(
                    "M {side:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {side:.1} {:.1}",
                    y1 + BOX_H / 2.0,
                    side + 24.0,
                    y1 + BOX_H / 2.0,
                    side + 24.0,
                    y2 + BOX_H / 2.0,
                    y2 + BOX_H / 2.0
                )
            } else {
                let (from, to) = if x1 < x2 {
                    (x1 + BOX_W, x2)
                } else {
                    (x1, x2 + BOX_W)
                };
                let mid = (from + to) / 2.0;
                format!(
                    "M {from:.1} {:.1} C {mid:.1} {:.1}, {mid:.1} {:.1}, {to:.1} {:.1}",
                    y1 + BOX_H / 2.0,
                    y1 + BOX_H / 2.0,
                    y2 + BOX_H / 2.0,
                    y2 + BOX_H / 2.0
                )
            };
            let opacity = if hot { 1.0 } else { 0.55 };
            let dashes = if leaps.contains(&(dep, id)) {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let _ = writeln!(
                out,
                r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}" stroke-opacity="{opacity}"{dashes} marker-end="url(#{marker})"/>"#
            );
        }
    }
}
