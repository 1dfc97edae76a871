//! The jobs' records, ids and dispatcher.

use super::*;

#[test]
fn a_client_id_is_short_and_plain_or_anonymous() {
    assert_eq!(client_id(None).unwrap(), "anonymous");
    assert_eq!(client_id(Some("team-a.ci_1")).unwrap(), "team-a.ci_1");
    for bad in ["", "a b", "../etc", "é", "a/b", &"x".repeat(65)] {
        assert_eq!(client_id(Some(bad)), Err(ClientIdError), "{bad:?}");
    }
}

#[test]
fn job_ids_are_hex_and_nothing_else_is() {
    let id = new_job_id();
    assert!(is_job_id(&id), "{id}");
    assert!(!is_job_id("../../etc/passwd"));
    assert!(!is_job_id(&id.to_uppercase()));
    assert!(!is_job_id(&id[1..]));
}

#[test]
fn a_finished_job_says_its_execution_and_lead_time() {
    let mut job = Job::queued(new_job_id(), "a".into(), 10);
    job.created_ms = 1_000;
    assert_eq!(job.view()["lead_ms"], serde_json::Value::Null);
    job.started_ms = Some(1_500);
    job.finished_ms = Some(4_000);
    job.status = Status::Done;
    let view = job.view();
    assert_eq!(view["execution_ms"], 2_500);
    assert_eq!(view["lead_ms"], 3_000);
    assert_eq!(view["status"], "done");
    assert_eq!(view["created_at"], "1970-01-01T00:00:01.000Z");
}
