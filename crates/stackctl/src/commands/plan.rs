//! `stackctl plan`: what `up` would change, and nothing else.

use std::path::Path;
use std::process::ExitCode;

use infra::CallCounts;
use infra::engine;
use infra::plan::{Change, Plan, Summary};
use serde::Serialize;

use crate::cli::PlanArgs;
use crate::images::{can_build, choose_image, image_notes, require_images};
use crate::output::{Printer, Report};
use crate::render;
use crate::render::renamed_warnings;
use crate::session::{Naming, Session, Where};
use crate::stack_file;

/// `plan --json`: every resource's change and the totals.
#[derive(Debug, Serialize)]
pub struct PlanReport<'a> {
    #[serde(flatten)]
    pub at: &'a Where,
    pub changes: &'a [Change],
    pub summary: Summary,
    pub aws_calls: CallCounts,
    /// Stacks this file made under another name, still standing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What the plan leaves alone on purpose: images kept, task counts the autoscaler set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// List unchanged resources in the text too.
    #[serde(skip)]
    pub all: bool,
}

impl<'a> PlanReport<'a> {
    pub fn new(at: &'a Where, plan: &'a Plan, aws_calls: CallCounts) -> Self {
        Self {
            at,
            changes: &plan.changes,
            summary: plan.summary(),
            aws_calls,
            warnings: Vec::new(),
            notes: Vec::new(),
            all: false,
        }
    }
}

impl Report for PlanReport<'_> {
    fn text(&self) -> String {
        let plan = Plan {
            stack: self.at.stack.clone(),
            changes: self.changes.to_vec(),
        };
        let mut text = format!("{}\n\n{}", self.at.heading(), render::plan(&plan, self.all));
        for note in &self.notes {
            text.push_str(&format!("\nnote: {note}"));
        }
        text
    }
}

/// The autoscaled services whose task count differs from `desired_count`: not drift, and not
/// changed; a count outside new bounds is brought inside them by Application Auto Scaling.
pub fn autoscaled(prepared: &engine::Prepared, spec: &infra::StackSpec) -> Vec<String> {
    use infra::resources::{Detail, Spec};
    prepared
        .desired
        .iter()
        .filter_map(|d| {
            let Spec::Service(want) = &d.spec else {
                return None;
            };
            let found = prepared.observed.iter().find(|o| o.id == d.id)?;
            let Detail::Service(state) = &found.detail else {
                return None;
            };
            let now = u32::try_from(state.desired_count).ok()?;
            let bounds = spec
                .services
                .iter()
                .find(|s| infra::id::ServiceIds::named(&s.name).service == d.id)
                .and_then(|s| s.autoscaling.as_ref());
            let id = &d.id;
            match bounds {
                _ if !want.autoscaled => None,
                Some(a) if now < a.min => Some(format!(
                    "{id} runs {now} task(s), below its autoscaling minimum of {}: Application \
                     Auto Scaling raises it to {} once the new bounds are set",
                    a.min, a.min
                )),
                Some(a) if now > a.max => Some(format!(
                    "{id} runs {now} task(s), above its autoscaling maximum of {}: Application \
                     Auto Scaling lowers it to {} once the new bounds are set",
                    a.max, a.max
                )),
                _ if now != want.desired_count => Some(format!(
                    "{id} runs {now} task(s), as its autoscaling set; desired_count ({}) only \
                     starts it, so the plan leaves the count alone",
                    want.desired_count
                )),
                _ => None,
            }
        })
        .collect()
}

pub async fn run(args: &PlanArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut spec = stack_file::load(file)?;
    choose_image(&mut spec, file, args.image.as_ref())?;
    let naming = Naming::File(file.to_owned());
    let mut session = Session::open(&spec.name, &spec.region, naming, printer).await?;
    session.ctx.settings.source = stack_file::source_of(file);
    let prepared = engine::prepare(&session.ctx, &spec)
        .await
        .map_err(|e| stack_file::reading_state(e, file))?;
    let plan = &prepared.plan;
    let warnings = renamed_warnings(&prepared, &spec.region);
    for warning in &warnings {
        printer.note(&format!("warning: {warning}"));
    }
    let mut notes = image_notes(&prepared, args.infra_only);
    notes.extend(autoscaled(&prepared, &spec));
    notes.extend(render::unread_notes(&prepared.unread, "planned"));
    printer.report(&PlanReport {
        all: args.all,
        warnings,
        notes,
        ..PlanReport::new(&session.at, plan, session.ctx.calls.snapshot())
    });
    session.report_calls_for(Some(plan.changes.len()));
    // `up` would stop here: the plan is not one it can carry out.
    require_images(&spec, file, &prepared, args.infra_only)?;
    can_build(plan).await?;
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
