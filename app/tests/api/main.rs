//! The service's tests: in-process router tests, and the real service against the emulator.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod even_sum;
mod helpers;
mod jobs;
mod jobs_aws;
mod message;
mod modes;
mod openapi;
mod router;
mod shutdown;
