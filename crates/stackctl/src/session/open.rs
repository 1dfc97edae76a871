//! Connecting: the clients for the stack's region once the credentials answer, where the
//! stack is ([`Where`]) and how the user named it ([`Naming`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use infra::Context;
use serde::Serialize;

use crate::output::Printer;

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

impl Where {
    /// `Stack NAME in REGION (account ACCOUNT)`.
    pub fn heading(&self) -> String {
        format!(
            "Stack {} in {} (account {})",
            self.stack, self.region, self.account
        )
    }

    /// `stackctl ARGS` for this stack, as the user named it.
    pub fn command(&self, args: &str) -> String {
        self.naming.command(args)
    }
}

/// How the user named the stack: repeated in every command a hint gives, so the hint acts on
/// the same stack (`-f examples/…/stack.toml`, or `--stack-name … --region …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Naming {
    File(PathBuf),
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
                if file == Path::new(crate::stack_file::DEFAULT)
                    || file == Path::new("./stack.toml") =>
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

/// A positive number of seconds from the environment variable `name`.
pub fn seconds_from_env(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
}

/// A command's connection to AWS for one stack.
#[derive(Debug)]
pub struct Session {
    pub ctx: Context,
    pub at: Where,
    pub printer: Printer,
}

impl Session {
    /// The clients for the stack's region, after checking the credentials with one call.
    pub async fn open(
        stack: &str,
        region: &str,
        naming: Naming,
        printer: &Printer,
    ) -> anyhow::Result<Self> {
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
        // How long a resource may take to work (a certificate's validation, a load balancer
        // provisioning): 15 minutes on AWS; a test of the deadline waits less.
        if let Some(timeout) = seconds_from_env("STACKCTL_WAIT_TIMEOUT_SECONDS") {
            ctx.settings.wait_timeout = timeout;
        }
        // A model of AWS played faster (the benchmark's) refills AWS's request rates faster.
        if let Some(scale) = std::env::var("STACKCTL_RATE_SCALE")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
        {
            let share = infra::rates::STACKCTL_SHARE;
            ctx.rates = std::sync::Arc::new(infra::rates::Buckets::sharing(scale, share));
        }
        // The error already names the call, the problem and the fix: it is the first line.
        let identity = ctx.identity().await?;
        let at = Where {
            stack: stack.to_owned(),
            region: region.to_owned(),
            account: identity.account,
            caller: identity.arn,
            naming,
        };
        Ok(Self {
            ctx,
            at,
            printer: printer.clone(),
        })
    }

    /// With `-v`, the AWS calls made so far, on stderr.
    pub fn report_calls(&self) {
        self.report_calls_for(None);
    }

    /// With `-v`, the AWS calls made so far and their reads per resource of a stack of
    /// `resources`, on stderr.
    pub fn report_calls_for(&self, resources: Option<usize>) {
        self.printer.calls(&self.ctx.calls.snapshot(), resources);
        let own = self.ctx.lock_and_history_calls.snapshot();
        if !own.0.is_empty() {
            self.printer
                .calls_apart("the stack lock and the deploy history", &own);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
