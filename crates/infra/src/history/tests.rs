use std::time::{Duration, SystemTime};

use super::*;

fn at(seconds: u64) -> SystemTime {
    // 2026-11-24 00:00:00 UTC
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_478_400 + seconds)
}

fn record(
    run: &str,
    component: &str,
    action: &str,
    status: Status,
    span: (u64, Option<u64>),
) -> Record {
    Record {
        run: run.into(),
        command: "up".into(),
        component: component.into(),
        action: action.into(),
        version: String::new(),
        owner: "arn:aws:iam::123456789012:user/ada".into(),
        status,
        started: at(span.0),
        ended: span.1.map(at),
        error: None,
    }
}

fn a_run() -> Vec<Record> {
    vec![
        record("r1", RUN, RUN, Status::Started, (0, None)),
        record("r1", "vpc", "create", Status::Started, (1, None)),
        record("r1", "vpc", "create", Status::Succeeded, (1, Some(3))),
        record("r1", "load-balancer", "create", Status::Started, (3, None)),
        record(
            "r1",
            "load-balancer",
            "create",
            Status::Succeeded,
            (3, Some(5)),
        ),
        record(
            "r1",
            "load-balancer",
            "ready",
            Status::Succeeded,
            (5, Some(140)),
        ),
        record("r1", "service", "create", Status::Started, (140, None)),
        record("r1", "service", "create", Status::Failed, (140, Some(150))),
        record("r1", RUN, RUN, Status::Failed, (0, Some(151))),
    ]
}

#[test]
fn a_step_s_end_supersedes_its_start_and_the_run_comes_first() {
    let steps = steps(a_run(), &Filter::default());
    let shown: Vec<(&str, &str, Status)> = steps
        .iter()
        .map(|r| (r.component.as_str(), r.action.as_str(), r.status))
        .collect();
    assert_eq!(
        shown,
        [
            (RUN, RUN, Status::Failed),
            ("vpc", "create", Status::Succeeded),
            ("load-balancer", "create", Status::Succeeded),
            ("load-balancer", "ready", Status::Succeeded),
            ("service", "create", Status::Failed),
        ]
    );
}

#[test]
fn a_step_that_never_ended_shows_as_started() {
    let mut records = a_run();
    records.truncate(7);
    let steps = steps(records, &Filter::default());
    let service = steps.iter().find(|r| r.component == "service").unwrap();
    assert_eq!(service.status, Status::Started);
    let summary = &summaries(&steps)[0];
    assert_eq!(summary.status, Status::Started);
    // Without the run's end, the last step's end.
    assert_eq!(summary.seconds, Some(140.0));
}

#[test]
fn filters_by_time_component_and_owner() {
    let by = |filter: Filter| steps(a_run(), &filter).len();
    assert_eq!(
        by(Filter {
            since: Some(at(3)),
            ..Filter::default()
        }),
        3
    );
    assert_eq!(
        by(Filter {
            until: Some(at(3)),
            ..Filter::default()
        }),
        1,
        "only the vpc's create had ended by 3 s"
    );
    assert_eq!(
        by(Filter {
            component: Some("load-balancer".into()),
            ..Filter::default()
        }),
        2
    );
    assert_eq!(
        by(Filter {
            owner: Some("user/ada".into()),
            ..Filter::default()
        }),
        5
    );
    assert_eq!(
        by(Filter {
            owner: Some("user/bob".into()),
            ..Filter::default()
        }),
        0
    );
}

#[test]
fn a_summary_gives_the_total_and_the_slowest_steps() {
    let summaries = summaries(&steps(a_run(), &Filter::default()));
    let [summary] = summaries.as_slice() else {
        panic!("{summaries:?}")
    };
    assert_eq!(summary.status, Status::Failed);
    assert_eq!(summary.seconds, Some(151.0));
    assert_eq!(summary.steps, 4);
    assert_eq!(
        summary.slowest,
        [
            ("load-balancer ready".to_owned(), 135.0),
            ("service create".to_owned(), 10.0),
            ("vpc create".to_owned(), 2.0),
        ]
    );
    assert_eq!(
        summary.line(),
        "2026-11-24 00:00:00 up by arn:aws:iam::123456789012:user/ada: failed in 151.0 s, \
         4 step(s); slowest: load-balancer ready 135.0 s, service create 10.0 s, vpc create 2.0 s"
    );
}

