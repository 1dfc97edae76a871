//! The ECR repository for the service's images: scan on push, and a lifecycle policy that
//! keeps the newest `keep_images`. Deleting it deletes its images (nothing is left billed).

use aws_sdk_ecr::types::{ImageScanningConfiguration, Repository as AwsRepository, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::{self, Tags};

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
    pub lifecycle_policy: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    ScanOnPush(bool),
    /// Keep the newest N images (the policy as it is, for the plan).
    Lifecycle {
        from: Option<Value>,
        keep: u32,
    },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::ScanOnPush(on) => FieldChange::new("scan_on_push", !on, on),
            Self::Lifecycle { from, keep } => FieldChange::new(
                "lifecycle_policy",
                describe_policy(from.as_ref()),
                describe_policy(Some(&lifecycle_policy(*keep))),
            ),
        }
    }
}

/// The lifecycle policy that expires all but the newest `keep` images.
pub fn lifecycle_policy(keep: u32) -> Value {
    serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the newest {keep} images"),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep },
            "action": { "type": "expire" }
        }]
    })
}

fn describe_policy(policy: Option<&Value>) -> String {
    let Some(policy) = policy else {
        return "(none)".into();
    };
    let rules = policy
        .get("rules")
        .and_then(|r| r.as_array())
        .map_or(0, Vec::len);
    let keep = policy
        .pointer("/rules/0/selection/countNumber")
        .and_then(Value::as_u64);
    match (rules, keep) {
        (1, Some(n)) => format!("keep the newest {n} images"),
        (n, _) => format!("{n} custom rule(s)"),
    }
}

fn ecr_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags::try_to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
        .map_err(Error::request("ECR repository", "invalid tag"))
}

impl Resource for Repository {
    type State = RepositoryState;
    type Field = Field;
    const LABEL: &'static str = "ECR repository";

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let all = aws::all(
            ctx.ecr
                .describe_repositories()
                .into_paginator()
                .items()
                .send(),
            |e| Error::aws("ECR repositories", "DescribeRepositories", e),
        )
        .await?;
        let ours: Vec<_> = all
            .iter()
            .filter(|r| {
                r.repository_name()
                    .is_some_and(|n| named::belongs(&ctx.stack, n))
            })
            .collect();
        let found = aws::each(ours, |repo| {
            let wanted = wanted
                .iter()
                .any(|w| repo.repository_name() == Some(w.spec.name.as_str()));
            observe_one(ctx, repo, wanted)
        })
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    fn diff(&self, found: &RepositoryState, _: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.push_if(found.scan_on_push != self.scan_on_push, || {
            Field::ScanOnPush(self.scan_on_push)
        });
        let want = lifecycle_policy(self.keep_images);
        diff.push_if(found.lifecycle_policy.as_ref() != Some(&want), || {
            Field::Lifecycle {
                from: found.lifecycle_policy.clone(),
                keep: self.keep_images,
            }
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let out = crate::aws::once!(
            aws_sdk_ecr,
            ctx.ecr
                .create_repository()
                .repository_name(&self.name)
                .image_scanning_configuration(scanning(self.scan_on_push))
                .set_tags(Some(ecr_tags(new.tags)?))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateRepository", e))?;
        put_policy(ctx, new.id, &self.name, self.keep_images).await?;
        let repo = out.repository();
        Ok(Output {
            aws_id: self.name.clone(),
            arn: repo.and_then(|r| r.repository_arn()).map(str::to_owned),
            url: repo.and_then(|r| r.repository_uri()).map(str::to_owned),
        })
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<RepositoryState>,
        field: &Field,
        _: &Outputs,
    ) -> Result<()> {
        match field {
            Field::ScanOnPush(on) => {
                ctx.ecr
                    .put_image_scanning_configuration()
                    .repository_name(&found.aws_id)
                    .image_scanning_configuration(scanning(*on))
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "PutImageScanningConfiguration", e))?;
                Ok(())
            }
            Field::Lifecycle { keep, .. } => put_policy(ctx, &found.id, &found.aws_id, *keep).await,
        }
    }

    async fn retag(ctx: &Context, found: &Found<RepositoryState>, tags: &Tags) -> Result<()> {
        let Some(arn) = &found.arn else {
            return Ok(());
        };
        ctx.ecr
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecr_tags(tags)?))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "TagResource", e))?;
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<RepositoryState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .ecr
            .delete_repository()
            .repository_name(&found.aws_id)
            .force(true)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteRepository", e));
        aws::gone_is_ok(result, |c| c == "RepositoryNotFoundException")
    }

    fn uses(_: &Found<RepositoryState>) -> Vec<String> {
        Vec::new()
    }

    fn output(found: &Found<RepositoryState>) -> Output {
        Output {
            aws_id: found.aws_id.clone(),
            arn: found.arn.clone(),
            url: Some(found.detail.uri.clone()),
        }
    }
}

