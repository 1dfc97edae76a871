//! What the AWS commands share: reading the stack file and connecting to AWS.

use anyhow::Context as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

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
    /// The caller's ARN (who takes the stack lock).
    #[serde(skip)]
    pub caller: String,
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

/// The stack's name and region: from `--stack-name`/`--region` when given, else the stack file.
pub fn name_and_region(by: &crate::cli::ByName, file: &Path) -> anyhow::Result<(String, String)> {
    match &by.stack_name {
        Some(name) => Ok((name.clone(), by.region.clone())),
        None => {
            let spec = load(file)?;
            Ok((spec.name, spec.region))
        }
    }
}

/// Decides where each service's image comes from: `--image` (for every service without an
/// image of its own) or `image` as is; else its Dockerfile, relative to the stack file, built
/// with a tag derived from its build context; else no image (and so the service is not
/// deployed yet).
pub fn choose_image(
    spec: &mut StackSpec,
    stack_file: &Path,
    image: Option<&String>,
) -> anyhow::Result<()> {
    if let Some(problem) = image.and_then(|i| infra::spec::check_image(i)) {
        anyhow::bail!("--image {problem}");
    }
    let base = match stack_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    for service in &mut spec.services {
        if service.image.is_none() {
            service.image = image.cloned();
        }
        if service.image.is_some() {
            continue;
        }
        let dockerfile = base.join(&service.dockerfile);
        if !dockerfile.is_file() {
            continue;
        }
        let context = base.join(&service.context);
        let tag = infra::resources::image::content_tag(&context).with_context(|| {
            format!(
                "while reading the build context of service {}",
                service.name
            )
        })?;
        service.build = Some(infra::spec::Build {
            context,
            dockerfile,
            tag,
        });
    }
    Ok(())
}

/// Fails, saying how to get one, when `plan` builds an image and no builder is on the machine;
/// `plan` and `up` both ask, so `plan` never shows what `up` cannot do.
pub async fn can_build(plan: &infra::plan::Plan) -> anyhow::Result<()> {
    let builds = plan
        .changes
        .iter()
        .any(|c| c.kind == infra::resources::Kind::Image && c.action == infra::Action::Create);
    if builds {
        infra::resources::image::Builder::find().await?;
    }
    Ok(())
}

/// A positive number of seconds from the environment variable `name`.
fn seconds_from_env(name: &str) -> Option<std::time::Duration> {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(std::time::Duration::from_secs_f64)
}

