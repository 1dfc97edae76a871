//! A run's timeline as a picture (`stackctl history --chart FILE.svg`): one bar per step from
//! its start to its end, calls (create, update, delete) apart from waits (`ready`: AWS making
//! the resource work), and the chain of steps that made the run as long as it was marked.
//! The SVG is written here, by hand: no renderer is needed to make it or to look at it.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::{RUN, Record, Status};

/// Picture width, and the column of step names left of the bars.
const WIDTH: f64 = 1000.0;
const LABELS: f64 = 260.0;
const ROW: f64 = 20.0;
const TOP: f64 = 70.0;
/// A step that started within this long after another ended is taken to have waited for it.
const HANDOFF: Duration = Duration::from_secs(2);

const CALL: &str = "#3b78b5";
const WAIT: &str = "#a9cce8";
const FAILED: &str = "#d62f2f";
const CRITICAL: &str = "#e8701a";

/// The chain of steps (indices into `steps`) that ends with the last step to end, each
/// starting when the one before it ended (within [`HANDOFF`]): where the run's time went.
pub fn critical_chain(steps: &[&Record]) -> Vec<usize> {
    let end = |r: &Record| r.ended.unwrap_or(r.started);
    let Some(mut at) = (0..steps.len()).max_by_key(|&i| end(steps[i])) else {
        return Vec::new();
    };
    let mut chain = vec![at];
    loop {
        let start = steps[at].started;
        let before = (0..steps.len())
            .filter(|i| !chain.contains(i))
            .filter(|&i| {
                let e = end(steps[i]);
                e <= start && e + HANDOFF >= start && steps[i].started < start
            })
            .max_by_key(|&i| end(steps[i]));
        match before {
            Some(i) => {
                chain.push(i);
                at = i;
            }
            None => break,
        }
    }
    chain.reverse();
    chain
}

fn seconds(from: SystemTime, to: SystemTime) -> f64 {
    to.duration_since(from).map_or(0.0, |d| d.as_secs_f64())
}

