//! One module per subcommand; each turns parsed arguments into calls on the libraries.

pub mod ci;
pub mod completions;