/// The clients for the stack's region, after checking the credentials with one call.
pub async fn connect(stack: &str, region: &str) -> anyhow::Result<(Context, Where)> {
    // AWS answers in a second or two; a test that black-holes calls waits less.
    let deadlines = seconds_from_env("STACKCTL_CALL_TIMEOUT_SECONDS").map_or_else(
        infra::context::Deadlines::default,
        infra::context::Deadlines::scaled,
    );
    let mut ctx = Context::load(stack, region, deadlines).await;
    // Built images go to this registry instead of ECR (a local registry, for tests).
    ctx.settings.registry = std::env::var("STACKCTL_REGISTRY")
        .ok()
        .filter(|r| !r.is_empty());
    // Waits look every 5 s on AWS; a scaled model of AWS (tests, benchmarks) looks faster.
    if let Some(every) = seconds_from_env("STACKCTL_POLL_SECONDS") {
        ctx.settings.poll_interval = every;
        ctx.settings.initial_backoff = ctx.settings.initial_backoff.min(every);
        ctx.settings.max_backoff = ctx.settings.max_backoff.min(every);
    }
    // The error already names the call, the problem and the fix: it is the first line shown.
    let identity = ctx.identity().await?;
    let at = Where {
        stack: stack.to_owned(),
        region: region.to_owned(),
        account: identity.account,
        caller: identity.arn,
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

/// Takes the stack's lock for `command`, saying who holds it while waiting for it;
/// `Ok(Err(code))` when the wait was interrupted. `stop` is
/// the run's interrupt flag: it is also set if the lock is lost mid-run.
pub async fn take_lock(
    printer: &Printer,
    ctx: &Context,
    at: &Where,
    command: &str,
    timeout: std::time::Duration,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Result<infra::lock::Lock, ExitCode>> {
    let lease = seconds_from_env("STACKCTL_LOCK_LEASE_SECONDS")
        .map_or(std::time::Duration::from_secs(60), |s| {
            s.max(std::time::Duration::from_secs(1))
        });
    let options = infra::lock::Options {
        lease,
        timeout,
        lost: stop,
    };
    let holder = infra::lock::Holder::me(&at.caller, command);
    let waiting = |other: &infra::lock::Holder| {
        printer.note(&format!(
            "Stack {} is locked by {}; waiting for it (at most {}, --lock-timeout).",
            at.stack,
            infra::lock::describe(other),
            humantime::format_duration(timeout)
        ));
    };
    match infra::lock::Lock::acquire(ctx, holder, &options, &waiting).await {
        Ok(lock) => Ok(Ok(lock)),
        Err(infra::Error::Interrupted) => {
            printer.failure("interrupted while waiting for the stack's lock; nothing was changed");
            Ok(Err(interrupted_exit()))
        }
        Err(err) => Err(err.into()),
    }
}

/// Gives the stack's lock back; a failure to do so only delays the next run by a lease.
pub async fn release(printer: &Printer, lock: infra::lock::Lock) {
    if let Err(err) = lock.release().await {
        printer.note(&format!(
            "warning: the stack's lock could not be released ({}); the next run waits until its lease runs out",
            infra::error_chain(&err)
        ));
    }
}

/// The error when another run took the stack's lock over mid-run.
pub fn lock_lost(command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the stack's lock was lost: this run could not renew its lease and another run took the \
         lock over, so nothing new was started (what was done stays done); run `stackctl \
         {command}` again once the other run has finished"
    )
}

/// Exit codes after an interrupt, as shells report them: 128 + the signal's number.
const SIGINT_EXIT: u8 = 130;
const SIGTERM_EXIT: u8 = 143;

/// The exit code of the signal that interrupted the run (Ctrl-C unless it was SIGTERM).
static INTERRUPTED_BY: AtomicU8 = AtomicU8::new(SIGINT_EXIT);

/// The exit code for a run that was interrupted: 130 after Ctrl-C, 143 after SIGTERM.
pub fn interrupted_exit() -> ExitCode {
    ExitCode::from(INTERRUPTED_BY.load(Ordering::SeqCst))
}

/// The first Ctrl-C (or SIGTERM, as CI systems send) while changes are applied: finish the
/// changes under way, stop waiting, start nothing new. The second quits at once.
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
            let code = tokio::select! {
                _ = tokio::signal::ctrl_c() => SIGINT_EXIT,
                _ = terminate.recv() => SIGTERM_EXIT,
            };
            INTERRUPTED_BY.store(code, Ordering::SeqCst);
            if seen.swap(true, Ordering::SeqCst) {
                printer.note("Interrupted again: quitting now. Run the command again to finish; it picks up what exists.");
                std::process::exit(i32::from(code));
            }
            printer.note("Interrupt received: finishing the changes under way, no more waiting, starting nothing new (press Ctrl-C again to quit at once).");
        }
    });
    flag
}

/// Where a stack file is, the same from every clone of its repository: the git remote
/// `origin` and the file's path in the repository, or else its absolute path. It is tagged on
/// the stack's VPC, so a stack file whose name changes can name the stack it used to make.
pub fn source_of(file: &Path) -> Option<String> {
    let file = std::fs::canonicalize(file).ok()?;
    let dir = file.parent()?;
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let name = file.file_name()?.to_string_lossy();
    let source = match (
        git(&["remote", "get-url", "origin"]),
        git(&["rev-parse", "--show-prefix"]),
    ) {
        (Some(remote), Some(prefix)) if !remote.is_empty() => format!("{remote}#{prefix}{name}"),
        _ => file.display().to_string(),
    };
    // EC2 tag values hold 256 characters; the end of a path tells files apart best.
    let chars: Vec<char> = source.chars().collect();
    Some(chars[chars.len().saturating_sub(256)..].iter().collect())
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
