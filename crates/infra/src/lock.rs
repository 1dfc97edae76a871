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
                return Err(Error::Interrupted);
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
