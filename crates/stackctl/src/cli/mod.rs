//! Command-line interface: global flags and one enum of subcommands (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

mod operate;
mod shared;
use operate::{HISTORY_HELP, LOGS_HELP};
pub use operate::{HistoryAction, HistoryArgs, HistoryFormat, LogsArgs, RecordArgs};
pub use shared::ByName;

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    failure, an invalid stack file included (the error says what and where)
  2    usage error (an unknown flag or argument); `plan --detailed-exitcode`: changes
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM)";

/// Declarative AWS provisioner for a containerised service.
#[derive(Debug, Parser)]
#[command(name = "stackctl", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, before or after its name.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The file the command reads: the stack file (default: stack.toml here), or for `ci`
    /// the pipeline (default: ci.yml here).
    #[arg(short = 'f', long = "file", global = true, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Print one machine-readable JSON document on stdout, errors included (progress, if any,
    /// goes to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Also print the AWS calls made, by operation (and, for plan, up and down, the reads per
    /// resource), on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Cli {
    /// How the command writes its result: JSON when it was asked for.
    pub fn format(&self) -> Format {
        let history_json =
            matches!(&self.command, Command::History(a) if a.format == Some(HistoryFormat::Json));
        if self.global.json || history_json {
            Format::Json
        } else {
            Format::Text
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check stack.toml without calling AWS: every problem, with file:line:col.
    #[command(
        after_help = "Example:\n  stackctl validate -f stack.toml\n\nExit codes: 0 valid, 1 invalid."
    )]
    Validate(ValidateArgs),
    /// Show what `up` would change, without changing anything.
    #[command(after_help = PLAN_HELP)]
    Plan(PlanArgs),
    /// Create or update the stack's AWS resources to match stack.toml.
    #[command(after_help = UP_HELP)]
    Up(UpArgs),
    /// Delete every AWS resource tagged with the stack.
    #[command(after_help = DOWN_HELP)]
    Down(DownArgs),
    /// List the stack's resources, their state, and its outputs.
    #[command(
        after_help = "Examples:\n  stackctl status\n  stackctl status --json | jq .outputs.queue_url"
    )]
    Status(StatusArgs),
    /// List every stack in the region, with its resource count and monthly cost.
    #[command(after_help = LS_HELP)]
    Ls(LsArgs),
    /// Show the stack's CloudWatch log events: newest last, one line each.
    #[command(after_help = LOGS_HELP)]
    Logs(LogsArgs),
    /// Show what each `up` and `down` (and any pipeline) did, step by step, with a summary
    /// per run; `history record` adds a pipeline's step.
    #[command(after_help = HISTORY_HELP, args_conflicts_with_subcommands = true)]
    History(Box<HistoryArgs>),
    /// Remove the stack's lock when the run that held it is gone for good.
    #[command(after_help = UNLOCK_HELP)]
    Unlock(UnlockArgs),
    /// Run the stages of a ci.yml in order, stopping at the first failure.
    #[command(after_help = CI_HELP)]
    Ci(CiArgs),
    /// Print the IAM policy that lets a principal run stackctl on this stack, and no more.
    #[command(after_help = POLICY_HELP)]
    Policy(PolicyArgs),
    /// Draw what the stack file makes: its resources by layer, what each needs, and the
    /// critical path of `up`; no AWS call.
    #[command(after_help = GRAPH_HELP)]
    Graph(GraphArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  stackctl completions bash > ~/.local/share/bash-completion/completions/stackctl"
    )]
    Completions(CompletionsArgs),
    /// The local router of `up --local` (started by it; not for use by hand).
    #[command(hide = true)]
    LocalRouter(LocalRouterArgs),
}

#[derive(Debug, clap::Args)]
pub struct LocalRouterArgs {
    /// The routes file `up --local` wrote.
    #[arg(long, value_name = "PATH")]
    pub routes: std::path::PathBuf,
}