#[test]
fn csv_has_a_header_and_quotes_what_needs_it() {
    let mut records = a_run();
    records[7].error = Some("CreateService failed: \"bad\", twice".into());
    let csv = to_csv(&steps(records, &Filter::default())).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "run,command,component,action,version,owner,status,started,ended,seconds,error"
    );
    assert_eq!(lines.len(), 6);
    assert!(lines[2].starts_with("r1,up,vpc,create,,arn:aws:iam::123456789012:user/ada,succeeded,2026-11-24T00:00:01.000Z,2026-11-24T00:00:03.000Z,2.0,"), "{}", lines[2]);
    assert!(
        lines[5].ends_with(",\"CreateService failed: \"\"bad\"\", twice\""),
        "{}",
        lines[5]
    );
}

#[test]
fn records_round_trip_through_json() {
    let record = a_run().remove(2);
    let json = serde_json::to_string(&record).unwrap();
    assert!(
        json.contains("\"started\":\"2026-11-24T00:00:01.000Z\""),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
}

#[test]
fn a_service_s_version_is_the_image_it_rolls_out() {
    let mut spec = crate::StackSpec::minimal("s");
    spec.services[0].image = Some("repo/app:2".into());
    let zones = ["us-east-1a".to_owned(), "us-east-1b".to_owned()];
    let desired = crate::desired::desired(&spec, &zones);
    let prepared = crate::engine::Prepared {
        plan: crate::plan::compute("s", &desired, &[]).unwrap(),
        desired,
        observed: Vec::new(),
        renamed_from: Vec::new(),
        unimaged: crate::engine::Unimaged::default(),
        unread: Vec::new(),
    };
    let versions = recorder::versions(&prepared);
    assert_eq!(versions["service"], "repo/app:2");
    assert_eq!(versions["task-definition"], "repo/app:2");
}

#[test]
fn until_keeps_the_steps_that_ended_by_then_and_status_filters() {
    let all = steps(a_run(), &Filter::default());
    let by = |until: u64| Filter {
        until: Some(at(until)),
        ..Filter::default()
    };
    let ended_by_5: Vec<_> = steps(a_run(), &by(5))
        .into_iter()
        .map(|r| (r.component, r.action))
        .collect();
    assert_eq!(
        ended_by_5,
        vec![
            ("vpc".to_owned(), "create".to_owned()),
            ("load-balancer".to_owned(), "create".to_owned())
        ],
        "started before 5 but ended after: not kept"
    );
    let failed = Filter {
        status: Some(Status::Failed),
        ..Filter::default()
    };
    let kept = steps(a_run(), &failed);
    assert!(!kept.is_empty() && kept.iter().all(|r| r.status == Status::Failed));
    assert!(kept.len() < all.len());
}

#[test]
fn a_pipeline_step_started_then_ended_is_one_step_and_its_run_is_where_it_ended() {
    let owner = "ci";
    let started = recorded_step("api", "1.4.2", Status::Started, owner, at(10), None);
    assert_eq!((started.command.as_str(), started.ended), (RECORDED, None));
    let history = vec![started.clone()];
    let open = open_step(&history, "api", "1.4.2");
    assert_eq!(open, Some(&started));
    assert_eq!(open_step(&history, "api", "1.4.3"), None, "another version");
    let ended = recorded_step("api", "1.4.2", Status::RolledBack, owner, at(70), open);
    assert_eq!(ended.run, started.run);
    assert_eq!((ended.started, ended.ended), (at(10), Some(at(70))));
    let both = steps(vec![started, ended.clone()], &Filter::default());
    assert_eq!(both, vec![ended.clone()]);
    let runs = summaries(&both);
    assert_eq!(
        runs[0].status,
        Status::RolledBack,
        "a run is where its last step is"
    );
    assert_eq!(
        open_step(&both, "api", "1.4.2"),
        None,
        "ended: nothing open"
    );
    // An end with nothing open is a step of its own, started and ended at once.
    let alone = recorded_step("db", "42", Status::Failed, owner, at(5), None);
    assert_eq!((alone.started, alone.ended), (at(5), Some(at(5))));
}

#[test]
fn statuses_are_read_as_written_and_csv_times_are_rfc3339() {
    for text in STATUSES {
        assert_eq!(Status::parse(text).unwrap().as_str(), text);
    }
    let err = Status::parse("done").unwrap_err();
    assert!(err.contains("rolled_back"), "{err}");
    let csv = to_csv(&steps(a_run(), &Filter::default())).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",2026-11-24T00:00:00.000Z,"), "{row}");
    let json = serde_json::to_value(&a_run()[0]).unwrap();
    assert_eq!(json["started"], "2026-11-24T00:00:00.000Z");
}