async fn put_policy(ctx: &Context, id: &ResourceId, name: &str, keep: u32) -> Result<()> {
    ctx.ecr
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(lifecycle_policy(keep).to_string())
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutLifecyclePolicy", e))?;
    Ok(())
}

fn scanning(on: bool) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(on)
        .build()
}

async fn observe_one(
    ctx: &Context,
    repo: &AwsRepository,
    wanted: bool,
) -> Result<Option<Found<RepositoryState>>> {
    let name = repo.repository_name().unwrap_or_default();
    let arn = repo.repository_arn().unwrap_or_default().to_owned();
    let resource = format!("ECR repository {name}");
    let (policy, tag_out) = tokio::join!(
        ctx.ecr.get_lifecycle_policy().repository_name(name).send(),
        ctx.ecr.list_tags_for_resource().resource_arn(&arn).send(),
    );
    let lifecycle_policy = match policy {
        Ok(out) => out
            .lifecycle_policy_text()
            .and_then(|t| serde_json::from_str(t).ok()),
        Err(e) if e.code() == Some("LifecyclePolicyNotFoundException") => None,
        // Deleted between the listing and this read.
        Err(e) if e.code() == Some("RepositoryNotFoundException") => return Ok(None),
        Err(e) => return Err(Error::aws(resource, "GetLifecyclePolicy", e)),
    };
    let tags = match tag_out {
        Ok(out) => tags::collect(out.tags().iter().map(|t| (Some(t.key()), Some(t.value())))),
        Err(e) if e.code() == Some("RepositoryNotFoundException") => return Ok(None),
        Err(e) => return Err(Error::aws(resource, "ListTagsForResource", e)),
    };
    let Some(id) = named::claim(&ctx.stack, Repository::LABEL, name, &tags, wanted)? else {
        return Ok(None);
    };
    Ok(Some(Found {
        id,
        aws_id: name.to_owned(),
        arn: Some(arn),
        state: "available".into(),
        tags,
        detail: RepositoryState {
            uri: repo.repository_uri().unwrap_or_default().to_owned(),
            scan_on_push: repo
                .image_scanning_configuration()
                .is_some_and(ImageScanningConfiguration::scan_on_push),
            lifecycle_policy,
        },
    }))
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecr::operation::put_image_scanning_configuration::PutImageScanningConfigurationOutput;
    use aws_sdk_ecr::operation::put_lifecycle_policy::PutLifecyclePolicyOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

    fn desired() -> Repository {
        Repository {
            name: "s".into(),
            scan_on_push: true,
            keep_images: 10,
        }
    }

    fn state(scan: bool, policy: Option<Value>) -> RepositoryState {
        RepositoryState {
            uri: "u".into(),
            scan_on_push: scan,
            lifecycle_policy: policy,
        }
    }

    #[test]
    fn matching_repository_is_unchanged() {
        let found = state(true, Some(lifecycle_policy(10)));
        assert!(desired().diff(&found, &Outputs::new()).is_empty());
    }

    #[test]
    fn a_different_keep_count_or_missing_policy_is_an_update() {
        let d = desired().diff(&state(true, Some(lifecycle_policy(3))), &Outputs::new());
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new(
                "lifecycle_policy",
                "keep the newest 3 images",
                "keep the newest 10 images"
            )
        );
        assert_eq!(
            desired()
                .diff(&state(false, None), &Outputs::new())
                .fields
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn each_field_is_its_own_call() {
        let scan = rule!(
            aws_sdk_ecr,
            put_image_scanning_configuration,
            PutImageScanningConfigurationOutput
        );
        let policy = rule!(aws_sdk_ecr, put_lifecycle_policy, PutLifecyclePolicyOutput);
        let ctx = testing::ecr(&[&scan, &policy]);
        let found = testing::found("repository", "s", state(false, Some(lifecycle_policy(10))));
        let fields = desired().diff(&found.detail, &Outputs::new()).fields;
        desired()
            .update(&ctx, &found, &fields, &Outputs::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!((scan.num_calls(), policy.num_calls()), (1, 0));
    }

    mod calls {
        use aws_sdk_ecr::operation::create_repository::CreateRepositoryOutput;
        use aws_sdk_ecr::operation::delete_repository::{
            DeleteRepositoryError, DeleteRepositoryOutput,
        };
        use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
        use aws_sdk_ecr::operation::get_lifecycle_policy::{
            GetLifecyclePolicyError, GetLifecyclePolicyOutput,
        };
        use aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceOutput;
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        const ARN: &str = "arn:aws:ecr:us-east-1:1:repository/s";
        const URI: &str = "1.dkr.ecr.us-east-1.amazonaws.com/s";

        #[tokio::test]
        async fn create_makes_the_scanned_tagged_repository_and_its_lifecycle_policy() {
            let create = mock!(aws_sdk_ecr::Client::create_repository)
                .match_requests(|r| {
                    r.repository_name() == Some("s")
                        && r.image_scanning_configuration()
                            .is_some_and(|c| c.scan_on_push())
                        && r.tags().iter().any(|t| t.key() == "stackctl:id")
                })
                .then_output(|| {
                    let repo = AwsRepository::builder()
                        .repository_arn(ARN)
                        .repository_uri(URI)
                        .build();
                    CreateRepositoryOutput::builder().repository(repo).build()
                });
            let policy = mock!(aws_sdk_ecr::Client::put_lifecycle_policy)
                .match_requests(|r| {
                    r.lifecycle_policy_text()
                        .and_then(|t| serde_json::from_str(t).ok())
                        == Some(lifecycle_policy(10))
                })
                .then_output(|| PutLifecyclePolicyOutput::builder().build());
            let ctx = testing::ecr(&[&create, &policy]);
            let creating = testing::Creating::new(ResourceId::REPOSITORY, Outputs::new());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "s");
            assert_eq!(output.url.as_deref(), Some(URI));
            assert_eq!(policy.num_calls(), 1);
        }

        #[tokio::test]
        async fn observe_reads_scanning_and_policy_and_skips_a_repository_deleted_meanwhile() {
            let list = mock!(aws_sdk_ecr::Client::describe_repositories).then_output(|| {
                let repo = |name: &str| {
                    AwsRepository::builder()
                        .repository_name(name)
                        .repository_arn(format!("arn:aws:ecr:us-east-1:1:repository/{name}"))
                        .repository_uri(URI)
                        .image_scanning_configuration(scanning(true))
                        .build()
                };
                DescribeRepositoriesOutput::builder()
                    .repositories(repo("s"))
                    .repositories(repo("s-gone"))
                    .repositories(repo("other"))
                    .build()
            });
            let policy = mock!(aws_sdk_ecr::Client::get_lifecycle_policy)
                .match_requests(|r| r.repository_name() == Some("s"))
                .then_output(|| {
                    GetLifecyclePolicyOutput::builder()
                        .lifecycle_policy_text(lifecycle_policy(10).to_string())
                        .build()
                });
            let gone = fails!(
                aws_sdk_ecr,
                get_lifecycle_policy,
                GetLifecyclePolicyError,
                "RepositoryNotFoundException"
            );
            let tags = mock!(aws_sdk_ecr::Client::list_tags_for_resource).then_output(|| {
                let tags = testing::stack_tags("repository").into_iter().map(|(k, v)| {
                    aws_sdk_ecr::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                        .unwrap()
                });
                ListTagsForResourceOutput::builder()
                    .set_tags(Some(tags.collect()))
                    .build()
            });
            let ctx = testing::ecr(&[&list, &policy, &gone, &tags]);
            let found = Repository::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::REPOSITORY);
            assert_eq!(found[0].detail.uri, URI);
            assert!(desired().diff(&found[0].detail, &Outputs::new()).is_empty());
        }

        #[tokio::test]
        async fn delete_forces_out_its_images_and_a_repository_already_gone_is_success() {
            let found = testing::found("repository", "s", state(true, None));
            let delete = mock!(aws_sdk_ecr::Client::delete_repository)
                .match_requests(|r| r.repository_name() == Some("s") && r.force() == Some(true))
                .then_output(|| DeleteRepositoryOutput::builder().build());
            let ctx = testing::ecr(&[&delete]);
            Repository::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);

            let gone = fails!(
                aws_sdk_ecr,
                delete_repository,
                DeleteRepositoryError,
                "RepositoryNotFoundException"
            );
            let ctx = testing::ecr(&[&gone]);
            Repository::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
