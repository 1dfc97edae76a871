//! Text renderings of plans, outputs, resources and AWS call counts (pure: strings in, strings
//! out, so they are unit-tested).

use infra::CallCounts;
use infra::outputs::Outputs;
use infra::plan::{Action, Plan, Removal};
use infra::resources::Observed;
use serde::Serialize;

/// An AWS id as people scan it: an ARN without its `arn:partition:service:region:account:`
/// prefix (the stack's heading names the account and region), anything else as is.
pub fn short_id(id: &str) -> &str {
    if id.starts_with("arn:") {
        id.splitn(6, ':').nth(5).unwrap_or(id)
    } else {
        id
    }
}

/// A field's value with every ARN in it shortened as [`short_id`] does (`role/x` for
/// `arn:aws:iam::123456789012:role/x`); the rest as is.
pub fn short_ids(text: &str) -> String {
    text.split(' ')
        .map(|token| {
            let end = token.trim_end_matches([',', ')', ';']);
            let start = end.trim_start_matches('(');
            let lead = &end[..end.len() - start.len()];
            format!("{lead}{}{}", short_id(start), &token[end.len()..])
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The plan, one resource per line with its change and details, then the summary line.
/// Unchanged resources are listed only with `all`.
pub fn plan(plan: &Plan, all: bool) -> String {
    let shown: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| all || c.action() != Action::Unchanged)
        .collect();
    let width = shown.iter().map(|c| c.id.as_str().len()).max().unwrap_or(0);
    let mut out: String = shown.iter().map(|c| change(c, width)).collect();
    out = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let summary = plan.summary();
    let hidden = if all || summary.unchanged == 0 {
        ""
    } else {
        " (`stackctl plan --all` lists the unchanged)"
    };
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&format!("Plan: {summary}.{hidden}"));
    out
}

/// One change: its line (the id padded to `width`), its fields, why, and when the old one goes.
fn change(c: &infra::plan::Change, width: usize) -> String {
    let what = match &c.aws_id() {
        Some(id) => format!("{} {}", c.kind, short_id(id)),
        None => c.kind.to_string(),
    };
    let status = if c.action() == Action::Unchanged {
        "(unchanged)"
    } else {
        ""
    };
    let mut out = format!("{:>3} {:<width$}  {what} {status}\n", c.symbol(), c.id);
    for f in c.fields() {
        out.push_str(&format!(
            "      {}: {} -> {}\n",
            f.field,
            short_ids(&f.from),
            short_ids(&f.to)
        ));
    }
    if let Some(reason) = &c.reason() {
        let (why, then) = match c.action() {
            Action::Replace => ("because ", ""),
            Action::Wait => ("", "; `up` waits for it"),
            _ => ("", ""),
        };
        out.push_str(&format!("      {why}{reason}{then}\n"));
    }
    if let Some(wait) = c.waits_for() {
        out.push_str(&format!("      {wait}\n"));
    }
    match (c.action(), c.removal()) {
        (Action::Replace, Some(Removal::First)) => {
            out.push_str("      deleted first, then created again\n");
        }
        (Action::Replace, Some(Removal::Last)) => out.push_str(
            "      the new one is created first; the old one is deleted once nothing uses it\n",
        ),
        _ => {}
    }
    out
}

/// `name  value` lines, aligned.
pub fn pairs(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("  {k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How wide the text may be: `COLUMNS` when set, else the terminal's width (stdout's, or
/// stderr's when stdout is piped), else 80.
pub fn width() -> usize {
    let terminal = || {
        terminal_size::terminal_size_of(std::io::stdout())
            .or_else(|| terminal_size::terminal_size_of(std::io::stderr()))
            .map(|(w, _)| usize::from(w.0))
    };
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or_else(terminal)
        .unwrap_or(80)
}

/// Observed resources, one row each (ID, KIND, AWS ID, STATE) when that fits in `width`;
/// otherwise each resource on two lines, its AWS id on the second, so no id is ever split.
pub fn resources(observed: &[Observed], width: usize) -> String {
    let mut rows: Vec<[&str; 4]> = observed
        .iter()
        .map(|o| {
            [
                o.id.as_str(),
                o.kind().label(),
                short_id(&o.aws_id),
                o.state.as_str(),
            ]
        })
        .collect();
    rows.sort_by(|a, b| a[0].cmp(b[0]));
    let header = ["ID", "KIND", "AWS ID", "STATE"];
    let widest = |col: usize| {
        rows.iter()
            .chain([&header])
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..4).map(widest).collect();
    let line = |r: &[&str; 4], cols: &[usize]| {
        let cells: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                format!(
                    "{:<width$}",
                    r[c],
                    width = w[c] * usize::from(i + 1 < cols.len())
                )
            })
            .collect();
        format!(" {}", cells.join("  ")).trim_end().to_owned()
    };
    let all = [0, 1, 2, 3];
    if rows
        .iter()
        .chain([&header])
        .all(|r| line(r, &all).chars().count() <= width)
    {
        let mut out = vec![line(&header, &all)];
        out.extend(rows.iter().map(|r| line(r, &all)));
        return out.join("\n");
    }
    // Narrow: ID, KIND and STATE (wrapped at spaces under its column), then the AWS id
    // indented on a line of its own.
    let mut out = vec![line(&["ID", "KIND", "", "STATE"], &[0, 1, 3])];
    let state_at = 1 + w[0] + 2 + w[1] + 2;
    for r in &rows {
        let mut state = wrap(r[3], width.saturating_sub(state_at).max(20)).into_iter();
        let first = state.next().unwrap_or_default();
        out.push(line(&[r[0], r[1], "", &first], &[0, 1, 3]));
        out.extend(state.map(|more| format!("{:state_at$}{more}", "")));
        out.push(format!("     {}", r[2]));
    }
    out.join("\n")
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word alone on
/// its line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().map_or(0, |l| l.chars().count());
        if last > 0 && last + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(line) = lines.last_mut() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// A table with a header, its columns padded; when a row would pass `width`, the columns
/// in `shrink` (in that order) are cut short with `…` down to 12 characters each.
pub fn table(header: &[&str], rows: &[Vec<String>], width: usize, shrink: &[usize]) -> String {
    let count = |t: &str| t.chars().count();
    let mut widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |t| count(t)))
                .chain([count(header[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = |w: &[usize]| 1 + w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    for &c in shrink {
        let over = total(&widths).saturating_sub(width);
        widths[c] = widths[c].saturating_sub(over).max(12.min(widths[c]));
    }
    let cut = |text: &str, w: usize| {
        if count(text) <= w {
            text.to_owned()
        } else {
            let kept: String = text.chars().take(w.saturating_sub(1)).collect();
            format!("{kept}…")
        }
    };
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(t, &w)| format!("{:<w$}", cut(t, w)))
            .collect();
        format!(" {}", padded.join("  ")).trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

/// The outputs a user wants, by name, in the order people read them (a JSON object).
#[derive(Debug, Clone, Default)]
pub struct Named(pub Vec<(&'static str, String)>);

impl Named {
    pub fn of(outputs: &Outputs) -> Self {
        Self(infra::desired::named_outputs(outputs))
    }

    /// `name  value` lines, aligned.
    pub fn text(&self) -> String {
        pairs(&self.0)
    }
}

impl Serialize for Named {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// One note for each kind the stack does not declare that could not be read: what was
/// answered, and what that means for the command (`doing`: "planned", "shown", "deleted").
pub fn unread_notes(unread: &[infra::resources::Unread], doing: &str) -> Vec<String> {
    unread
        .iter()
        .map(|u| {
            format!(
                "{} could not be read ({}). The stack file declares none, so none are {doing}; \
                 any made by an earlier version of this stack are left as they are.",
                u.kind.plural(),
                u.reason
            )
        })
        .collect()
}

/// The warning for each stack made from this stack file under another name.
pub fn renamed_warnings(prepared: &infra::engine::Prepared, region: &str) -> Vec<String> {
    prepared
        .renamed_from
        .iter()
        .map(|old| {
            format!(
                "stack {old} was made from this stack file and still exists (and bills); this \
                 file now names {}, a new stack. Put name = \"{old}\" back to change it instead, \
                 or remove it with `stackctl down --stack-name {old} --region {region}`.",
                prepared.plan.stack
            )
        })
        .collect()
}

/// `AWS calls: N (R reads, M mutating)`, with the reads per resource of a stack of
/// `resources`, and one line per operation.
pub fn calls(counts: &CallCounts, resources: Option<usize>) -> String {
    let per = resources
        .and_then(|n| Some((n, counts.reads_per(n)?)))
        .map_or_else(String::new, |(n, per)| {
            format!("; {per} reads per resource of {n}")
        });
    let mut out = format!(
        "AWS calls: {} ({} reads, {} mutating{per})",
        counts.reads() + counts.mutations(),
        counts.reads(),
        counts.mutations()
    );
    for (op, n) in &counts.0 {
        out.push_str(&format!("\n  {n:>4}  {op}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use infra::change::FieldChange;
    use infra::plan::{Change, Step, Update};
    use infra::resources::{Fields, Kind};

    #[test]
    fn calls_show_reads_per_resource_when_the_stack_has_resources() {
        let mut counts = infra::CallCounts::default();
        counts.0.insert("EC2:DescribeVpcs".into(), 3);
        counts.0.insert("EC2:CreateVpc".into(), 1);
        let shown = super::calls(&counts, Some(2));
        assert!(
            shown.starts_with("AWS calls: 4 (3 reads, 1 mutating; 1.5 reads per resource of 2)"),
            "{shown}"
        );
        assert!(super::calls(&counts, Some(0)).starts_with("AWS calls: 4 (3 reads, 1 mutating)"));
    }

    fn change(id: &str, kind: Kind, step: Step) -> Change {
        Change {
            id: infra::ResourceId::from_tag(id),
            kind,
            step,
        }
    }

    use super::*;

    #[test]
    fn shows_each_change_with_fields_reasons_and_a_summary() {
        let plan = Plan {
            stack: "s".into(),
            changes: vec![
                change("vpc", Kind::Vpc, Step::Create),
                change(
                    "queue",
                    Kind::Queue,
                    Step::Update {
                        aws_id: "https://q".into(),
                        update: Update {
                            fields: Fields::Queue(Vec::new()),
                            tags: Default::default(),
                        },
                        shown: vec![FieldChange::new("visibility_timeout", "30", "60")],
                    },
                ),
                change(
                    "log-group",
                    Kind::LogGroup,
                    Step::Unchanged {
                        aws_id: "/stackctl/s".into(),
                    },
                ),
            ],
        };
        let text = plan_text(&plan);
        assert_eq!(
            text,
            "  + vpc        VPC\n  ~ queue      SQS queue https://q\n      visibility_timeout: 30 -> 60\n    log-group  log group /stackctl/s (unchanged)\n\nPlan: 1 to create, 1 to update, 0 to replace, 0 to delete, 1 unchanged."
        );
    }

    fn plan_text(p: &Plan) -> String {
        super::plan(p, true)
    }

    #[test]
    fn unchanged_resources_are_hidden_unless_asked_for_and_arns_are_short() {
        let tg = |id: &str, step| change(id, Kind::TargetGroup, step);
        let plan = Plan {
            stack: "s".into(),
            changes: vec![
                tg(
                    "target-group",
                    Step::Replace {
                        aws_id:
                            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/s-tg/abc"
                                .into(),
                        reason: "the port changes".into(),
                        removal: Removal::First,
                    },
                ),
                tg("other", Step::Unchanged { aws_id: "x".into() }),
            ],
        };
        let text = super::plan(&plan, false);
        assert!(text.contains("target group targetgroup/s-tg/abc"), "{text}");
        assert!(!text.contains("other"), "{text}");
        assert!(
            text.ends_with("1 unchanged. (`stackctl plan --all` lists the unchanged)"),
            "{text}"
        );
        assert!(super::plan(&plan, true).contains("other"));
        assert_eq!(short_id("vpc-1"), "vpc-1");
        assert_eq!(
            short_ids(
                "app:80 in arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1, (arn:aws:iam::1:role/r)"
            ),
            "app:80 in targetgroup/t/1, (role/r)"
        );
    }

    fn observed(id: &str, aws_id: &str, state: &str) -> Observed {
        infra::contract::Found {
            id: infra::ResourceId::from_tag(id),
            detail: infra::resources::Detail::LogGroup(
                infra::resources::log_group::LogGroupState {
                    retention_days: None,
                },
            ),
            aws_id: aws_id.into(),
            arn: None,
            state: state.into(),
            tags: Default::default(),
        }
    }

    #[test]
    fn resources_fit_the_width_without_splitting_an_id() {
        let long = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/s-alb/a1a03832632bab3f/abe0ac1041d656ee";
        let rows = [
            observed("http-listener", long, "HTTP:80"),
            observed(
                "service",
                "svc",
                "ACTIVE: 1/1 running, 0 pending, rollout COMPLETED",
            ),
        ];
        let wide = resources(&rows, 200);
        assert_eq!(wide.lines().count(), 3, "{wide}");
        for width in [60, 80] {
            let narrow = resources(&rows, width);
            assert!(
                narrow
                    .lines()
                    .all(|l| l.chars().count() <= width || l.trim() == short_id(long)),
                "{narrow}"
            );
            assert!(
                narrow.contains(&format!("     {}", short_id(long))),
                "{narrow}"
            );
            assert!(narrow.contains("rollout COMPLETED"), "{narrow}");
        }
    }

    #[test]
    fn a_table_fits_its_width_by_cutting_the_named_columns() {
        let rows = vec![vec![
            "2026-12-05 10:00:00".to_owned(),
            "service".to_owned(),
            "x".repeat(150),
        ]];
        let wide = table(&["STARTED", "COMPONENT", "VERSION"], &rows, 300, &[2]);
        assert!(wide.contains(&"x".repeat(150)), "{wide}");
        let narrow = table(&["STARTED", "COMPONENT", "VERSION"], &rows, 80, &[2]);
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
        assert!(narrow.ends_with('…'), "{narrow}");
    }

    #[test]
    fn a_replacement_says_whether_the_old_one_goes_first_or_last() {
        let replace = |id: &str, removal| {
            let step = Step::Replace {
                aws_id: "old".into(),
                reason: "the port changes".into(),
                removal,
            };
            change(id, Kind::TargetGroup, step)
        };
        let plan = Plan {
            stack: "s".into(),
            changes: vec![
                replace("target-group", Removal::Last),
                replace("load-balancer", Removal::First),
            ],
        };
        let text = super::plan(&plan, false);
        assert!(text.contains("+/- target-group"), "{text}");
        assert!(text.contains("-/+ load-balancer"), "{text}");
        assert!(
            text.contains("created first; the old one is deleted once nothing uses it"),
            "{text}"
        );
        assert!(text.contains("deleted first, then created again"), "{text}");
    }
}
