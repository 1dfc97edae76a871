//! Text renderings of plans, outputs, resources and AWS call counts (pure: strings in, strings
//! out, so they are unit-tested).

use infra::CallCounts;
use infra::plan::{Action, Plan};
use infra::resources::Observed;

/// The plan, one resource per line with its change and details, then the summary line.
pub fn plan(plan: &Plan) -> String {
    let width = plan.changes.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in &plan.changes {
        let what = match &c.aws_id {
            Some(id) => format!("{} {id}", c.kind),
            None => c.kind.to_string(),
        };
        let status = if c.action == Action::Unchanged {
            "(unchanged)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:>3} {:<width$}  {what} {status}\n",
            c.action.symbol(),
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
    }
    let lines: Vec<String> = out.lines().map(|l| l.trim_end().to_owned()).collect();
    let mut out = lines.join("\n");
    out.push_str(&format!("\n\nPlan: {}.", plan.summary()));
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
    table.set_header(["ID", "KIND", "AWS ID", "STATE"]);
    let mut rows: Vec<&Observed> = observed.iter().collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    for o in rows {
        table.add_row([
            o.id.as_str(),
            o.kind().label(),
            o.aws_id.as_str(),
            o.state.as_str(),
        ]);
    }
    table.to_string()
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
                    aws_id: None,
                    update: None,
                },
                Change {
                    id: "queue".into(),
                    kind: Kind::Queue,
                    action: Action::Update,
                    fields: vec![FieldChange::new("visibility_timeout", "30", "60")],
                    reason: None,
                    aws_id: Some("https://q".into()),
                    update: None,
                },
                Change {
                    id: "log-group".into(),
                    kind: Kind::LogGroup,
                    action: Action::Unchanged,
                    fields: vec![],
                    reason: None,
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
        super::plan(p)
    }
}
