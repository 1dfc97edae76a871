//! The ECR repository for the service's images: scan on push, and a lifecycle policy that
//! keeps the newest `keep_images`. Deleting it deletes its images (nothing is left billed).

use aws_sdk_ecr::types::{ImageScanningConfiguration, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{Detail, Diff, Kind, Observed, Output, check_owner};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::spec::Names;
use crate::tags::{self, ID_TAG, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    pub scan_on_push: bool,
    pub keep_images: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryState {
    pub uri: String,
    pub scan_on_push: bool,
    pub lifecycle_policy: Option<serde_json::Value>,
}

/// The lifecycle policy that expires all but the newest `keep` images.
pub fn lifecycle_policy(keep: u32) -> serde_json::Value {
    serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the newest {keep} images"),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep },
            "action": { "type": "expire" }
        }]
    })
}

fn describe_policy(policy: Option<&serde_json::Value>) -> String {
    let Some(policy) = policy else {
        return "(none)".into();
    };
    let rules = policy
        .get("rules")
        .and_then(|r| r.as_array())
        .map_or(0, Vec::len);
    let keep = policy
        .pointer("/rules/0/selection/countNumber")
        .and_then(serde_json::Value::as_u64);
    match (rules, keep) {
        (1, Some(n)) => format!("keep the newest {n} images"),
        (n, _) => format!("{n} custom rule(s)"),
    }
}

pub fn diff(desired: &Repository, observed: &RepositoryState) -> Diff {
    let mut diff = Diff::default();
    diff.compare("scan_on_push", observed.scan_on_push, desired.scan_on_push);
    let want = lifecycle_policy(desired.keep_images);
    if observed.lifecycle_policy.as_ref() != Some(&want) {
        diff.field(
            "lifecycle_policy",
            describe_policy(observed.lifecycle_policy.as_ref()),
            describe_policy(Some(&want)),
        );
    }
    diff
}

pub async fn observe(ctx: &Context, names: &Names) -> Result<Vec<Observed>> {
    let name = &names.repository;
    let out = match ctx
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.code() == Some("RepositoryNotFoundException") => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::aws(
                format!("ECR repository {name}"),
                "DescribeRepositories",
                e,
            ));
        }
    };
    let Some(repo) = out.repositories().first() else {
        return Ok(Vec::new());
    };
    let arn = repo.repository_arn().unwrap_or_default().to_owned();
    let (policy, tag_out) = tokio::join!(
        ctx.ecr.get_lifecycle_policy().repository_name(name).send(),
        ctx.ecr.list_tags_for_resource().resource_arn(&arn).send(),
    );
    let lifecycle_policy = match policy {
        Ok(out) => out
            .lifecycle_policy_text()
            .and_then(|t| serde_json::from_str(t).ok()),
        Err(e) if e.code() == Some("LifecyclePolicyNotFoundException") => None,
        Err(e) => {
            return Err(Error::aws(
                format!("ECR repository {name}"),
                "GetLifecyclePolicy",
                e,
            ));
        }
    };
    let tags: Tags = tag_out
        .map_err(|e| Error::aws(format!("ECR repository {name}"), "ListTagsForResource", e))?
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    check_owner(ctx, Kind::Repository, name, &tags)?;
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(Vec::new());
    };
    Ok(vec![Observed {
        id,
        kind: Kind::Repository,
        aws_id: name.clone(),
        arn: Some(arn),
        state: "available".into(),
        tags,
        detail: Detail::Repository(RepositoryState {
            uri: repo.repository_uri().unwrap_or_default().to_owned(),
            scan_on_push: repo
                .image_scanning_configuration()
                .is_some_and(ImageScanningConfiguration::scan_on_push),
            lifecycle_policy,
        }),
    }])
}

fn ecr_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::unexpected("ECR repository", format!("invalid tag {k}: {e}")))
        })
        .collect()
}

async fn put_policy(ctx: &Context, id: &str, name: &str, keep: u32) -> Result<()> {
    ctx.ecr
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(lifecycle_policy(keep).to_string())
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutLifecyclePolicy", e))?;
    Ok(())
}

pub async fn create(ctx: &Context, id: &str, desired: &Repository, tags: &Tags) -> Result<Output> {
    let out = ctx
        .ecr
        .create_repository()
        .repository_name(&desired.name)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(desired.scan_on_push)
                .build(),
        )
        .set_tags(Some(ecr_tags(tags)?))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateRepository", e))?;
    put_policy(ctx, id, &desired.name, desired.keep_images).await?;
    let repo = out.repository();
    Ok(Output {
        aws_id: desired.name.clone(),
        arn: repo.and_then(|r| r.repository_arn()).map(str::to_owned),
        url: repo.and_then(|r| r.repository_uri()).map(str::to_owned),
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &Repository,
    state: &RepositoryState,
    tags: &Tags,
) -> Result<Output> {
    if state.scan_on_push != desired.scan_on_push {
        ctx.ecr
            .put_image_scanning_configuration()
            .repository_name(&desired.name)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(desired.scan_on_push)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "PutImageScanningConfiguration", e))?;
    }
    if state.lifecycle_policy.as_ref() != Some(&lifecycle_policy(desired.keep_images)) {
        put_policy(ctx, &observed.id, &desired.name, desired.keep_images).await?;
    }
    let missing = tags::missing(tags, &observed.tags);
    if let (false, Some(arn)) = (missing.is_empty(), &observed.arn) {
        ctx.ecr
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecr_tags(&missing)?))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "TagResource", e))?;
    }
    Ok(Output::of(observed))
}

pub async fn delete(ctx: &Context, observed: &Observed) -> Result<()> {
    match ctx
        .ecr
        .delete_repository()
        .repository_name(&observed.aws_id)
        .force(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("RepositoryNotFoundException") => Ok(()),
        Err(e) => Err(Error::aws(&observed.id, "DeleteRepository", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Repository {
        Repository {
            name: "s".into(),
            scan_on_push: true,
            keep_images: 10,
        }
    }

    #[test]
    fn matching_repository_is_unchanged() {
        let state = RepositoryState {
            uri: "u".into(),
            scan_on_push: true,
            lifecycle_policy: Some(lifecycle_policy(10)),
        };
        assert_eq!(diff(&desired(), &state), Diff::default());
    }

    #[test]
    fn a_different_keep_count_or_missing_policy_is_an_update() {
        let state = RepositoryState {
            uri: "u".into(),
            scan_on_push: true,
            lifecycle_policy: Some(lifecycle_policy(3)),
        };
        let d = diff(&desired(), &state);
        assert_eq!(
            (d.fields[0].from.as_str(), d.fields[0].to.as_str()),
            ("keep the newest 3 images", "keep the newest 10 images")
        );
        let state = RepositoryState {
            uri: "u".into(),
            scan_on_push: false,
            lifecycle_policy: None,
        };
        assert_eq!(diff(&desired(), &state).fields.len(), 2);
    }
}
