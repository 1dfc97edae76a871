//! `up --local` for a stack of several services: each service runs here as its task
//! definition says (environment, command, queues on the emulator), on its own loopback port;
//! internal names point at those ports; and the web services sit behind the local router,
//! which applies the listener rules on one port. `down --local` stops them all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use infra::id::ServiceIds;
use infra::resources::{Detail, Observed};
use infra::stack_file::{ServiceKind, ServiceSpec, StackSpec, rule_order};

use super::router::{Routes, Rule};
use super::{Files, Launch, stop};
use crate::session::Session;

/// The router's preferred port (a free one is taken when it is busy).
const ROUTER_PORT: u16 = 8088;
/// The most copies of a worker a local run starts.
const MAX_COPIES: u32 = 10;

/// Where the processes of one stack's local run keep their PIDs and logs:
/// `.run/local-<stack>/<service>.{pid,log}` next to the stack file.
pub struct Dir(PathBuf);

impl Dir {
    pub fn new(stack_file: &Path, stack: &str) -> Self {
        let base = match stack_file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self(base.join(".run").join(format!("local-{stack}")))
    }

    fn files(&self, name: &str) -> Files {
        Files {
            pid: self.0.join(format!("{name}.pid")),
            log: self.0.join(format!("{name}.log")),
        }
    }

    /// Stops every process of the run; true when one was running.
    pub async fn stop_all(&self) -> anyhow::Result<bool> {
        let Ok(entries) = std::fs::read_dir(&self.0) else {
            return Ok(false);
        };
        let mut any = false;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "pid") {
                let files = Files {
                    pid: path.clone(),
                    log: path.with_extension("log"),
                };
                any |= stop(&files).await?;
            }
        }
        Ok(any)
    }
}

/// One process of the run, as `up` reports it.
#[derive(Debug)]
pub struct Running {
    pub name: String,
    pub kind: &'static str,
    /// Its loopback port (none for a worker).
    pub port: Option<u16>,
    pub pid: u32,
    pub log: PathBuf,
}

/// What a service runs with: its task definition's environment, command and port.
struct Task {
    environment: BTreeMap<String, String>,
    command: Vec<String>,
    port: Option<u16>,
}

fn task_of(observed: &[Observed], service: &ServiceSpec) -> Option<Task> {
    let id = ServiceIds::named(&service.name).task_definition;
    observed.iter().find_map(|o| match &o.detail {
        Detail::TaskDefinition(td) if o.id == id => Some(Task {
            environment: td.environment.clone(),
            command: td.command.clone(),
            port: td.port.and_then(|p| u16::try_from(p).ok()),
        }),
        _ => None,
    })
}

/// A loopback port for `wanted`: itself when free, else any free one.
fn free_port(wanted: u16) -> anyhow::Result<u16> {
    if std::net::TcpListener::bind(("127.0.0.1", wanted)).is_ok() {
        return Ok(wanted);
    }
    let free = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .context("cannot find a free port on 127.0.0.1")?;
    Ok(free.port())
}

/// Internal services first (others call them), then web services, then workers.
fn start_order(kind: ServiceKind) -> u8 {
    match kind {
        ServiceKind::Internal => 0,
        ServiceKind::Web => 1,
        ServiceKind::Worker => 2,
    }
}

/// Runs every deployed service of the stack here, and the router when there are web services.
/// Answers what runs, and the router's port.
pub async fn run(
    spec: &StackSpec,
    observed: &[Observed],
    dir: &Dir,
    app: &Path,
) -> anyhow::Result<(Vec<Running>, Option<u16>)> {
    dir.stop_all().await?;
    let mut services: Vec<(&ServiceSpec, Task)> = spec
        .services
        .iter()
        .filter_map(|s| Some((s, task_of(observed, s)?)))
        .collect();
    anyhow::ensure!(
        !services.is_empty(),
        "the stack has no service deployed to run here: give its services an image (or pass --image)"
    );
    services.sort_by_key(|(s, _)| (start_order(s.kind), s.name.clone()));
    let mut ports = BTreeMap::new();
    for (service, task) in &services {
        if let Some(port) = task.port {
            ports.insert(service.name.clone(), free_port(port)?);
        }
    }
    let mut running = Vec::new();
    for (service, task) in &services {
        // A service without a port runs as many copies as it has tasks (up to 10 here); one
        // with a port runs once, on its port.
        let copies = match task.port {
            Some(_) => 1,
            None => service.desired_count.clamp(1, MAX_COPIES),
        };
        for copy in 1..=copies {
            let name = if copies == 1 {
                service.name.clone()
            } else {
                format!("{}-{copy}", service.name)
            };
            running.push(start_one(spec, dir, app, (service, &name), task, &ports).await?);
        }
    }
    let router = match routes(spec, &ports)? {
        Some(routes) => Some(start_router(dir, routes).await?),
        None => None,
    };
    Ok((running, router))
}

