//! The stack lock: two runs that change one stack (`up`, `down`, or one of each) never
//! interleave, whichever machines they run on.
//!
//! The lock lives in AWS, as one item per stack in a DynamoDB table (`stackctl-locks`, made on
//! first use, on-demand billing: nothing is billed while it is idle). It is taken with a
//! conditional write that succeeds only when no run holds it or its lease has run out, so two
//! runs cannot both take it. It names its holder (the caller's ARN, the host, the pid, the
//! command) and since when. The holder renews the lease every third of it; a run that dies
//! holding the lock blocks others for at most one lease (60 s by default). `stackctl unlock`
//! removes a lock by hand. `plan` and `status` only read and take no lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::context::Context;
use crate::error::{Error, Result};

/// The account's lock table, shared by every stack of the region.
pub const TABLE: &str = "stackctl-locks";

/// Who holds a stack's lock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Holder {
    /// The caller's ARN.
    pub owner: String,
    pub host: String,
    pub pid: u32,
    /// `up` or `down`.
    pub command: String,
    /// When the lock was taken, and until when its lease runs (seconds since the epoch).
    pub since: u64,
    pub expires: u64,
    #[serde(skip)]
    token: String,
}

impl Holder {
    /// A new holder: this process, for `command`.
    pub fn me(owner: &str, command: &str) -> Self {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown host".into());
        Self {
            owner: owner.to_owned(),
            host,
            pid: std::process::id(),
            command: command.to_owned(),
            since: now(),
            expires: 0,
            token: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
        }
    }

