//! The built binary: start-up errors, and SIGTERM draining an in-flight request before exit 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/healthcheck")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not answer /healthcheck at {base}");
}

#[tokio::test]
async fn sigterm_lets_a_slow_request_finish_then_exits_zero() {
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_app"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("ENV", "devel")
        .env("SQS_WAIT_SECS", "3")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_healthy(&base).await;

    // An empty in-memory queue long-polls for 3 s: a request that is still in flight at SIGTERM.
    let slow = tokio::spawn(reqwest::get(format!("{base}/message")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = i32::try_from(child.id().unwrap()).unwrap();
    // SAFETY: kill(2) with a valid pid and signal has no memory-safety preconditions.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0);

    let response = slow
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "the queue is empty");

    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the process exits after draining")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn a_missing_queue_url_outside_devel_fails_at_start_up_with_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_app"))
        .env_clear()
        .env("ENV", "prod")
        .env("PORT", free_port().to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SQS_QUEUE_URL is not set"), "{stderr}");
}

#[test]
fn devel_without_a_queue_url_says_it_uses_an_in_memory_queue() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_app"))
        .env_clear()
        .env("ENV", "devel")
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        let n = stdout.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let first = reader.join().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("in-memory queue"), "{first}");
}