async fn start_one(
    spec: &StackSpec,
    dir: &Dir,
    app: &Path,
    (service, name): (&ServiceSpec, &str),
    task: &Task,
    ports: &BTreeMap<String, u16>,
) -> anyhow::Result<Running> {
    let mut environment = task.environment.clone();
    let port = ports.get(&service.name).copied();
    if let Some(port) = port {
        // As a container runtime maps a host port to the container's: the service reads PORT.
        environment.insert("PORT".into(), port.to_string());
    }
    // Internal names resolve to the loopback port the service runs on here.
    for other in spec
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Internal)
    {
        if let Some(port) = ports.get(&other.name) {
            environment.insert(
                format!("SERVICE_URL_{}", other.env_suffix()),
                format!("http://127.0.0.1:{port}"),
            );
        }
    }
    let files = dir.files(name);
    let launch = Launch {
        program: app,
        args: &task.command,
        environment: &environment,
        health: port,
    };
    let pid = launch
        .start(&files)
        .await
        .with_context(|| format!("while starting the service {name}"))?;
    Ok(Running {
        name: name.to_owned(),
        kind: service.kind.as_str(),
        port,
        pid,
        log: files.log,
    })
}

/// The load balancer's rules over the web services' local ports, in the order it tries them.
fn routes(spec: &StackSpec, ports: &BTreeMap<String, u16>) -> anyhow::Result<Option<Routes>> {
    let Some(default) = spec.default_web().and_then(|d| ports.get(&d.name)) else {
        return Ok(None);
    };
    let mut ruled: Vec<&ServiceSpec> = spec
        .web()
        .filter(|s| !s.route.is_default() && ports.contains_key(&s.name))
        .collect();
    ruled.sort_by(|a, b| rule_order(&a.route, &a.name).cmp(&rule_order(&b.route, &b.name)));
    let rules = ruled
        .into_iter()
        .map(|s| Rule {
            service: s.name.clone(),
            paths: s.route.paths.clone(),
            hosts: s.route.hosts.clone(),
            port: ports[&s.name],
        })
        .collect();
    Ok(Some(Routes {
        listen: free_port(ROUTER_PORT)?,
        default: *default,
        rules,
    }))
}

async fn start_router(dir: &Dir, routes: Routes) -> anyhow::Result<u16> {
    let files = dir.files("router");
    let config = dir.0.join("routes.json");
    std::fs::create_dir_all(&dir.0)
        .with_context(|| format!("cannot create {}", dir.0.display()))?;
    routes.write(&config)?;
    let me = std::env::current_exe().context("cannot find stackctl's own path")?;
    let args = vec![
        "local-router".to_owned(),
        "--routes".to_owned(),
        config.display().to_string(),
    ];
    let environment = BTreeMap::new();
    let launch = Launch {
        program: &me,
        args: &args,
        environment: &environment,
        health: Some(routes.listen),
    };
    launch
        .start(&files)
        .await
        .context("while starting the local router")?;
    Ok(routes.listen)
}

/// `up --local` of several services: each runs here, web ones behind the local router.
pub async fn start_all(
    session: &Session,
    spec: &StackSpec,
    file: &Path,
    app_bin: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let (ctx, printer) = (&session.ctx, &session.printer);
    let observed = infra::engine::remaining(ctx)
        .await
        .context("while reading the task definitions back")?
        .found;
    let app = super::app_binary(app_bin)?;
    let dir = Dir::new(file, &ctx.stack);
    let (running, router) = run(spec, &observed, &dir, &app).await?;
    printer.line("\nThe services run here as their task definitions describe them:");
    for r in &running {
        let at = r
            .port
            .map_or_else(|| "no port".to_owned(), |p| format!("http://127.0.0.1:{p}"));
        printer.line(&format!(
            "  {:12} {:8} {at:24} pid {:>7}  log {}",
            r.name,
            r.kind,
            r.pid,
            r.log.display()
        ));
    }
    if let Some(port) = router {
        printer.line(&format!(
            "\nThe load balancer's rules, here: http://127.0.0.1:{port}/ (try curl \
             http://127.0.0.1:{port}/healthcheck)"
        ));
    }
    printer.line(&format!(
        "Stop them and remove the stack: {}",
        session.at.command("down --local --yes")
    ));
    Ok(())
}
