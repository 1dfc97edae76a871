//! Flags several commands share.

use clap::Args;

/// A stack named on the command line, for the commands that need no stack file.
#[derive(Debug, Clone, Args)]
pub struct ByName {
    /// The stack, by name instead of reading the stack file.
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// The region, with --stack-name.
    #[arg(
        long,
        value_name = "REGION",
        default_value = "us-east-1",
        requires = "stack_name"
    )]
    pub region: String,
}
