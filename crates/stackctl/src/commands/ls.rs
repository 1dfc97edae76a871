//! `stackctl ls`: every stack in the region, with its resource count and what it costs a month
//! while it stands, so nothing forgotten keeps billing.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use infra::inventory::StackSummary;
use serde::Serialize;

use crate::cli::LsArgs;
use crate::output::{Printer, Report};
use crate::session::{Naming, Session};

#[derive(Debug, Serialize)]
struct Listing {
    region: String,
    account: String,
    /// The stack of the stack file here, if there is one.
    here: Option<String>,
    stacks: Vec<StackSummary>,
    monthly_usd: f64,
}

impl Report for Listing {
    fn text(&self) -> String {
        if self.stacks.is_empty() {
            return format!("No stacks in {} (account {}).", self.region, self.account);
        }
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::NOTHING);
        table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        table.set_header(["STACK", "RESOURCES", "USD/MONTH", ""]);
        for s in &self.stacks {
            let here = if self.here.as_deref() == Some(s.stack.as_str()) {
                "(this directory)"
            } else {
                ""
            };
            let (resources, cost, note) = match &s.error {
                None => (
                    s.resources.to_string(),
                    format!("{:.2}", s.cost.monthly_usd),
                    here.to_owned(),
                ),
                Some(err) => ("?".into(), "?".into(), format!("could not be read: {err}")),
            };
            table.add_row([s.stack.clone(), resources, cost, note]);
        }
        let lines: Vec<String> = table
            .to_string()
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect();
        format!(
            "Stacks in {} (account {}):\n{}\n\nAbout {:.2} USD a month while they stand: load \
             balancers, NAT gateways, Fargate tasks and\npublic IPv4 addresses at us-east-1 list \
             prices; requests, data and storage are extra.",
            self.region,
            self.account,
            lines.join("\n"),
            self.monthly_usd
        )
    }
}

pub async fn run(args: &LsArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    // The stack file, when there is one, gives the region and the stack to mark.
    let spec = infra::StackSpec::load(file).ok();
    let region = args
        .region
        .clone()
        .or_else(|| spec.as_ref().map(|s| s.region.clone()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    let naming = Naming::Name {
        stack: String::new(),
        region: region.clone(),
    };
    let session = Session::open("", &region, naming, printer).await?;
    let (ctx, account) = (&session.ctx, session.at.account.clone());
    let stacks = infra::inventory::all(ctx)
        .await
        .context("while listing the stacks")?;
    let monthly_usd =
        (stacks.iter().map(|s| s.cost.monthly_usd).sum::<f64>() * 100.0).round() / 100.0;
    printer.report(&Listing {
        region,
        account,
        here: spec.map(|s| s.name),
        stacks,
        monthly_usd,
    });
    session.report_calls();
    Ok(ExitCode::SUCCESS)
}
