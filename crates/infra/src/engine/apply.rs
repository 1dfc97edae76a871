//! Applying one resource's change: an update exactly as planned, or a create that survives a
//! lost answer.
//!
//! A create call is sent once (no blind retry by the SDK). When its answer is lost (no answer,
//! a broken connection, a server error: AWS may have done the work) the engine does not call
//! again at once: it first looks for the resource by its tags. If it is there, made by the
//! attempt whose answer was lost, it is brought in line with the stack file instead of being
//! made twice. Throttled creates are simply tried again after a pause.

use tokio::time::Instant;

use crate::context::Context;
use crate::contract::New;
use crate::error::{Error, Outcome, Result};
use crate::outputs::{Output, Outputs};
use crate::plan::{Action, Change, Removal, Step, Update};
use crate::resources::{self, Desired, Observed};
use crate::retry::Backoff;
use crate::tags;

/// What applying one change does, decided when the jobs are made: only a change that
/// applies something has one (a deletion, a wait, an unchanged resource have none).
#[derive(Debug, Clone, Copy)]
pub(super) enum Work<'a> {
    Create,
    /// Exactly the planned update, to the resource found.
    Update {
        found: &'a Observed,
        update: &'a Update,
    },
    /// A replacement made next to the old resource (`old`, its AWS id), which is deleted
    /// once nothing uses it.
    CreateBeside {
        old: &'a str,
    },
}

impl<'a> Work<'a> {
    /// The work of `change`, if it applies something now; a replacement that deletes first
    /// applies nothing here (the delete phase goes first, and a fresh look makes it a create).
    pub(super) fn of(change: &'a Change, observed: &'a [Observed]) -> Option<Self> {
        match &change.step {
            Step::Create => Some(Self::Create),
            Step::Update { update, .. } => Some(Self::Update {
                found: change.found(observed)?,
                update,
            }),
            Step::Replace {
                aws_id,
                removal: Removal::Last,
                ..
            } => Some(Self::CreateBeside { old: aws_id }),
            Step::Replace { .. }
            | Step::Delete { .. }
            | Step::Wait { .. }
            | Step::Unchanged { .. } => None,
        }
    }

    /// How progress names it: a replacement made beside the old one is a create.
    pub(super) fn action(self) -> Action {
        match self {
            Self::Update { .. } => Action::Update,
            Self::Create | Self::CreateBeside { .. } => Action::Create,
        }
    }
}

/// Creates a resource, or applies exactly the planned update to it.
pub(super) async fn apply_one(
    ctx: &Context,
    want: &Desired,
    work: Work<'_>,
    refs: &Outputs,
    wait: &(dyn Fn(String) + Send + Sync),
) -> Result<Output> {
    match work {
        Work::Update { found, update } => {
            let result: Result<Output> = async {
                let output = want
                    .spec
                    .update(ctx, found, &update.fields, refs, wait)
                    .await?;
                if !update.tags.is_empty() {
                    found.retag(ctx, &update.tags).await?;
                }
                Ok(output)
            }
            .await;
            match result {
                Err(err) if err.outcome() == Outcome::Unknown => {
                    update_again(ctx, want, refs, wait, err).await
                }
                done => done,
            }
        }
        Work::Create => create(ctx, want, None, refs, wait).await,
        Work::CreateBeside { old } => create(ctx, want, Some(old), refs, wait).await,
    }
}

/// After an update whose answer was lost (AWS may have done it, in part or whole): looks at
/// the resource again and applies what still differs, a few times at most. An update is
/// safe to repeat, but a new task definition revision is not to be registered twice.
async fn update_again(
    ctx: &Context,
    want: &Desired,
    refs: &Outputs,
    wait: &(dyn Fn(String) + Send + Sync),
    mut err: Error,
) -> Result<Output> {
    let mut backoff = Backoff::new(&ctx.settings);
    for _ in 0..3 {
        wait(format!(
            "no sure answer ({}); looking again before going on",
            crate::error::chain(&err)
        ));
        crate::slots::pause(backoff.pause()).await;
        let Some(found) = look(ctx, want, None, &mut backoff).await? else {
            return Err(err);
        };
        match converge(ctx, want, &found, refs, wait).await {
            Err(again) if again.outcome() == Outcome::Unknown => err = again,
            done => return done,
        }
    }
    Err(err)
}