const PLAN_HELP: &str = "\
Each resource is shown with its change: + create, ~ update (with the changed fields),
-/+ replace (with the reason), - delete, or unchanged.

Examples:
  stackctl plan
  stackctl plan -f prod.toml --detailed-exitcode
  stackctl plan --json

Exit codes (with --detailed-exitcode): 0 no changes, 2 changes, 1 error.
Without it: 0 success, 1 error.";

const UP_HELP: &str = "\
Shows the plan, asks before deleting or replacing anything (unless --yes), then applies it
with progress per resource, and prints the outputs. Safe to run again: a second `up` with
nothing changed makes no changes at all.

Each service's image is service.image, else --image, else its Dockerfile (built and pushed to
the stack's registry). A service that runs and is given none of them keeps the image it runs;
one that does not run yet is an error before any change (--infra-only makes the rest of the
stack first). `up` waits until every service runs its new deployment (and one an earlier run
left unfinished), failing fast with the reason if the circuit breaker rolls it back or tasks
stop.

Examples:
  stackctl up
  stackctl up -f prod.toml --yes
  stackctl up --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/messages:1.4.2
  stackctl up --infra-only   # the network, queues and registry first; push an image, then `up`
  stackctl up -v          # also print the AWS calls made, by operation
  stackctl up --local     # on the emulator: also run the service here, as the task definition says";

const DOWN_HELP: &str = "\
Deletes everything tagged stackctl:stack=<name>, dependents first, then checks that nothing
tagged with the stack remains. Asks first unless --yes; refuses without --yes when stdin is
not a terminal. Safe to run twice.

Examples:
  stackctl down
  stackctl down --yes
  stackctl down --stack-name messages --region us-east-1 --yes   # without a stack file
  stackctl down --local --yes   # also stop the service `up --local` started
  stackctl down --keep-history --yes   # `stackctl history` still answers afterwards";

const UNLOCK_HELP: &str = "\
`up` and `down` hold the stack's lock while they change it, renewing its lease every 20 s;
a run that dies holding it blocks others for at most one lease (60 s). Remove a lock by hand
only when the run that holds it is gone: two runs changing one stack at once can make
duplicates. Shows who holds it and asks first (unless --yes).

Examples:
  stackctl unlock
  stackctl unlock --stack-name messages --region eu-west-1 --yes";

const CI_HELP: &str = "\
Each stage's command runs through `sh -c` in the directory of the file, with stdin closed.
`sh` globs are not recursive: `**` matches one directory level (use
`bash -O globstar -c '...'` or `find` for a recursive match).

Example ci.yml:
  stages:
    - name: \"Lint\"
      command: \"cargo clippy -- -D warnings\"
    - name: \"Unit tests\"
      command: \"cargo test\"
      timeout: 10m          # optional: 90s, 10m, 1h 30m, or seconds
      env:                  # optional: added to the environment
        RUST_BACKTRACE: 1

Examples:
  stackctl ci
  stackctl ci --file ci/nightly.yml --timings
  stackctl ci --list

Exit codes:
  0    every stage succeeded
  N    the failing stage's exit code (1 if a signal killed it)
  124  a stage ran over its timeout
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM)
  2    the file is missing or invalid (no stage runs)";

/// The stack lock, for the commands that change a stack.
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// How long to wait while another run holds the stack's lock (0s: refuse at once).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {}

const GRAPH_HELP: &str = "\
An arrow goes from each resource to those made after it (what it refers to, or waits for).
Resources are grouped by layer: network, data, edge, compute, monitoring. The critical path of
`up` (the chain that sets how long `up` takes at AWS's pace, by stackctl's timing model) is
drawn in orange. Mermaid renders on GitHub and in many editors, DOT with Graphviz; SVG is
drawn by stackctl itself.

Examples:
  stackctl graph                          # Mermaid text on stdout
  stackctl graph --format svg -o stack.svg
  stackctl graph -f examples/even-sum/stack.toml --format dot | dot -Tpng > stack.png