/// A tick every so many seconds: about eight across the run.
fn tick(total: f64) -> f64 {
    [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    ]
    .into_iter()
    .find(|t| total / t <= 10.0)
    .unwrap_or(3600.0)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG of one run: `records` are its steps (its `run` record, if any, gives the title).
pub fn svg(stack: &str, records: &[Record]) -> String {
    let run = records.iter().find(|r| r.component == RUN);
    let mut steps: Vec<&Record> = records.iter().filter(|r| r.component != RUN).collect();
    steps.sort_by_key(|r| (r.started, r.ended));
    let start = run
        .map(|r| r.started)
        .into_iter()
        .chain(steps.iter().map(|r| r.started))
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let end = run
        .and_then(|r| r.ended)
        .into_iter()
        .chain(steps.iter().map(|r| r.ended.unwrap_or(r.started)))
        .max()
        .unwrap_or(start);
    let total = seconds(start, end).max(0.001);
    let scale = (WIDTH - LABELS - 20.0) / total;
    let x = |t: SystemTime| LABELS + seconds(start, t) * scale;
    let chain = critical_chain(&steps);
    let height = TOP + ROW * steps.len() as f64 + 50.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
"##
    );
    let command = run.map_or("run", |r| r.command.as_str());
    let what = run.map_or(String::new(), |r| format!(" {}", r.run));
    let _ = writeln!(
        out,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">stackctl {} of {}{}: {total:.1} s, {} steps</text>"#,
        escape(command),
        escape(stack),
        escape(&what),
        steps.len()
    );
    legend(&mut out);
    axis(&mut out, total, scale, height);
    for (row, step) in steps.iter().enumerate() {
        let y = TOP + ROW * row as f64;
        bar(
            &mut out,
            step,
            y,
            chain.contains(&row),
            (x(step.started), x(step.ended.unwrap_or(end))),
            end,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// One step's row: its name, and its bar from `span.0` to `span.1` (x positions).
fn bar(out: &mut String, step: &Record, y: f64, on_path: bool, span: (f64, f64), end: SystemTime) {
    let weight = if on_path { "bold" } else { "normal" };
    let label = format!("{} {}", step.component, step.action);
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="{weight}">{}</text>"#,
        LABELS - 8.0,
        y + 13.0,
        escape(&label)
    );
    let fill = match (step.status, step.action.as_str()) {
        (Status::Failed | Status::RolledBack, _) => FAILED,
        (_, "ready") => WAIT,
        _ => CALL,
    };
    let width = (span.1 - span.0).max(1.5);
    let stroke = if on_path {
        format!(r#" stroke="{CRITICAL}" stroke-width="2.5""#)
    } else if step.ended.is_none() {
        r##" stroke="#555" stroke-dasharray="4 2""##.to_owned()
    } else {
        String::new()
    };
    let took = seconds(step.started, step.ended.unwrap_or(end));
    let _ = writeln!(
        out,
        r#"<rect x="{:.1}" y="{:.1}" width="{width:.1}" height="{:.1}" fill="{fill}"{stroke}><title>{} {}: {took:.1} s</title></rect>"#,
        span.0,
        y + 3.0,
        ROW - 6.0,
        escape(&label),
        step.status.as_str()
    );
}

fn legend(out: &mut String) {
    let items = [
        (CALL, "calls (create, update, delete)", ""),
        (WAIT, "waiting for AWS (ready)", ""),
        (FAILED, "failed", ""),
        ("white", "the path that set the run's length", CRITICAL),
    ];
    let mut x = 10.0;
    for (fill, text, stroke) in items {
        let outline = if stroke.is_empty() {
            String::new()
        } else {
            format!(r#" stroke="{stroke}" stroke-width="2.5""#)
        };
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="34" width="14" height="10" fill="{fill}"{outline}/><text x="{:.1}" y="43">{text}</text>"#,
            x + 18.0
        );
        x += 24.0 + 6.5 * text.len() as f64;
    }
}

fn axis(out: &mut String, total: f64, scale: f64, height: f64) {
    let step = tick(total);
    let mut t = 0.0;
    while t <= total + 1e-9 {
        let x = LABELS + t * scale;
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#555">{t:.0} s</text>"##,
            TOP - 6.0,
            height - 40.0,
            height - 25.0
        );
        t += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_795_478_400)
            + Duration::from_secs_f64(seconds)
    }

    fn step(component: &str, action: &str, from: f64, to: f64) -> Record {
        Record {
            run: "r1".into(),
            command: "up".into(),
            component: component.into(),
            action: action.into(),
            version: String::new(),
            owner: "ada".into(),
            status: Status::Succeeded,
            started: at(from),
            ended: Some(at(to)),
            error: None,
        }
    }

    fn a_run() -> Vec<Record> {
        vec![
            step(RUN, RUN, 0.0, 160.0),
            step("vpc", "create", 0.1, 1.0),
            step("queue", "create", 0.1, 0.3),
            step("load-balancer", "create", 1.2, 3.0),
            step("load-balancer", "ready", 3.0, 140.0),
            step("service", "create", 140.5, 141.0),
            step("service", "ready", 141.0, 159.5),
            step("dashboard", "create", 2.0, 2.2),
        ]
    }

    #[test]
    fn the_chain_follows_each_step_back_to_the_one_it_waited_for() {
        let records = a_run();
        let steps: Vec<&Record> = records.iter().filter(|r| r.component != RUN).collect();
        let chain: Vec<String> = critical_chain(&steps)
            .into_iter()
            .map(|i| format!("{} {}", steps[i].component, steps[i].action))
            .collect();
        assert_eq!(
            chain,
            [
                "vpc create",
                "load-balancer create",
                "load-balancer ready",
                "service create",
                "service ready"
            ]
        );
        assert!(critical_chain(&[]).is_empty());
    }

    #[test]
    fn the_picture_has_a_bar_per_step_waits_apart_and_the_chain_marked() {
        let mut records = a_run();
        records[7].component = "dash<board>".into();
        records[7].status = Status::Failed;
        let svg = svg("shop & co", &records);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            7 + 4,
            "a bar per step, and the legend"
        );
        assert!(
            svg.contains("stackctl up of shop &amp; co r1: 160.0 s, 7 steps"),
            "{svg}"
        );
        assert!(svg.contains("dash&lt;board&gt; create"), "{svg}");
        assert_eq!(svg.matches(&format!(r#"fill="{WAIT}""#)).count(), 2 + 1);
        assert_eq!(svg.matches(&format!(r#"fill="{FAILED}""#)).count(), 1 + 1);
        assert_eq!(
            svg.matches(&format!(r#"stroke="{CRITICAL}""#)).count(),
            5 + 1
        );
        assert!(
            svg.contains(">150 s</text>") && !svg.contains(">180 s</text>"),
            "a tick each 30 s"
        );
    }
}