/// Creates a resource once, even when answers are lost on the way. `replacing` is the AWS id
/// of the resource it replaces, if that one still exists: it is not the one being looked for.
async fn create(
    ctx: &Context,
    want: &Desired,
    replacing: Option<&str>,
    refs: &Outputs,
    wait: &(dyn Fn(String) + Send + Sync),
) -> Result<Output> {
    let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let mut backoff = Backoff::new(&ctx.settings);
    let started = Instant::now();
    loop {
        let new = New {
            id: &want.id,
            tags: &want.tags,
            refs,
            wait,
            token: &token,
        };
        let err = match want.spec.create(ctx, new).await {
            Ok(output) => return Ok(output),
            Err(err) => err,
        };
        let outcome = err.outcome();
        // The call's deadline holds over all its tries: no try starts that could not end
        // within it.
        let deadline = ctx.settings.call;
        let out_of_time = || started.elapsed() + deadline.attempt > deadline.operation;
        if outcome == Outcome::Refused || out_of_time() {
            return Err(err);
        }
        if outcome == Outcome::Unknown {
            wait(format!(
                "no sure answer ({}); looking for it before trying again",
                crate::error::chain(&err)
            ));
            if let Some(found) = look(ctx, want, replacing, &mut backoff).await? {
                return converge(ctx, want, &found, refs, wait).await;
            }
        }
        crate::slots::pause(backoff.pause()).await;
        if out_of_time() {
            return Err(err);
        }
    }
}

/// The resource, if an attempt whose answer was lost made it. EC2's reads may lag its writes
/// by a few seconds, so it looks three times before concluding it is not there.
async fn look(
    ctx: &Context,
    want: &Desired,
    replacing: Option<&str>,
    backoff: &mut Backoff,
) -> Result<Option<Observed>> {
    for attempt in 0..3 {
        let found = resources::find(ctx, want).await?;
        if let Some(found) = found
            .into_iter()
            .find(|f| Some(f.aws_id.as_str()) != replacing)
        {
            return Ok(Some(found));
        }
        if attempt < 2 {
            crate::slots::pause(backoff.pause()).await;
        }
    }
    Ok(None)
}

/// Brings a resource found after a lost answer in line with the stack file: what its create
/// did not get to (a rule, a policy, a tag) is done as an update.
async fn converge(
    ctx: &Context,
    want: &Desired,
    found: &Observed,
    refs: &Outputs,
    wait: &(dyn Fn(String) + Send + Sync),
) -> Result<Output> {
    let Some((fields, None)) = want.spec.diff(&found.detail, refs) else {
        return Err(Error::NotAsAsked {
            resource: want.id.clone(),
            aws_id: found.aws_id.clone(),
        });
    };
    let output = if fields.is_empty() {
        found.output()
    } else {
        want.spec.update(ctx, found, &fields, refs, wait).await?
    };
    let missing = tags::missing(&want.tags, &found.tags);
    if !missing.is_empty() {
        found.retag(ctx, &missing).await?;
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_sqs::operation::list_queues::ListQueuesOutput;
    use aws_smithy_mocks::mock;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::context::Deadlines;
    use crate::id::ResourceId;
    use crate::resources::Spec;
    use crate::resources::queue::Queue;
    use crate::resources::testing;
    use crate::tags::Tags;

    /// A create answered only with a plain-text 503 keeps looking and trying, and stops
    /// within the call's deadline with what came back.
    #[tokio::test(start_paused = true)]
    async fn a_create_without_a_sure_answer_keeps_to_the_call_s_deadline() {
        let create_queue = mock!(aws_sdk_sqs::Client::create_queue).then_http_response(|| {
            Response::new(
                StatusCode::try_from(503).unwrap(),
                SdkBody::from("Service Unavailable"),
            )
        });
        let list = mock!(aws_sdk_sqs::Client::list_queues)
            .then_output(|| ListQueuesOutput::builder().build());
        let mut ctx = testing::sqs(&[&create_queue, &list]);
        ctx.settings.initial_backoff = Duration::from_secs(5);
        ctx.settings.max_backoff = Duration::from_secs(5);
        ctx.settings.call = Deadlines::default();
        // As on AWS: EC2's reads may lag for two minutes, which a create's tries must not.
        ctx.settings.consistency_timeout = Duration::from_secs(120);
        let queue = Queue {
            name: "s-messages".into(),
            visibility_timeout_secs: 30,
            message_retention_secs: 345_600,
            receive_wait_secs: 20,
            redrive: None,
        };
        let want = Desired::new(
            ResourceId::from_tag("queue"),
            Spec::Queue(queue),
            Tags::new(),
            &[],
        );
        let started = Instant::now();
        let err = create(&ctx, &want, None, &Outputs::new(), &|_| {})
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.outcome(), Outcome::Unknown, "{err}");
        assert!(err.to_string().contains("HTTP 503"), "{err}");
        assert!(
            create_queue.num_calls() >= 3,
            "tried {} times",
            create_queue.num_calls()
        );
        assert!(
            took <= Duration::from_secs(90),
            "the 90 s deadline held: {took:?} after {} tries",
            create_queue.num_calls()
        );
    }
}
