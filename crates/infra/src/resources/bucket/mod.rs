//! S3 buckets the services keep files in: private (every kind of public access blocked),
//! encrypted at rest (SSE-S3), and, when the file says so, expiring objects after a number of
//! days. Found by the stack's tag (the tagging API, or the bucket's own tags for a name the
//! file wants); emptied before they are deleted, which the plan says first.
//!
//! stackctl owns a bucket's public access block, default encryption and lifecycle
//! configuration: a rule added by hand is drift, and goes.

mod empty;
mod model;
mod read;

pub use model::{Bucket, BucketState, ENCRYPTION, EXPIRY_RULE, Objects, arn};

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};

use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::{self, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    PublicAccess,
    Encryption {
        from: Option<String>,
    },
    Expiry {
        from: Option<u32>,
        to: Option<u32>,
    },
    /// Lifecycle rules stackctl did not make.
    OtherRules {
        expiry: Option<u32>,
    },
}

fn days(d: Option<u32>) -> String {
    d.map_or_else(|| "never".into(), |d| format!("{d} days"))
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::PublicAccess => FieldChange::new(
                "public_access",
                "not blocked",
                "blocked (all four settings)",
            ),
            Self::Encryption { from } => FieldChange::new(
                "encryption",
                from.as_deref().unwrap_or("(none)"),
                ENCRYPTION,
            ),
            Self::Expiry { from, to } => {
                FieldChange::new("expire_after_days", days(*from), days(*to))
            }
            Self::OtherRules { .. } => FieldChange::new(
                "lifecycle_rules",
                "rules stackctl did not make",
                "only stackctl's",
            ),
        }
    }
}

impl Resource for Bucket {
    type State = BucketState;
    type Field = Field;
    const LABEL: &'static str = "S3 bucket";

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        read::observe(scope, wanted).await
    }

    fn diff(&self, found: &BucketState, _: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.push_if(!found.public_access_blocked, || Field::PublicAccess);
        diff.push_if(found.encryption.is_none(), || Field::Encryption {
            from: found.encryption.clone(),
        });
        if found.other_lifecycle_rules {
            diff.push(Field::OtherRules {
                expiry: self.expire_after_days,
            });
        } else {
            diff.push_if(found.expire_after_days != self.expire_after_days, || {
                Field::Expiry {
                    from: found.expire_after_days,
                    to: self.expire_after_days,
                }
            });
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        create_bucket(ctx, new.id, &self.name).await?;
        put_tags(ctx, new.id, &self.name, new.tags).await?;
        block_public_access(ctx, new.id, &self.name).await?;
        encrypt(ctx, new.id, &self.name).await?;
        if self.expire_after_days.is_some() {
            put_expiry(ctx, new.id, &self.name, self.expire_after_days).await?;
        }
        Ok(output(ctx, &self.name))
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<BucketState>,
        field: &Field,
        _: &Outputs,
    ) -> Result<()> {
        let (id, name) = (&found.id, &found.aws_id);
        match field {
            Field::PublicAccess => block_public_access(ctx, id, name).await,
            Field::Encryption { .. } => encrypt(ctx, id, name).await,
            Field::Expiry { to, .. } | Field::OtherRules { expiry: to } => {
                put_expiry(ctx, id, name, *to).await
            }
        }
    }

    async fn retag(ctx: &Context, found: &Found<BucketState>, tags: &Tags) -> Result<()> {
        put_tags(ctx, &found.id, &found.aws_id, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<BucketState>, wait: Wait<'_>) -> Result<()> {
        empty::empty_and_delete(ctx, &found.id, &found.aws_id, wait).await
    }

    fn deleting(found: &Found<BucketState>) -> Option<String> {
        Some(match found.detail.objects {
            Objects::Count(0) => return None,
            Objects::Count(1) => "empties it first: 1 object is deleted with it".into(),
            Objects::Count(n) => format!("empties it first: {n} objects are deleted with it"),
            Objects::AtLeast(n) => {
                format!("empties it first: more than {n} objects are deleted with it")
            }
        })
    }

    fn uses(_: &Found<BucketState>) -> Vec<String> {
        Vec::new()
    }

    fn output(found: &Found<BucketState>) -> Output {
        Output {
            aws_id: found.aws_id.clone(),
            arn: found.arn.clone(),
            url: None,
        }
    }
}

fn output(ctx: &Context, name: &str) -> Output {
    Output {
        aws_id: name.to_owned(),
        arn: Some(arn(&ctx.region, name)),
        url: None,
    }
}

async fn create_bucket(ctx: &Context, id: &ResourceId, name: &str) -> Result<()> {
    // us-east-1 is the one region that takes no location constraint.
    let location = (ctx.region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(ctx.region.as_str()))
            .build()
    });
    let created = crate::aws::once!(
        aws_sdk_s3,
        ctx.s3
            .create_bucket()
            .bucket(name)
            .set_create_bucket_configuration(location)
    )
    .await
    .map_err(|e| Error::aws(id, "CreateBucket", e));
    match created {
        // Ours already: an earlier attempt whose answer was lost made it (before it could be
        // tagged, so the lookup by tags missed it). A bucket of ours that was there before
        // this run was seen by name when the stack was read, and refused there.
        Err(err) if err.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(err) if err.code() == Some("BucketAlreadyExists") => Err(Error::Conflict {
            resource: format!("S3 bucket {name}"),
            message: "the name is taken by another AWS account (bucket names are global): \
                      rename the bucket's table in the stack file, or the stack"
                .into(),
        }),
        other => other.map(|_| ()),
    }
}

async fn put_tags(ctx: &Context, id: &ResourceId, name: &str, tags: &Tags) -> Result<()> {
    let set = tags::try_to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
        .map_err(Error::request(id, "invalid tag"))?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(Error::request(id, "invalid tagging"))?;
    ctx.s3
        .put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutBucketTagging", e))?;
    Ok(())
}

async fn block_public_access(ctx: &Context, id: &ResourceId, name: &str) -> Result<()> {
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    ctx.s3
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(block)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutPublicAccessBlock", e))?;
    Ok(())
}

async fn encrypt(ctx: &Context, id: &ResourceId, name: &str) -> Result<()> {
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(Error::request(id, "invalid encryption"))?;
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .build(),
        )
        .build()
        .map_err(Error::request(id, "invalid encryption"))?;
    ctx.s3
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutBucketEncryption", e))?;
    Ok(())
}

/// Makes stackctl's expiry rule the bucket's only lifecycle rule, or removes the lifecycle
/// configuration when no expiry is wanted.
async fn put_expiry(ctx: &Context, id: &ResourceId, name: &str, days: Option<u32>) -> Result<()> {
    let Some(days) = days else {
        ctx.s3
            .delete_bucket_lifecycle()
            .bucket(name)
            .send()
            .await
            .map_err(|e| Error::aws(id, "DeleteBucketLifecycle", e))?;
        return Ok(());
    };
    let rule = LifecycleRule::builder()
        .id(EXPIRY_RULE)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(
            LifecycleExpiration::builder()
                .days(i32::try_from(days).unwrap_or(i32::MAX))
                .build(),
        )
        .build()
        .map_err(Error::request(id, "invalid lifecycle rule"))?;
    let config = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(Error::request(id, "invalid lifecycle configuration"))?;
    ctx.s3
        .put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(config)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutBucketLifecycleConfiguration", e))?;
    Ok(())
}

#[cfg(test)]
mod tests;
