//! Integration tests of the `stackctl` binary: one test binary, one module per command.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod ci;
mod critical_path;
mod helpers;
mod image;
mod local;
mod lock;
mod service;
mod stack;
mod validate;
