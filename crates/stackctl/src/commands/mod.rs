//! One module per subcommand; each turns parsed arguments into calls on the libraries.

pub mod ci;
pub mod completions;
pub mod down;
pub mod graph;
pub mod history;
pub mod logs;
pub mod ls;
pub mod plan;
pub mod policy;
pub mod record;
pub mod status;
pub mod unlock;
pub mod up;
pub mod validate;
