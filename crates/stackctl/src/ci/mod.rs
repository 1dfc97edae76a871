//! `stackctl ci`: a small pipeline runner. Reads `ci.yml` ([`spec`]) and runs its stages in
//! order ([`runner`]), stopping at the first failure.

pub mod runner;
pub mod spec;

pub use runner::{PipelineResult, RunOptions, StageResult, TIMEOUT_EXIT_CODE, run};
pub use spec::{Pipeline, SpecError, Stage};
