//! Finding the stack's buckets and reading each: the tagging API names the stack's buckets
//! (no account-wide `ListBuckets`: nothing is read that the stack cannot own); a bucket the
//! file wants that the answer leaves out is asked for by name. Each found bucket's public
//! access block, encryption, lifecycle and first page of objects are read side by side.

use std::collections::{BTreeMap, HashSet};

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::model::{self, Bucket, BucketState, EXPIRY_RULE, Objects};
use crate::aws::{self, named};
use crate::context::Context;
use crate::contract::{Findings, Found, Resource, Scope, Wanted};
use crate::error::{Error, Result};
use crate::tags::{self, Tags};

/// The name in a bucket's ARN (`arn:aws:s3:::name`); `None` for an object's or another ARN.
pub(super) fn name_of(arn: &str) -> Option<&str> {
    let (_, name) = arn.split_once(":s3:::")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

pub(super) async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Bucket>]) -> Findings<Bucket> {
    let ctx = scope.ctx;
    let tagged = aws::tagging::of_scope(scope).await;
    let mut names: BTreeMap<String, Option<Tags>> = tagged
        .iter()
        .filter_map(|(arn, tags)| Some((name_of(arn)?.to_owned(), Some(tags.clone()))))
        .collect();
    for w in wanted {
        names.entry(w.spec.name.clone()).or_insert(None);
    }
    let wanted: HashSet<&str> = wanted.iter().map(|w| w.spec.name.as_str()).collect();
    let found = aws::each(names, |(name, tags)| {
        let wanted = wanted.contains(name.as_str());
        async move { read_one(ctx, name, tags, wanted).await }
    })
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// True for S3's answer about a bucket that is not there.
pub(super) fn is_gone(code: &str) -> bool {
    code == "NoSuchBucket"
}

/// `None` when the bucket went meanwhile, or is not the stack's and not wanted.
async fn read_one(
    ctx: &Context,
    name: String,
    tags: Option<Tags>,
    wanted: bool,
) -> Result<Option<Found<BucketState>>> {
    let tags = match tags {
        Some(tags) => tags,
        None => match tags_of(ctx, &name, wanted).await? {
            Some(tags) => tags,
            None => return Ok(None),
        },
    };
    let Some(id) = named::claim(&ctx.stack, Bucket::LABEL, &name, &tags, wanted)? else {
        return Ok(None);
    };
    let state = tokio::try_join!(
        public_access_blocked(ctx, &name),
        encryption(ctx, &name),
        lifecycle(ctx, &name),
        objects(ctx, &name),
    );
    let (public_access_blocked, encryption, (expire_after_days, other_lifecycle_rules), objects) =
        match state {
            Ok(state) => state,
            Err(err) if err.code().is_some_and(is_gone) => return Ok(None),
            Err(err) => return Err(err),
        };
    Ok(Some(Found {
        id,
        arn: Some(model::arn(&ctx.region, &name)),
        aws_id: name,
        state: "available".into(),
        tags,
        detail: BucketState {
            public_access_blocked,
            encryption,
            expire_after_days,
            other_lifecycle_rules,
            objects,
        },
    }))
}

/// A bucket's tags; `None` when there is no such bucket. A bucket the file wants that cannot
/// be read is another account's (names are global) or the identity may not read it: said.
async fn tags_of(ctx: &Context, name: &str, wanted: bool) -> Result<Option<Tags>> {
    match ctx.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(Some(tags::collect(
            out.tag_set()
                .iter()
                .map(|t| (Some(t.key()), Some(t.value()))),
        ))),
        Err(e) if e.code() == Some("NoSuchTagSet") => Ok(Some(Tags::new())),
        Err(e) if e.code().is_some_and(is_gone) => Ok(None),
        Err(e) if wanted && matches!(e.code(), Some("AccessDenied" | "Forbidden")) => {
            Err(Error::Conflict {
                resource: format!("S3 bucket {name}"),
                message: "exists but cannot be read (AccessDenied): another AWS account holds \
                          the name (bucket names are global), or these credentials may not read \
                          it. Rename the bucket's table in the stack file, or the stack"
                    .into(),
            })
        }
        Err(e) => Err(Error::aws(
            format!("S3 bucket {name}"),
            "GetBucketTagging",
            e,
        )),
    }
}

fn subject(name: &str) -> String {
    format!("S3 bucket {name}")
}

async fn public_access_blocked(ctx: &Context, name: &str) -> Result<bool> {
    match ctx.s3.get_public_access_block().bucket(name).send().await {
        Ok(out) => Ok(out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        })),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(false),
        Err(e) => Err(Error::aws(subject(name), "GetPublicAccessBlock", e)),
    }
}

async fn encryption(ctx: &Context, name: &str) -> Result<Option<String>> {
    match ctx.s3.get_bucket_encryption().bucket(name).send().await {
        Ok(out) => Ok(out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_owned())),
        Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => Ok(None),
        Err(e) => Err(Error::aws(subject(name), "GetBucketEncryption", e)),
    }
}

/// The days of stackctl's expiry rule, and whether any other rule is there.
async fn lifecycle(ctx: &Context, name: &str) -> Result<(Option<u32>, bool)> {
    let out = ctx
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(name)
        .send()
        .await;
    let rules = match out {
        Ok(out) => out.rules().to_vec(),
        Err(e) if e.code() == Some("NoSuchLifecycleConfiguration") => Vec::new(),
        Err(e) => {
            return Err(Error::aws(
                subject(name),
                "GetBucketLifecycleConfiguration",
                e,
            ));
        }
    };
    let ours = rules.iter().find(|r| r.id() == Some(EXPIRY_RULE));
    let days = ours
        .and_then(|r| r.expiration())
        .and_then(|e| e.days())
        .and_then(|d| u32::try_from(d).ok());
    let others = rules.iter().any(|r| r.id() != Some(EXPIRY_RULE));
    Ok((days, others))
}

async fn objects(ctx: &Context, name: &str) -> Result<Objects> {
    let out = ctx
        .s3
        .list_objects_v2()
        .bucket(name)
        .send()
        .await
        .map_err(|e| Error::aws(subject(name), "ListObjectsV2", e))?;
    let count = out.contents().len();
    Ok(if out.is_truncated() == Some(true) {
        Objects::AtLeast(count)
    } else {
        Objects::Count(count)
    })
}
