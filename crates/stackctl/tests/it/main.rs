//! Integration tests of the `stackctl` binary: one test binary, one module per command.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod alarms;
mod autoscaling;
mod buckets;
mod ci;
mod crash;
mod critical_path;
mod domain;
mod even_sum;
mod faults;
mod graph;
mod helpers;
mod iam;
mod image;
mod local;
mod lock;
mod operate;
mod replace;
mod scale;
mod service;
mod several;
mod soak;
mod stack;
mod unread;
mod validate;