    fn item(&self, stack: &str) -> HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let n = |v: u64| AttributeValue::N(v.to_string());
        HashMap::from([
            ("stack".to_owned(), s(stack)),
            ("owner".to_owned(), s(&self.owner)),
            ("host".to_owned(), s(&self.host)),
            ("pid".to_owned(), n(u64::from(self.pid))),
            ("command".to_owned(), s(&self.command)),
            ("since".to_owned(), n(self.since)),
            ("expires".to_owned(), n(self.expires)),
            ("token".to_owned(), s(&self.token)),
        ])
    }

    fn from_item(item: &HashMap<String, AttributeValue>) -> Self {
        let s = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let n = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Self {
            owner: s("owner"),
            host: s("host"),
            pid: u32::try_from(n("pid")).unwrap_or(0),
            command: s("command"),
            since: n("since"),
            expires: n("expires"),
            token: s("token"),
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A held lock: renewed until released (or until the process ends).
#[derive(Debug)]
pub struct Lock {
    ctx: Context,
    holder: Holder,
    renewal: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

/// How to take a lock.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a run's lock outlives it when it dies holding it.
    pub lease: Duration,
    /// How long to wait for another run's lock before giving up.
    pub timeout: Duration,
    /// The run's stop flag: set when the lock is lost (its lease ran out unrenewed and another
    /// run took it), so that the run starts nothing new; read while waiting for the lock, so
    /// that an interrupt also ends the wait.
    pub lost: Arc<AtomicBool>,
}

impl Lock {
    /// Takes the stack's lock for `holder`, waiting while another run holds it (telling
    /// `on_wait` who, each time that changes) for at most `options.timeout`.
    pub async fn acquire(
        ctx: &Context,
        mut holder: Holder,
        options: &Options,
        on_wait: &(dyn Fn(&Holder) + Send + Sync),
    ) -> Result<Self> {
        let started = tokio::time::Instant::now();
        let mut last: Option<String> = None;
        loop {
            holder.expires = now() + options.lease.as_secs().max(1);
            let Some(other) = try_take(ctx, &holder).await? else {
                break;
            };
            // An interrupt stops the wait for another run's lock too: nothing was changed yet.
            if options.lost.load(Ordering::SeqCst) {
                return Err(Error::interrupted());
            }
            if started.elapsed() >= options.timeout {
                return Err(Error::Locked {
                    stack: ctx.stack.clone(),
                    holder: describe(&other),
                });
            }
            if last.as_ref() != Some(&other.token) {
                on_wait(&other);
                last = Some(other.token.clone());
            }
            let pause =
                Duration::from_secs(2).min(options.timeout.saturating_sub(started.elapsed()));
            tokio::time::sleep(pause.max(Duration::from_millis(100))).await;
        }
        let lost = Arc::new(AtomicBool::new(false));
        let flags = [options.lost.clone(), lost.clone()];
        let renewal = tokio::spawn(renew(ctx.clone(), holder.clone(), options.lease, flags));
        Ok(Self {
            ctx: ctx.clone(),
            holder,
            renewal,
            lost,
        })
    }

    /// True when another run took the lock over (this run's lease ran out unrenewed).
    pub fn was_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Gives the lock back (only if it is still this run's).
    pub async fn release(self) -> Result<()> {
        self.renewal.abort();
        let result = self
            .ctx
            .dynamodb
            .delete_item()
            .table_name(TABLE)
            .key("stack", AttributeValue::S(self.ctx.stack.clone()))
            .condition_expression("#t = :me")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":me", AttributeValue::S(self.holder.token.clone()))
            .send()
            .await
            .map_err(|e| Error::aws("stack lock", "DeleteItem", e));
        crate::aws::done_is_ok(result, &["ConditionalCheckFailedException"])
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// `Holder` as people read it.
pub fn describe(h: &Holder) -> String {
    let since = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(h.since));
    let left = h.expires.saturating_sub(now());
    format!(
        "{} on {} (pid {}, stackctl {}) since {since}; its lease runs {left} s more unless renewed",
        h.owner, h.host, h.pid, h.command
    )
}

/// Takes the lock if it is free or its lease ran out; else who holds it.
async fn try_take(ctx: &Context, holder: &Holder) -> Result<Option<Holder>> {
    loop {
        let put = ctx
            .dynamodb
            .put_item()
            .table_name(TABLE)
            .set_item(Some(holder.item(&ctx.stack)))
            .condition_expression("attribute_not_exists(#s) OR #e < :now")
            .expression_attribute_names("#s", "stack")
            .expression_attribute_names("#e", "expires")
            .expression_attribute_values(":now", AttributeValue::N(now().to_string()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(None),
            Err(e) if e.code() == Some("ResourceNotFoundException") => make_table(ctx).await?,
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                match current(ctx).await? {
                    // The SDK retried a put whose answer was lost: the first one took it.
                    Some(other) if other.token == holder.token => return Ok(None),
                    Some(other) => return Ok(Some(other)),
                    // Released between the put and the read: try again.
                    None => {}
                }
            }
            Err(e) => return Err(Error::aws("stack lock", "PutItem", e)),
        }
    }
}

/// Who holds the stack's lock now, if anyone (an expired lease counts: it is what blocks).
pub async fn current(ctx: &Context) -> Result<Option<Holder>> {
    let out = ctx
        .dynamodb
        .get_item()
        .table_name(TABLE)
        .key("stack", AttributeValue::S(ctx.stack.clone()))
        .consistent_read(true)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.item().map(Holder::from_item)),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(Error::aws("stack lock", "GetItem", e)),
    }
}

/// Removes the stack's lock, whoever holds it; returns who did.
pub async fn remove(ctx: &Context) -> Result<Option<Holder>> {
    let out = ctx
        .dynamodb
        .delete_item()
        .table_name(TABLE)
        .key("stack", AttributeValue::S(ctx.stack.clone()))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.attributes().map(Holder::from_item)),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(Error::aws("stack lock", "DeleteItem", e)),
    }
}

