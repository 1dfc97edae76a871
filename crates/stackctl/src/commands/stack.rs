//! What the AWS commands share: reading the stack file and connecting to AWS.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use infra::outputs::Outputs;
use infra::{Context, StackSpec};
use serde::Serialize;

use crate::output::Printer;
use crate::render;

/// Which stack a report is about, and where: the first fields of every JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Where {
    pub stack: String,
    pub region: String,
    pub account: String,
}

impl Where {
    /// `Stack NAME in REGION (account ACCOUNT)`.
    pub fn heading(&self) -> String {
        format!(
            "Stack {} in {} (account {})",
            self.stack, self.region, self.account
        )
    }
}

/// Reads and validates the stack file; every problem is in the error.
pub fn load(path: &Path) -> anyhow::Result<StackSpec> {
    match StackSpec::load(path) {
        Ok(spec) => Ok(spec),
        Err(infra::spec::LoadError::Read { path, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::bail!(
                "no stack file at {}: run stackctl where your stack.toml is, or pass -f PATH",
                path.display()
            )
        }
        Err(err) => Err(err.into()),
    }
}

/// Decides where the service's image comes from: `--image` or `service.image` as is; else the
/// Dockerfile next to the stack file, built with a tag derived from the working tree; else
/// no image (and so no load balancer and service yet).
pub fn choose_image(
    spec: &mut StackSpec,
    stack_file: &Path,
    image: Option<&String>,
) -> anyhow::Result<()> {
    if let Some(image) = image {
        spec.service.image = Some(image.clone());
    }
    if spec.service.image.is_some() {
        return Ok(());
    }
    let base = match stack_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let dockerfile = base.join(&spec.service.dockerfile);
    if !dockerfile.is_file() {
        return Ok(());
    }
    let tag = infra::resources::image::content_tag(&base)?;
    spec.service.build = Some(infra::spec::Build {
        context: base,
        dockerfile,
        tag,
    });
    Ok(())
}

/// The clients for the stack's region, after checking the credentials with one call.
pub async fn connect(stack: &str, region: &str) -> anyhow::Result<(Context, Where)> {
    let mut ctx = Context::load(stack, region).await;
    // Built images go to this registry instead of ECR (a local registry, for tests).
    ctx.settings.registry = std::env::var("STACKCTL_REGISTRY")
        .ok()
        .filter(|r| !r.is_empty());
    // Waits look every 5 s on AWS; a scaled model of AWS (tests, benchmarks) looks faster.
    if let Some(secs) = std::env::var("STACKCTL_POLL_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
    {
        let every = std::time::Duration::from_secs_f64(secs);
        ctx.settings.poll_interval = every;
        ctx.settings.initial_backoff = ctx.settings.initial_backoff.min(every);
        ctx.settings.max_backoff = ctx.settings.max_backoff.min(every);
    }
    // The error already names the call, the problem and the fix: it is the first line shown.
    let account = ctx.account().await?;
    let at = Where {
        stack: stack.to_owned(),
        region: region.to_owned(),
        account,
    };
    Ok((ctx, at))
}

/// With `-v`, the AWS calls made, on stderr.
pub fn report_calls(printer: &Printer, ctx: &Context, verbose: bool) {
    if verbose {
        printer.note(&render::calls(&ctx.calls.snapshot()));
    }
}

/// The outputs a user wants, by name, in the order people read them (a JSON object).
#[derive(Debug, Clone, Default)]
pub struct Named(pub Vec<(&'static str, String)>);

impl Named {
    pub fn of(outputs: &Outputs) -> Self {
        Self(infra::stack::named_outputs(outputs))
    }

    /// `name  value` lines, aligned.
    pub fn text(&self) -> String {
        render::pairs(&self.0)
    }
}

impl Serialize for Named {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Exit code after an interrupt, as shells report Ctrl-C.
pub const INTERRUPTED_EXIT: u8 = 130;

/// The first Ctrl-C (or SIGTERM, as CI systems send) while changes are applied: finish the
/// changes under way, so no resource is left half-made, and start nothing new. A second one
/// quits at once.
pub fn interrupt_flag(printer: &Printer) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let printer = printer.clone();
    tokio::spawn(async move {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            if seen.swap(true, Ordering::SeqCst) {
                printer.note("Interrupted again: quitting now. Run the command again to finish; it picks up what exists.");
                std::process::exit(i32::from(INTERRUPTED_EXIT));
            }
            printer.note("Interrupt received: finishing the changes under way and starting nothing new (press Ctrl-C again to quit at once).");
        }
    });
    flag
}
