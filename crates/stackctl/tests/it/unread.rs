//! Read only what the stack can own: a kind the stack does not declare, whose service the
//! endpoint does not serve (or the identity may not read), fails no command; `down` says what
//! it could not check instead of claiming nothing is left; a declared kind that cannot be read
//! fails naming the call and what came back; an identity that may do nothing gets one
//! message before any change.

use crate::faults::with_service;
use crate::helpers::{TestStack, front, stderr, stdout};
use crate::stack::inventory;

const IMAGE: &str = "registry.example/messages:1";

/// Application Auto Scaling answered by a plain 404 page, as an endpoint without it does.
const NOT_SERVED: &str =
    "rate=1,kinds=404-plain,calls=DescribeScalableTargets+DescribeScalingPolicies,each=call";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_the_stack_does_not_declare_and_the_endpoint_does_not_serve_fails_no_command() {
    let front = front(None, Some(NOT_SERVED)).await;
    let mut stack = TestStack::new("unserved", &format!("[service]\nimage = \"{IMAGE}\"\n")).await;
    stack.endpoint = Some(front.endpoint());

    let plan = stack.run(&["plan"]);
    let text = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(plan.status.success(), "{text}");
    assert!(
        text.contains("scalable targets could not be read (DescribeScalableTargets for scalable targets failed (HTTP 404, not an AWS answer: \"Not Found\"): "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} does not serve DescribeScalableTargets",
            front.endpoint()
        )),
        "{text}"
    );
    assert!(text.contains("so none are planned"), "{text}");

    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(inventory(&stack).await, with_service(&stack.name));
    let json = stack.json(&["status"]);
    assert_eq!(json["unread"][0]["kind"], "scalable_target", "{json}");
    assert!(
        json["unread"][1]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("DescribeScalingPolicies for scaling policies failed")),
        "{json}"
    );
    let status = stack.run(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stderr(&status)
            .contains("note: scaling policies could not be read (DescribeScalingPolicies"),
        "{}",
        stderr(&status)
    );

    // down deletes all it can read, and does not claim what it cannot know.
    let down = stack.run(&["down", "--yes"]);
    let err = stderr(&down);
    assert_eq!(down.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot prove that nothing of stack") && err.contains("scalable targets"),
        "{err}"
    );
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
    stack.endpoint = None;
    let again = stack.run(&["down", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_kind_whose_reads_are_denied_stops_the_plan_naming_the_call() {
    let front = front(
        None,
        Some("rate=1,kinds=denied,calls=DescribeScalableTargets,each=call"),
    )
    .await;
    let file = format!(
        "[service]\nimage = \"{IMAGE}\"\n[service.autoscaling]\nmin = 1\nmax = 3\ncpu = 60\n"
    );
    let mut stack = TestStack::new("denied", &file).await;
    stack.endpoint = Some(front.endpoint());
    let plan = stack.run(&["plan"]);
    let err = stderr(&plan);
    assert_eq!(plan.status.code(), Some(1), "{err}");
    assert!(
        err.contains("DescribeScalableTargets for scalable targets failed (AccessDeniedException, HTTP 403: User: arn:aws:iam::123456789012:user/awsfront is not authorized to perform:"),
        "{err}"
    );
    assert!(
        err.contains(
            "the AWS identity in use may not call application-autoscaling:DescribeScalableTargets"
        ),
        "{err}"
    );
    // The part of the file that needs it, at its line.
    assert!(
        err.starts_with("error: stack.toml:5:10: [service.autoscaling] needs scalable targets, which could not be read"),
        "{err}"
    );
}

/// A declared kind whose service the endpoint does not serve: the service, the endpoint and
/// the line of the stack file that needs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_kind_the_endpoint_does_not_serve_names_the_service_the_endpoint_and_the_line() {
    let front = front(None, Some(NOT_SERVED)).await;
    let file =
        format!("[service]\nimage = \"{IMAGE}\"\n\n[service.autoscaling]\nmax = 3\ncpu = 60\n");
    let mut stack = TestStack::new("unserved-declared", &file).await;
    stack.endpoint = Some(front.endpoint());
    for args in [&["plan"][..], &["up", "--yes"]] {
        let run = stack.run(args);
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            // Targets or policies: whichever read answers first.
            err.starts_with("error: stack.toml:6:10: [service.autoscaling] needs scal"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!("{} does not serve DescribeScal", front.endpoint())),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        inventory(&stack).await,
        Vec::<String>::new(),
        "nothing made"
    );
}

/// An identity that may do nothing at all: one message naming the first call it may not make,
/// before any change, for `plan` and for `up`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_without_any_permission_gets_one_message_before_any_change() {
    let front = front(None, Some("rate=1,kinds=denied,calls=all,each=call")).await;
    let mut stack = TestStack::new("noperm", &format!("[service]\nimage = \"{IMAGE}\"\n")).await;
    stack.endpoint = Some(front.endpoint());
    for args in [&["plan"][..], &["up", "--yes"]] {
        let run = stack.run(args);
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.matches("error:").count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("is not authorized to perform:") && err.contains("may not call"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("Error { code:"), "said once: {err}");
    }
    // AWS answers GetCallerIdentity for any identity; nothing else got through.
    let reached = front
        .entries()
        .iter()
        .filter(|e| e.fault.is_none() && e.operation != "GetCallerIdentity")
        .count();
    assert_eq!(reached, 0, "nothing reached AWS: {:?}", front.entries());
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
}
