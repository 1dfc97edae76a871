//! How a stack file is wrong: every problem with its position, or why it could not be read.

use std::fmt;
use std::path::PathBuf;

/// One problem in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub line: usize,
    pub column: usize,
    /// The dotted key, e.g. `network.cidr`.
    pub key: String,
    pub message: String,
}

/// Every problem found in a stack file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors {
    pub path: PathBuf,
    pub errors: Vec<SpecError>,
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(
            f,
            "{} has {n} problem{}:",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(
                f,
                "  {}:{}:{}: {}: {}",
                self.path.display(),
                e.line,
                e.column,
                e.key,
                e.message
            )?;
            if i + 1 < n {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// Why a stack file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the stack file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] SpecErrors),
}
