//! Text renderings of plans, outputs, resources and AWS call counts (pure: strings in, strings
//! out, so they are unit-tested).

use infra::CallCounts;
use infra::plan::{Action, Plan, Removal};
use infra::resources::Observed;

/// An AWS id as people scan it: an ARN without its `arn:partition:service:region:account:`
/// prefix (the stack's heading names the account and region), anything else as is.
pub fn short_id(id: &str) -> &str {
    if id.starts_with("arn:") {
        id.splitn(6, ':').nth(5).unwrap_or(id)
    } else {
        id
    }
}

/// The plan, one resource per line with its change and details, then the summary line.
/// Unchanged resources are listed only with `all`.
pub fn plan(plan: &Plan, all: bool) -> String {
    let shown: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| all || c.action != Action::Unchanged)
        .collect();
    let width = shown.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in shown {
        let what = match &c.aws_id {
            Some(id) => format!("{} {}", c.kind, short_id(id)),
            None => c.kind.to_string(),
        };
        let status = if c.action == Action::Unchanged {
            "(unchanged)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:>3} {:<width$}  {what} {status}\n",
            c.symbol(),
            c.id,
        ));
        for f in &c.fields {
            out.push_str(&format!("      {}: {} -> {}\n", f.field, f.from, f.to));
        }
        if let Some(reason) = &c.reason {
            let why = if c.action == Action::Replace {
                "because "
            } else {
                ""
            };
            out.push_str(&format!("      {why}{reason}\n"));
        }
        match (c.action, c.removal) {
            (Action::Replace, Some(Removal::First)) => {
                out.push_str("      deleted first, then created again\n");
            }
            (Action::Replace, Some(Removal::Last)) => out.push_str(
                "      the new one is created first; the old one is deleted once nothing uses it\n",
            ),
            _ => {}
        }
    }
    let lines: Vec<String> = out.lines().map(|l| l.trim_end().to_owned()).collect();
    let mut out = lines.join("\n");
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

/// `name  value` lines, aligned.
pub fn pairs(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("  {k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A table of observed resources.
pub fn resources(observed: &[Observed]) -> String {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    // Fits the terminal (long ids wrap in their column) and pads nothing past it.
    table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    table.set_header(["ID", "KIND", "AWS ID", "STATE"]);
    let mut rows: Vec<&Observed> = observed.iter().collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    for o in rows {
        table.add_row([
            o.id.as_str(),
            o.kind().label(),
            short_id(&o.aws_id),
            o.state.as_str(),
        ]);
    }
    let text = table.to_string();
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n")
}

/// `AWS calls: N (R reads, M mutating)` and one line per operation.
pub fn calls(counts: &CallCounts) -> String {
    let mut out = format!(
        "AWS calls: {} ({} reads, {} mutating)",
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
    use infra::plan::Change;
    use infra::resources::Kind;

    use super::*;

    #[test]
    fn shows_each_change_with_fields_reasons_and_a_summary() {
        let plan = Plan {
            stack: "s".into(),
            changes: vec![
                Change {
                    id: "vpc".into(),
                    kind: Kind::Vpc,
                    action: Action::Create,
                    fields: vec![],
                    reason: None,
                    removal: None,
                    aws_id: None,
                    update: None,
                },
                Change {
                    id: "queue".into(),
                    kind: Kind::Queue,
                    action: Action::Update,
                    fields: vec![FieldChange::new("visibility_timeout", "30", "60")],
                    reason: None,
                    removal: None,
                    aws_id: Some("https://q".into()),
                    update: None,
                },
                Change {
                    id: "log-group".into(),
                    kind: Kind::LogGroup,
                    action: Action::Unchanged,
                    fields: vec![],
                    reason: None,
                    removal: None,
                    aws_id: Some("/stackctl/s".into()),
                    update: None,
                },
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
        let change = |id: &str, action, aws_id: &str| Change {
            id: id.into(),
            kind: Kind::TargetGroup,
            action,
            fields: vec![],
            reason: None,
            removal: None,
            aws_id: Some(aws_id.into()),
            update: None,
        };
        let plan = Plan {
            stack: "s".into(),
            changes: vec![
                change(
                    "target-group",
                    Action::Replace,
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/s-tg/abc",
                ),
                change("other", Action::Unchanged, "x"),
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
    }

    #[test]
    fn a_replacement_says_whether_the_old_one_goes_first_or_last() {
        let replace = |id: &str, removal| Change {
            id: id.into(),
            kind: Kind::TargetGroup,
            action: Action::Replace,
            fields: vec![],
            reason: Some("the port changes".into()),
            removal: Some(removal),
            aws_id: Some("old".into()),
            update: None,
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
