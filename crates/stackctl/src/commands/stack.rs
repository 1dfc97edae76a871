//! What the AWS commands share: reading the stack file and connecting to AWS.

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
    /// How the command line named the stack, for the commands a hint gives.
    #[serde(skip)]
    pub naming: Naming,
}

/// How the user named the stack: repeated in every command a hint gives, so the hint acts on
/// the same stack (`-f examples/…/stack.toml`, or `--stack-name … --region …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Naming {
    File(std::path::PathBuf),
    Name { stack: String, region: String },
}

impl Naming {
    /// The stack file, unless `--stack-name` names the stack.
    pub fn of(by: &crate::cli::ByName, file: &Path) -> Self {
        match &by.stack_name {
            Some(stack) => Self::Name {
                stack: stack.clone(),
                region: by.region.clone(),
            },
            None => Self::File(file.to_path_buf()),
        }
    }

    /// `stackctl ARGS` for this stack: with `-f FILE` unless it is `./stack.toml`.
    pub fn command(&self, args: &str) -> String {
        match self {
            Self::File(file)
                if file == Path::new("stack.toml") || file == Path::new("./stack.toml") =>
            {
                format!("stackctl {args}")
            }
            Self::File(file) => format!("stackctl {args} -f {}", file.display()),
            Self::Name { stack, region } => {
                format!("stackctl {args} --stack-name {stack} --region {region}")
            }
        }
    }
}

impl Where {
    /// `stackctl ARGS` for this stack, as the user named it.
    pub fn command(&self, args: &str) -> String {
        self.naming.command(args)
    }

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
        Err(infra::stack_file::LoadError::Read { path, source })
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

/// A positive number of seconds from the environment variable `name`.
fn seconds_from_env(name: &str) -> Option<std::time::Duration> {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(std::time::Duration::from_secs_f64)
}

/// The clients for the stack's region, after checking the credentials with one call.
pub async fn connect(
    stack: &str,
    region: &str,
    naming: Naming,
) -> anyhow::Result<(Context, Where)> {
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
        naming,
    };
    Ok((ctx, at))
}

/// With `-v`, the AWS calls made, on stderr.
pub fn report_calls(printer: &Printer, ctx: &Context) {
    printer.calls(&ctx.calls.snapshot());
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
        Err(err @ infra::Error::Locked { .. }) => Err(anyhow::Error::new(err).context(format!(
            "nothing was changed: wait for the other run, or pass a longer --lock-timeout; if \
             it is gone for good, `{}` removes its lock",
            at.command("unlock")
        ))),
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
pub fn lock_lost(at: &Where, command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the stack's lock was lost: this run could not renew its lease and another run took the \
         lock over, so nothing new was started (what was done stays done); run `{}` again once \
         the other run has finished",
        at.command(command)
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

/// What the first interrupt is answered with: how to quit at once depends on how it came.
fn interrupt_note(code: u8) -> &'static str {
    if code == SIGTERM_EXIT {
        "Terminated (SIGTERM): finishing the changes under way, no more waiting, starting \
         nothing new (a second SIGTERM quits at once)."
    } else {
        "Interrupt received: finishing the changes under way, no more waiting, starting nothing \
         new (press Ctrl-C again to quit at once)."
    }
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
            printer.note(interrupt_note(code));
        }
    });
    flag
}

/// Which stack file a stack is made from, tagged on its VPC (`stackctl:source`) so that a
/// file whose stack name changes can name the stack it used to make. It never carries a local
/// path or a secret: in a git repository with an `origin`, the remote's URL (without any
/// user or password in it) and the file's path in the repository, the same from every clone;
/// otherwise `sha256:` and a hash of this machine's name and the file's absolute path.
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
        (Some(remote), Some(prefix)) if !remote.is_empty() => {
            format!("{}#{prefix}{name}", without_userinfo(&remote))
        }
        _ => {
            use sha2::Digest as _;
            let host = nix::unistd::gethostname().unwrap_or_default();
            let mut hash = sha2::Sha256::new();
            hash.update(host.as_encoded_bytes());
            hash.update([0]);
            hash.update(file.as_os_str().as_encoded_bytes());
            let hex: String = hash
                .finalize()
                .iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256:{hex}")
        }
    };
    // EC2 tag values hold 256 characters; the end of a path tells files apart best.
    let chars: Vec<char> = source.chars().collect();
    Some(chars[chars.len().saturating_sub(256)..].iter().collect())
}

/// A remote's URL without the `user:password@` an HTTPS remote may carry.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            format!("{scheme}://{host}/{path}")
        }
        None => url.to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_tag_carries_no_password_and_no_local_path() {
        assert_eq!(
            without_userinfo("https://bob:ghp_secret@github.com/acme/shop.git"),
            "https://github.com/acme/shop.git"
        );
        assert_eq!(
            without_userinfo("git@github.com:acme/shop.git"),
            "git@github.com:acme/shop.git"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stack.toml");
        std::fs::write(&file, "").unwrap();
        let source = source_of(&file).unwrap();
        assert!(source.starts_with("sha256:"), "{source}");
        assert!(!source.contains(&*dir.path().to_string_lossy()), "{source}");
        assert_eq!(
            source_of(&file),
            Some(source),
            "the same file, the same tag"
        );
    }

    #[test]
    fn a_sigterm_is_not_told_to_press_ctrl_c() {
        assert!(interrupt_note(SIGTERM_EXIT).contains("a second SIGTERM quits"));
        assert!(!interrupt_note(SIGTERM_EXIT).contains("Ctrl-C"));
        assert!(interrupt_note(SIGINT_EXIT).contains("Ctrl-C again"));
    }

    #[test]
    fn hints_repeat_how_the_stack_was_named() {
        let here = Naming::File("stack.toml".into());
        assert_eq!(here.command("up"), "stackctl up");
        let there = Naming::File("examples/shop/stack.toml".into());
        assert_eq!(
            there.command("down --local --yes"),
            "stackctl down --local --yes -f examples/shop/stack.toml"
        );
        let named = Naming::Name {
            stack: "shop".into(),
            region: "eu-west-1".into(),
        };
        assert_eq!(
            named.command("unlock"),
            "stackctl unlock --stack-name shop --region eu-west-1"
        );
    }
}
