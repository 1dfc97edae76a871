//! What a stack is made of, as a picture (`stackctl graph`): its resources grouped by layer
//! (network, data, edge, compute, monitoring), an arrow from each resource to those made after
//! it, and the critical path of `up` (the chain that sets how long it takes) marked. Written
//! as Mermaid or Graphviz text for other tools, or as SVG by [`svg`], with no renderer needed.

pub mod svg;

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::resources::{Desired, Kind};

/// Where a kind sits in the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Network,
    Data,
    Edge,
    Compute,
    Monitoring,
}

impl Layer {
    pub const ALL: [Layer; 5] = [
        Self::Network,
        Self::Data,
        Self::Edge,
        Self::Compute,
        Self::Monitoring,
    ];

    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::Vpc
            | Kind::InternetGateway
            | Kind::Subnet
            | Kind::RouteTable
            | Kind::ElasticIp
            | Kind::NatGateway
            | Kind::SecurityGroup => Self::Network,
            Kind::Queue | Kind::Bucket | Kind::Repository | Kind::Image | Kind::LogGroup => {
                Self::Data
            }
            Kind::LoadBalancer
            | Kind::TargetGroup
            | Kind::Certificate
            | Kind::Listener
            | Kind::ListenerRule
            | Kind::AliasRecord => Self::Edge,
            Kind::Role
            | Kind::Namespace
            | Kind::DiscoveryService
            | Kind::Cluster
            | Kind::TaskDefinition
            | Kind::Service
            | Kind::ScalableTarget
            | Kind::ScalingPolicy => Self::Compute,
            Kind::Topic | Kind::Alarm | Kind::Dashboard => Self::Monitoring,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Network => "Network",
            Self::Data => "Data",
            Self::Edge => "Edge",
            Self::Compute => "Compute",
            Self::Monitoring => "Monitoring",
        }
    }

    /// Its colour in the pictures.
    pub fn colour(self) -> &'static str {
        match self {
            Self::Network => "#dbe9f6",
            Self::Data => "#e2f0d9",
            Self::Edge => "#fde9d0",
            Self::Compute => "#e7e0f3",
            Self::Monitoring => "#eeeeee",
        }
    }
}

/// The colour that marks the critical path.
pub const CRITICAL: &str = "#e8701a";

/// One resource in the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub label: &'static str,
    pub layer: Layer,
    /// The ids it is made after.
    pub deps: Vec<String>,
}

/// A stack's resources and the critical path of its `up`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    pub stack: String,
    pub nodes: Vec<Node>,
    /// The ids on the critical path, first to last.
    pub critical: Vec<String>,
    /// How long that path takes at AWS's pace, when known.
    pub seconds: Option<f64>,
}

impl Diagram {
    /// `critical`: the path's ids, first to last (a `"<id> ready"` step counts as its id).
    pub fn new(
        stack: &str,
        desired: &[Desired],
        critical: &[String],
        seconds: Option<f64>,
    ) -> Self {
        let nodes = desired
            .iter()
            .map(|d| Node {
                id: d.id.to_string(),
                label: d.spec.kind().label(),
                layer: Layer::of(d.spec.kind()),
                deps: d.deps.iter().map(ToString::to_string).collect(),
            })
            .collect();
        let mut path: Vec<String> = Vec::new();
        for step in critical {
            let id = step.strip_suffix(" ready").unwrap_or(step).to_owned();
            if path.last() != Some(&id) {
                path.push(id);
            }
        }
        Self {
            stack: stack.to_owned(),
            nodes,
            critical: path,
            seconds,
        }
    }

    pub fn on_path(&self, id: &str) -> bool {
        self.critical.iter().any(|c| c == id)
    }

    /// True when `dep -> id` is a step of the critical path.
    pub fn critical_edge(&self, dep: &str, id: &str) -> bool {
        self.critical.windows(2).any(|w| w[0] == dep && w[1] == id)
    }

    /// Every arrow: (dependency, dependent), in the nodes' order.
    pub fn edges(&self) -> Vec<(&str, &str)> {
        let known: HashSet<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        self.nodes
            .iter()
            .flat_map(|n| {
                n.deps
                    .iter()
                    .filter(|d| known.contains(d.as_str()))
                    .map(|d| (d.as_str(), n.id.as_str()))
            })
            .collect()
    }

    fn title(&self) -> String {
        match self.seconds {
            Some(s) => format!(
                "{}: {} resources; up's critical path {:.0} s at AWS's pace",
                self.stack,
                self.nodes.len(),
                s
            ),
            None => format!("{}: {} resources", self.stack, self.nodes.len()),
        }
    }

    /// Mermaid flowchart text (GitHub and many editors draw it).
    pub fn mermaid(&self) -> String {
        let index = |id: &str| self.nodes.iter().position(|n| n.id == id).unwrap_or(0);
        let mut out = format!("---\ntitle: {}\n---\nflowchart LR\n", self.title());
        for layer in Layer::ALL {
            let members: Vec<(usize, &Node)> = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.layer == layer)
                .collect();
            if members.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  subgraph {}", layer.name());
            for (i, node) in members {
                let _ = writeln!(
                    out,
                    "    n{i}[\"{}<br/><small>{}</small>\"]",
                    node.id, node.label
                );
            }
            let _ = writeln!(out, "  end");
        }
        let mut critical_links = Vec::new();
        for (link, (dep, id)) in self.edges().into_iter().enumerate() {
            let _ = writeln!(out, "  n{} --> n{}", index(dep), index(id));
            if self.critical_edge(dep, id) {
                critical_links.push(link.to_string());
            }
        }
        let _ = writeln!(
            out,
            "  classDef critical stroke:{CRITICAL},stroke-width:3px"
        );
        let on_path: Vec<String> = (0..self.nodes.len())
            .filter(|&i| self.on_path(&self.nodes[i].id))
            .map(|i| format!("n{i}"))
            .collect();
        if !on_path.is_empty() {
            let _ = writeln!(out, "  class {} critical", on_path.join(","));
        }
        if !critical_links.is_empty() {
            let _ = writeln!(
                out,
                "  linkStyle {} stroke:{CRITICAL},stroke-width:3px",
                critical_links.join(",")
            );
        }
        out
    }

    /// Graphviz DOT text (`dot -Tpng`).
    pub fn dot(&self) -> String {
        let mut out = format!(
            "digraph stack {{\n  label=\"{}\";\n  labelloc=t;\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n",
            self.title()
        );
        for layer in Layer::ALL {
            let members: Vec<&Node> = self.nodes.iter().filter(|n| n.layer == layer).collect();
            if members.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "  subgraph cluster_{} {{\n    label=\"{}\";\n    color=\"#bbbbbb\";",
                layer.name().to_lowercase(),
                layer.name()
            );
            for node in members {
                let extra = if self.on_path(&node.id) {
                    format!(", color=\"{CRITICAL}\", penwidth=3")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "    \"{}\" [label=\"{}\\n{}\", fillcolor=\"{}\"{extra}];",
                    node.id,
                    node.id,
                    node.label,
                    layer.colour()
                );
            }
            let _ = writeln!(out, "  }}");
        }
        for (dep, id) in self.edges() {
            let extra = if self.critical_edge(dep, id) {
                format!(" [color=\"{CRITICAL}\", penwidth=3]")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  \"{dep}\" -> \"{id}\"{extra};");
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests;
