//! Reconciles the AWS resources of one stackctl stack from a declarative `stack.toml`.

pub mod spec;