/// Extends the lease every third of it while this run holds the lock; marks it lost when
/// another run has taken it.
async fn renew(ctx: Context, holder: Holder, lease: Duration, lost: [Arc<AtomicBool>; 2]) {
    let every = lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let expires = now() + lease.as_secs().max(1);
        let renewed = ctx
            .dynamodb
            .update_item()
            .table_name(TABLE)
            .key("stack", AttributeValue::S(ctx.stack.clone()))
            .update_expression("SET #e = :e")
            .condition_expression("#t = :me")
            .expression_attribute_names("#e", "expires")
            .expression_attribute_names("#t", "token")
            .expression_attribute_values(":e", AttributeValue::N(expires.to_string()))
            .expression_attribute_values(":me", AttributeValue::S(holder.token.clone()))
            .send()
            .await;
        match renewed {
            Ok(_) => {}
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                lost.iter()
                    .for_each(|flag| flag.store(true, Ordering::SeqCst));
                return;
            }
            // A missed renewal is retried at the next tick; the lease covers two of them.
            Err(e) => {
                tracing::warn!(error = %crate::error::chain(&e), "renewing the stack lock failed")
            }
        }
    }
}

/// Makes the lock table (once per account and region), and waits until it can be used.
async fn make_table(ctx: &Context) -> Result<()> {
    let created = ctx
        .dynamodb
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("stack")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(Error::request(
                    "stack lock table",
                    "its attribute definition",
                ))?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("stack")
                .key_type(KeyType::Hash)
                .build()
                .map_err(Error::request("stack lock table", "its key schema"))?,
        )
        .send()
        .await
        .map_err(|e| Error::aws("stack lock table", "CreateTable", e));
    // Another run may be making it at the same moment.
    crate::aws::done_is_ok(created, &["ResourceInUseException"])?;
    let timeout = ctx.settings.wait_timeout;
    let quiet = |_: String| {};
    crate::retry::poll(
        &ctx.settings,
        timeout,
        ("stack lock table", "become active"),
        &quiet,
        || async {
            let out = ctx
                .dynamodb
                .describe_table()
                .table_name(TABLE)
                .send()
                .await
                .map_err(|e| Error::aws("stack lock table", "DescribeTable", e))?;
            let status = out.table().and_then(|t| t.table_status());
            Ok(match status {
                Some(TableStatus::Active) => crate::retry::Look::Done(()),
                other => crate::retry::Look::NotYet(format!("{other:?}")),
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_sdk_dynamodb::operation::create_table::CreateTableOutput;
    use aws_sdk_dynamodb::operation::delete_item::{DeleteItemError, DeleteItemOutput};
    use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
    use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
    use aws_sdk_dynamodb::types::TableDescription;
    use aws_smithy_mocks::{Rule, mock};

    use super::*;
    use crate::resources::testing::{self, fails};

    fn options(lease: Duration, timeout: Duration) -> Options {
        Options {
            lease,
            timeout,
            lost: Arc::new(AtomicBool::new(false)),
        }
    }

    fn other() -> Holder {
        Holder {
            owner: "arn:aws:iam::1:user/ana".into(),
            host: "ana-laptop".into(),
            pid: 42,
            command: "up".into(),
            since: now(),
            expires: now() + 60,
            token: "ana-token".into(),
        }
    }

    fn put_ok() -> Rule {
        mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(|r| {
                r.table_name() == Some(TABLE)
                    && r.condition_expression() == Some("attribute_not_exists(#s) OR #e < :now")
                    && r.item().and_then(|i| i.get("stack")) == Some(&AttributeValue::S("s".into()))
            })
            .then_output(|| PutItemOutput::builder().build())
    }

    fn held_by(holder: Holder) -> [Rule; 2] {
        let put = fails!(
            aws_sdk_dynamodb,
            put_item,
            PutItemError,
            "ConditionalCheckFailedException"
        );
        let get = mock!(aws_sdk_dynamodb::Client::get_item)
            .match_requests(|r| r.consistent_read() == Some(true))
            .then_output(move || {
                GetItemOutput::builder()
                    .set_item(Some(holder.item("s")))
                    .build()
            });
        [put, get]
    }

    #[tokio::test]
    async fn a_free_lock_is_taken_with_one_conditional_put_and_given_back() {
        let put = put_ok();
        let release = mock!(aws_sdk_dynamodb::Client::delete_item)
            .match_requests(|r| r.condition_expression() == Some("#t = :me"))
            .then_output(|| DeleteItemOutput::builder().build());
        let ctx = testing::dynamodb(&[&put, &release]);
        let holder = Holder::me("arn:aws:iam::1:user/me", "up");
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let lock = Lock::acquire(&ctx, holder, &options, &|_| panic!("nobody holds it"))
            .await
            .unwrap();
        assert!(!lock.was_lost());
        lock.release().await.unwrap();
        assert_eq!((put.num_calls(), release.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn the_table_is_made_on_first_use() {
        let put = mock!(aws_sdk_dynamodb::Client::put_item)
            .sequence()
            .error(|| {
                PutItemError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ResourceNotFoundException")
                        .build(),
                )
            })
            .output(|| PutItemOutput::builder().build())
            .build();
        let create = mock!(aws_sdk_dynamodb::Client::create_table)
            .match_requests(|r| {
                r.table_name() == Some(TABLE)
                    && r.billing_mode() == Some(&BillingMode::PayPerRequest)
            })
            .then_output(|| CreateTableOutput::builder().build());
        let describe = mock!(aws_sdk_dynamodb::Client::describe_table)
            .sequence()
            .output(|| {
                let table = TableDescription::builder().table_status(TableStatus::Creating);
                DescribeTableOutput::builder().table(table.build()).build()
            })
            .output(|| {
                let table = TableDescription::builder().table_status(TableStatus::Active);
                DescribeTableOutput::builder().table(table.build()).build()
            })
            .build();
        let ctx = testing::dynamodb(&[&put, &create, &describe]);
        let holder = Holder::me("me", "up");
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let lock = Lock::acquire(&ctx, holder, &options, &|_| {})
            .await
            .unwrap();
        drop(lock);
        assert_eq!(
            (put.num_calls(), create.num_calls(), describe.num_calls()),
            (2, 1, 2)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn another_run_s_lock_is_waited_for_then_refused_naming_its_holder() {
        let [put, get] = held_by(other());
        let ctx = testing::dynamodb(&[&put, &get]);
        let heard = Mutex::new(Vec::new());
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let err = Lock::acquire(&ctx, Holder::me("me", "down"), &options, &|h| {
            heard.lock().unwrap().push(h.host.clone())
        })
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("ana-laptop (pid 42, stackctl up)"),
            "{err}"
        );
        assert!(put.num_calls() > 2, "it tried again while waiting");
        assert_eq!(
            *heard.lock().unwrap(),
            ["ana-laptop"],
            "told once per holder"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupt_ends_the_wait() {
        let [put, get] = held_by(other());
        let ctx = testing::dynamodb(&[&put, &get]);
        let options = options(Duration::from_secs(60), Duration::from_secs(600));
        let stop = options.lost.clone();
        let err = Lock::acquire(&ctx, Holder::me("me", "up"), &options, &|_| {
            stop.store(true, Ordering::SeqCst)
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Interrupted { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_put_whose_answer_was_lost_took_the_lock() {
        // The first put took the lock; its retry is refused; the item read is our own.
        let mine = Arc::new(Mutex::new(None::<HashMap<String, AttributeValue>>));
        let seen = mine.clone();
        let put = mock!(aws_sdk_dynamodb::Client::put_item)
            .match_requests(move |r| {
                *seen.lock().unwrap() = r.item().cloned();
                true
            })
            .then_error(|| {
                PutItemError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ConditionalCheckFailedException")
                        .build(),
                )
            });
        let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
            GetItemOutput::builder()
                .set_item(mine.lock().unwrap().clone())
                .build()
        });
        let ctx = testing::dynamodb(&[&put, &get]);
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        Lock::acquire(&ctx, Holder::me("me", "up"), &options, &|_| {
            panic!("it is ours")
        })
        .await
        .unwrap();
        assert_eq!((put.num_calls(), get.num_calls()), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_lease_is_renewed_every_third_of_it() {
        let put = put_ok();
        let renew = mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(|r| {
                r.condition_expression() == Some("#t = :me")
                    && r.update_expression() == Some("SET #e = :e")
            })
            .then_output(|| UpdateItemOutput::builder().build());
        let ctx = testing::dynamodb(&[&put, &renew]);
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let lock = Lock::acquire(&ctx, Holder::me("me", "up"), &options, &|_| {})
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(renew.num_calls(), 3, "at 20, 40 and 60 s");
        assert!(!lock.was_lost());
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_that_lapsed_and_was_taken_over_stops_the_run() {
        let put = put_ok();
        let taken = fails!(
            aws_sdk_dynamodb,
            update_item,
            UpdateItemError,
            "ConditionalCheckFailedException"
        );
        let ctx = testing::dynamodb(&[&put, &taken]);
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let lock = Lock::acquire(&ctx, Holder::me("me", "up"), &options, &|_| {})
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(21)).await;
        assert!(lock.was_lost());
        assert!(
            options.lost.load(Ordering::SeqCst),
            "the run's stop flag is set"
        );
        assert_eq!(taken.num_calls(), 1, "no renewal after the lock is lost");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_renewal_is_tried_again_at_the_next_tick() {
        let put = put_ok();
        let renew = mock!(aws_sdk_dynamodb::Client::update_item)
            .sequence()
            .error(|| {
                UpdateItemError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ProvisionedThroughputExceededException")
                        .build(),
                )
            })
            .output(|| UpdateItemOutput::builder().build())
            .build();
        let ctx = testing::dynamodb(&[&put, &renew]);
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let lock = Lock::acquire(&ctx, Holder::me("me", "up"), &options, &|_| {})
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(41)).await;
        assert_eq!(renew.num_calls(), 2);
        assert!(!lock.was_lost());
    }

    #[tokio::test]
    async fn releasing_a_lock_another_run_took_leaves_theirs_alone() {
        let put = put_ok();
        let theirs = fails!(
            aws_sdk_dynamodb,
            delete_item,
            DeleteItemError,
            "ConditionalCheckFailedException"
        );
        let ctx = testing::dynamodb(&[&put, &theirs]);
        let options = options(Duration::from_secs(60), Duration::from_secs(5));
        let lock = Lock::acquire(&ctx, Holder::me("me", "up"), &options, &|_| {})
            .await
            .unwrap();
        lock.release().await.unwrap();
        assert_eq!(theirs.num_calls(), 1);
    }

    #[tokio::test]
    async fn unlock_removes_whoever_holds_it_and_reads_nothing_without_a_table() {
        let remove_rule = mock!(aws_sdk_dynamodb::Client::delete_item)
            .match_requests(|r| r.condition_expression().is_none())
            .then_output(|| {
                DeleteItemOutput::builder()
                    .set_attributes(Some(other().item("s")))
                    .build()
            });
        let ctx = testing::dynamodb(&[&remove_rule]);
        let removed = remove(&ctx).await.unwrap().unwrap();
        assert_eq!((removed.host.as_str(), removed.pid), ("ana-laptop", 42));

        let no_table = fails!(
            aws_sdk_dynamodb,
            get_item,
            aws_sdk_dynamodb::operation::get_item::GetItemError,
            "ResourceNotFoundException"
        );
        let ctx = testing::dynamodb(&[&no_table]);
        assert_eq!(current(&ctx).await.unwrap(), None);
    }

    #[test]
    fn a_holder_reads_back_from_its_item() {
        let h = other();
        assert_eq!(Holder::from_item(&h.item("s")), h);
    }
}
