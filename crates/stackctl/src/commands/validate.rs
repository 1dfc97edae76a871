//! `stackctl validate`: the stack file's checks alone, no AWS call.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::ValidateArgs;
use crate::output::{Printer, Report};

/// A valid stack file, summed up.
#[derive(Debug, Serialize)]
struct Valid {
    file: String,
    valid: bool,
    stack: String,
    region: String,
    availability_zones: usize,
    subnets: usize,
    /// Each service: its name, kind and how it is reached.
    services: Vec<ServiceLine>,
    queues: Vec<String>,
    /// Each bucket's AWS name (global), with its objects' expiry.
    buckets: Vec<BucketLine>,
}

#[derive(Debug, Serialize)]
struct BucketLine {
    name: String,
    aws_name: String,
    expire_after_days: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ServiceLine {
    name: String,
    kind: infra::stack_file::ServiceKind,
    port: Option<u16>,
    paths: Vec<String>,
    hosts: Vec<String>,
    desired_count: u32,
}

impl ServiceLine {
    fn text(&self) -> String {
        let mut line = format!("  {} ({}", self.name, self.kind.as_str());
        if let Some(port) = self.port {
            line.push_str(&format!(", port {port}"));
        }
        match (self.paths.is_empty(), self.hosts.is_empty()) {
            (true, true) if self.kind == infra::stack_file::ServiceKind::Web => {
                line.push_str(", takes what no rule matches");
            }
            (true, true) => {}
            _ => {
                let all: Vec<&str> = self
                    .hosts
                    .iter()
                    .chain(&self.paths)
                    .map(String::as_str)
                    .collect();
                line.push_str(&format!(", routed by {}", all.join(" ")));
            }
        }
        line.push_str(&format!(
            ", {} task{})",
            self.desired_count,
            if self.desired_count == 1 { "" } else { "s" }
        ));
        line
    }
}

impl Report for Valid {
    fn text(&self) -> String {
        let mut text = format!(
            "{} is valid: stack {:?} in {}, {} availability zones, {} subnets.",
            self.file, self.stack, self.region, self.availability_zones, self.subnets
        );
        // The one-service file reads as it always did; several are listed.
        if self.services.len() > 1 {
            text.push_str(&format!(
                "\nServices:\n{}",
                self.services
                    .iter()
                    .map(ServiceLine::text)
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
            text.push_str(&format!(
                "\nQueues: {}",
                if self.queues.is_empty() {
                    "none".into()
                } else {
                    self.queues.join(", ")
                }
            ));
        }
        for (i, b) in self.buckets.iter().enumerate() {
            text.push_str(if i == 0 { "\nBuckets:" } else { "," });
            text.push_str(&format!(" {} (s3://{}", b.name, b.aws_name));
            if let Some(days) = b.expire_after_days {
                text.push_str(&format!(", objects expire after {days} days"));
            }
            text.push(')');
        }
        text
    }
}

pub fn run(_: &ValidateArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = crate::stack_file::load(file)?;
    printer.report(&Valid {
        file: file.display().to_string(),
        valid: true,
        stack: spec.name.clone(),
        region: spec.region.clone(),
        availability_zones: spec.network.availability_zones,
        subnets: spec.network.public_subnets.len() + spec.network.private_subnets.len(),
        services: spec
            .services
            .iter()
            .map(|s| ServiceLine {
                name: s.name.clone(),
                kind: s.kind,
                port: s.port,
                paths: s.route.paths.clone(),
                hosts: s.route.hosts.clone(),
                desired_count: s.desired_count,
            })
            .collect(),
        queues: spec.queues.iter().map(|q| q.name.clone()).collect(),
        buckets: spec
            .buckets
            .iter()
            .map(|b| BucketLine {
                name: b.name.clone(),
                aws_name: spec.names().bucket(&b.name),
                expire_after_days: b.expire_after_days,
            })
            .collect(),
    });
    Ok(ExitCode::SUCCESS)
}
