//! Building and pushing the image: the push path against a real registry (Debian's
//! docker-registry on loopback), with the builder stood in for by a script because these
//! machines have no container engine.

use std::path::Path;
use std::process::Command;

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

/// The local registry's address; these tests refuse to run without one.
fn registry() -> String {
    match std::env::var("STACKCTL_TEST_REGISTRY") {
        Ok(address) if address.starts_with("127.0.0.1:") => address,
        _ => panic!(
            "STACKCTL_TEST_REGISTRY is not set: start the local registry with `scripts/registry.sh start` and \
             `eval \"$(scripts/registry.sh env)\"`, or run the whole suite with `scripts/test.sh`"
        ),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.email=t@t", "-c", "user.name=t"])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

/// A project directory: a git repository with a Dockerfile and the stack file.
fn project(stack: &TestStack) {
    stack.scratch.write("Dockerfile", "FROM scratch\n");
    git(stack.scratch.path(), &["init", "-q"]);
    git(stack.scratch.path(), &["add", "."]);
    git(stack.scratch.path(), &["commit", "-q", "-m", "project"]);
}

/// `PATH` for stackctl: with the fake `docker` first, or with nothing but `git` (which the
/// tag needs), so that no builder at all is found.
fn fake_path(stack: &TestStack, with_docker: bool) -> String {
    let bin = stack.scratch.file("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if with_docker {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-docker");
        std::os::unix::fs::symlink(fixture, bin.join("docker")).unwrap();
        return format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
    }
    let git = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let git = String::from_utf8_lossy(&git.stdout).trim().to_owned();
    std::os::unix::fs::symlink(git, bin.join("git")).unwrap();
    bin.display().to_string()
}

fn up(stack: &TestStack, path: &str, log: &Path) -> std::process::Output {
    stack
        .command(&["up", "--json"])
        .env("PATH", path)
        .env("STACKCTL_REGISTRY", registry())
        .env("FAKE_DOCKER_LOG", log)
        .output()
        .unwrap()
}

#[tokio::test]
async fn up_builds_and_pushes_once_and_deploys_what_it_pushed() {
    let stack = TestStack::new("img", "").await;
    project(&stack);
    let path = fake_path(&stack, true);
    let log = stack.scratch.file("docker.log");

    let first = up(&stack, &path, &log);
    assert!(
        first.status.success(),
        "{}\nbuilder calls: {:?}",
        stderr(&first),
        std::fs::read_to_string(&log)
    );
    let answer: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let image = answer["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "image")
        .unwrap()
        .clone();
    assert_eq!(image["action"], "create");

    // The registry really has it, under the stack's repository name and a 12-hex tag.
    let calls = std::fs::read_to_string(&log).unwrap();
    let pushed = calls
        .lines()
        .find(|l| l.starts_with("push "))
        .unwrap()
        .trim_start_matches("push ")
        .to_owned();
    let (repository, tag) = pushed.rsplit_once(':').unwrap();
    assert_eq!(repository, format!("{}/{}", registry(), stack.name));
    assert_eq!(tag.len(), 12);
    let manifest = reqwest::Client::new()
        .get(format!(
            "http://{}/v2/{}/manifests/{tag}",
            registry(),
            stack.name
        ))
        .header(
            "Accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(manifest.status(), 200);
    assert!(
        calls
            .lines()
            .any(|l| l.starts_with("build -t ") && l.contains(&pushed)),
        "{calls}"
    );
    assert!(!calls.contains("login"), "no login for a local registry");

    // The task definition runs exactly what was pushed.
    let td = stack
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(&stack.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        td.task_definition().unwrap().container_definitions()[0].image(),
        Some(pushed.as_str())
    );

    // Nothing changed: no build, no push, no AWS change.
    let second = up(&stack, &path, &log);
    assert!(second.status.success(), "{}", stderr(&second));
    let answer: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(mutating_calls(&answer), Vec::<String>::new());
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().filter(|l| l.starts_with("build")).count(),
        1,
        "{calls}"
    );
    assert_eq!(
        calls.lines().filter(|l| l.starts_with("push")).count(),
        1,
        "{calls}"
    );

    // A change to the project is a new tag: built, pushed and rolled out.
    stack
        .scratch
        .write("Dockerfile", "FROM scratch\nLABEL v=2\n");
    let third = up(&stack, &path, &log);
    assert!(third.status.success(), "{}", stderr(&third));
    let answer: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    let mut changed: Vec<&str> = answer["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    changed.sort();
    assert_eq!(changed, ["image", "service", "task-definition"]);
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn no_builder_and_no_image_is_a_clear_error_before_any_change() {
    let stack = TestStack::new("nobuild", "").await;
    project(&stack);
    let path = fake_path(&stack, false);
    // plan says what up will say: it cannot carry out a plan that builds an image.
    let plan = stack
        .command(&["plan"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    assert!(stdout(&plan).contains("+ image"), "{}", stdout(&plan));
    assert!(
        stderr(&plan).contains("set service.image (or pass --image)"),
        "{}",
        stderr(&plan)
    );
    let log = stack.scratch.file("docker.log");
    let output = up(&stack, &path, &log);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("set service.image (or pass --image)"), "{err}");
    assert!(err.contains("install docker"), "{err}");
    assert!(
        crate::stack::vpcs(&stack).await.is_empty(),
        "nothing was created"
    );
}