Exit codes: 0 drawn, 1 invalid stack file (file:line:col) or a file that cannot be written.";

/// How `graph` writes the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart text.
    Mermaid,
    /// Graphviz DOT text.
    Dot,
    /// An SVG picture.
    Svg,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// How to write it.
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
    /// Write it to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The commands to allow (comma-separated or repeated).
    #[arg(
        long = "for",
        value_name = "COMMAND",
        value_enum,
        value_delimiter = ',',
        default_value = "all"
    )]
    pub commands: Vec<PolicyFor>,
}

/// What `stackctl policy --for` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFor {
    Plan,
    Status,
    Up,
    Down,
    Logs,
    History,
    /// Every command above.
    All,
}

const POLICY_HELP: &str = "\
Prints an IAM policy document (JSON) made from stack.toml, without calling AWS: the actions
of the resource kinds the stack declares, what `up` and `down` need to find and remove what
an earlier file made, the stack lock and the deploy history. Resources are narrowed to the
stack's names and to its `stackctl:stack` tag; iam:PassRole only for its roles, to ECS tasks.
See docs/permissions.md.

Examples:
  stackctl policy > stackctl-policy.json
  stackctl policy --for plan,status
  aws iam put-user-policy --user-name deployer --policy-name stackctl-demo \\
      --policy-document \"$(stackctl policy)\"";

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan for this prebuilt image (overrides service.image), as `up --image` would.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// List the unchanged resources too.
    #[arg(long)]
    pub all: bool,
    /// Plan everything but the services that have no image yet, as `up --infra-only` would.
    #[arg(long)]
    pub infra_only: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub lock: LockArgs,
    /// Do not ask before deleting or replacing resources.
    #[arg(short, long)]
    pub yes: bool,
    /// Deploy this prebuilt image (overrides service.image).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Make everything but the services that have no image yet (the network, queues, roles,
    /// and the registry to push an image to); services that run keep running.
    #[arg(long)]
    pub infra_only: bool,
    /// Do not wait for the service's deployment to finish.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the deployment, in seconds (overrides service.wait_timeout_secs).
    #[arg(long, value_name = "SECS")]
    pub wait_timeout: Option<u64>,
    /// Also run the service on this machine as the task definition describes it (same
    /// environment, queue and port), against the local emulator, in place of Fargate.
    #[arg(long)]
    pub local: bool,
    /// With --local: the service binary (default: `app` next to this stackctl).
    #[arg(long, value_name = "PATH", requires = "local")]
    pub app_bin: Option<std::path::PathBuf>,
    /// Stop after N resource changes (to rehearse an interrupted run; the next `up` finishes).
    #[arg(long, value_name = "N", hide = true)]
    pub stop_after: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub lock: LockArgs,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Also stop the service that `up --local` started on this machine.
    #[arg(long)]
    pub local: bool,
    /// Keep the stack's deploy history (`stackctl history`) after the stack is gone.
    #[arg(long)]
    pub keep_history: bool,
    #[command(flatten)]
    pub by_name: ByName,
}

const LS_HELP: &str =
    "Stacks are found by the stackctl:stack tag on their EC2 resources; each is then
read as `down` would find it. The cost counts what bills by the hour while a stack stands
(load balancer, NAT gateway, Fargate tasks, public IPv4 addresses) at us-east-1 list
prices; requests, data and storage are extra.

Examples:
  stackctl ls
  stackctl ls --region eu-west-1 --json";

#[derive(Debug, Args)]
pub struct LsArgs {
    /// The region to list (default: the stack file's, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    #[command(flatten)]
    pub by_name: ByName,
}

#[derive(Debug, Args)]
pub struct StatusArgs {}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// Print the stages without running them.
    #[arg(long)]
    pub list: bool,
    /// Print each stage's duration after its result.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
