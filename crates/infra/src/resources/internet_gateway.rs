//! The internet gateway and its attachment to the VPC.

use aws_sdk_ec2::types::ResourceType;

use crate::aws::ec2;
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetGateway {
    /// Logical id of the VPC to attach to.
    pub vpc: ResourceId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetGatewayState {
    /// VPC ids it is attached to.
    pub attached: Vec<String>,
}

/// The attachment to put right: detach from `detach`, attach to `attach`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Attachment {
        attached: Vec<String>,
        detach: Vec<String>,
        attach: Option<Ref>,
    },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::Attachment {
            attached,
            detach,
            attach,
        } = self;
        let mut after: Vec<String> = attached
            .iter()
            .filter(|v| !detach.contains(v))
            .cloned()
            .collect();
        after.extend(attach.iter().map(Ref::to_string));
        FieldChange::new("attached_vpc", show_list(attached), show_list(after))
    }
}

impl Resource for InternetGateway {
    type State = InternetGatewayState;
    type Field = Field;
    const LABEL: &'static str = "internet gateway";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let what = ("internet gateways", "DescribeInternetGateways");
        let items = ec2::describe_stack!(ctx, describe_internet_gateways, filters, what)?;
        Ok(ec2::found(ctx, &items, |igw| {
            let attached: Vec<String> = igw
                .attachments()
                .iter()
                .filter_map(|a| a.vpc_id().map(str::to_owned))
                .collect();
            let state = if attached.is_empty() {
                "detached"
            } else {
                "attached"
            };
            let seen = ec2::Seen::new(igw.tags(), igw.internet_gateway_id()).state(Some(state));
            (seen, InternetGatewayState { attached })
        }))
    }

    fn diff(&self, found: &InternetGatewayState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let vpc = Ref::new(refs, &self.vpc, Attr::Id);
        let detach: Vec<String> = found
            .attached
            .iter()
            .filter(|v| !vpc.is(v))
            .cloned()
            .collect();
        let attached_right = found.attached.iter().any(|v| vpc.is(v));
        if !detach.is_empty() || !attached_right {
            diff.push(Field::Attachment {
                attached: found.attached.clone(),
                detach,
                attach: (!attached_right).then_some(vpc),
            });
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let vpc = Ref::new(new.refs, &self.vpc, Attr::Id).resolve(new.refs, new.id)?;
        let out = crate::aws::once!(
            aws_sdk_ec2,
            ctx.ec2
                .create_internet_gateway()
                .tag_specifications(ec2::tag_spec(ResourceType::InternetGateway, new.tags))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateInternetGateway", e))?;
        let igw_id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| Error::incomplete(new.id, "CreateInternetGateway", "id"))?
            .to_owned();
        retry::until_visible(&ctx.settings, || attach(ctx, new.id, &igw_id, &vpc)).await?;
        Ok(Output::id(igw_id))
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<InternetGatewayState>,
        Field::Attachment {
            detach, attach: to, ..
        }: &Field,
        refs: &Outputs,
    ) -> Result<()> {
        for vpc in detach {
            self::detach(ctx, &found.id, &found.aws_id, vpc).await?;
        }
        if let Some(vpc) = to {
            let vpc = vpc.resolve(refs, &found.id)?;
            attach(ctx, &found.id, &found.aws_id, &vpc).await?;
        }
        Ok(())
    }

    async fn retag(ctx: &Context, found: &Found<InternetGatewayState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(
        ctx: &Context,
        found: &Found<InternetGatewayState>,
        wait: Wait<'_>,
    ) -> Result<()> {
        for vpc in &found.detail.attached {
            // Detaching fails while public addresses in the VPC are still mapped.
            let detached =
                ec2::delete_retrying(ctx, wait, "public addresses to be released", || {
                    detach(ctx, &found.id, &found.aws_id, vpc)
                })
                .await;
            crate::aws::gone_is_ok(detached, |c| c == "Gateway.NotAttached")?;
        }
        let result = ctx
            .ec2
            .delete_internet_gateway()
            .internet_gateway_id(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteInternetGateway", e));
        crate::aws::gone_is_ok(result, ec2::is_not_found)
    }

    fn uses(found: &Found<InternetGatewayState>) -> Vec<String> {
        found.detail.attached.clone()
    }
}

async fn attach(ctx: &Context, id: &ResourceId, igw: &str, vpc: &str) -> Result<()> {
    let attached = ctx
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| Error::aws(id, "AttachInternetGateway", e));
    // Attached already: a retry whose first attempt's answer was lost.
    crate::aws::done_is_ok(attached, &["Resource.AlreadyAssociated"])
}

async fn detach(ctx: &Context, id: &ResourceId, igw: &str, vpc: &str) -> Result<()> {
    ctx.ec2
        .detach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DetachInternetGateway", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::attach_internet_gateway::AttachInternetGatewayOutput;
    use aws_sdk_ec2::operation::detach_internet_gateway::DetachInternetGatewayOutput;

    use super::*;
    use crate::resources::testing::{self, ec2_rule};

    fn desired() -> InternetGateway {
        InternetGateway { vpc: "vpc".into() }
    }

    fn attached(vpcs: &[&str]) -> InternetGatewayState {
        InternetGatewayState {
            attached: vpcs.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn attached_to_the_stack_s_vpc_is_unchanged() {
        let refs = testing::refs(&[("vpc", "vpc-1")]);
        assert!(desired().diff(&attached(&["vpc-1"]), &refs).is_empty());
    }

    #[test]
    fn a_detached_gateway_or_a_new_vpc_shows_the_attachment() {
        let refs = testing::refs(&[("vpc", "vpc-1")]);
        let d = desired().diff(&attached(&[]), &refs);
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("attached_vpc", "(none)", "vpc-1")
        );
        let d = desired().diff(&attached(&["vpc-old"]), &Outputs::new());
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("attached_vpc", "vpc-old", "(new vpc)")
        );
    }

    #[tokio::test]
    async fn moving_the_attachment_detaches_then_attaches() {
        let detach = ec2_rule!(detach_internet_gateway, DetachInternetGatewayOutput);
        let attach = ec2_rule!(attach_internet_gateway, AttachInternetGatewayOutput);
        let ctx = testing::ec2(&[&detach, &attach]);
        let refs = testing::refs(&[("vpc", "vpc-1")]);
        let found = testing::found("internet-gateway", "igw-1", attached(&["vpc-old"]));
        let fields = desired().diff(&found.detail, &refs).fields;
        desired()
            .update(&ctx, &found, &fields, &refs, &|_| {})
            .await
            .unwrap();
        assert_eq!((detach.num_calls(), attach.num_calls()), (1, 1));
    }

    mod calls {
        use aws_sdk_ec2::operation::create_internet_gateway::CreateInternetGatewayOutput;
        use aws_sdk_ec2::operation::delete_internet_gateway::{
            DeleteInternetGatewayError, DeleteInternetGatewayOutput,
        };
        use aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput;
        use aws_sdk_ec2::operation::detach_internet_gateway::DetachInternetGatewayError;
        use aws_sdk_ec2::types::InternetGatewayAttachment;
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        #[tokio::test]
        async fn create_makes_the_tagged_gateway_and_attaches_it_to_the_vpc() {
            let create = mock!(aws_sdk_ec2::Client::create_internet_gateway)
                .match_requests(|r| r.tag_specifications().len() == 1)
                .then_output(|| {
                    let igw = aws_sdk_ec2::types::InternetGateway::builder()
                        .internet_gateway_id("igw-1")
                        .build();
                    CreateInternetGatewayOutput::builder()
                        .internet_gateway(igw)
                        .build()
                });
            let attach = mock!(aws_sdk_ec2::Client::attach_internet_gateway)
                .match_requests(|r| {
                    r.internet_gateway_id() == Some("igw-1") && r.vpc_id() == Some("vpc-1")
                })
                .then_output(|| AttachInternetGatewayOutput::builder().build());
            let ctx = testing::ec2(&[&create, &attach]);
            let refs = testing::refs(&[("vpc", "vpc-1")]);
            let creating = testing::Creating::new(ResourceId::INTERNET_GATEWAY, refs);
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "igw-1");
            assert_eq!(attach.num_calls(), 1);
        }

        #[tokio::test]
        async fn observe_reads_what_each_gateway_is_attached_to() {
            let describe =
                mock!(aws_sdk_ec2::Client::describe_internet_gateways).then_output(|| {
                    let igw = |id: &str, tags, vpc: Option<&str>| {
                        aws_sdk_ec2::types::InternetGateway::builder()
                            .internet_gateway_id(id)
                            .set_attachments(vpc.map(|v| {
                                vec![InternetGatewayAttachment::builder().vpc_id(v).build()]
                            }))
                            .set_tags(Some(tags))
                            .build()
                    };
                    DescribeInternetGatewaysOutput::builder()
                        .internet_gateways(igw(
                            "igw-1",
                            testing::ec2_tags("internet-gateway"),
                            Some("vpc-1"),
                        ))
                        .internet_gateways(igw("igw-other", Vec::new(), None))
                        .build()
                });
            let ctx = testing::ec2(&[&describe]);
            let found = InternetGateway::observe(&Scope::new(&ctx), &[])
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].state, "attached");
            assert_eq!(found[0].detail, attached(&["vpc-1"]));
        }

        #[tokio::test]
        async fn delete_detaches_first_and_either_step_already_done_is_success() {
            let detach = fails!(
                aws_sdk_ec2,
                detach_internet_gateway,
                DetachInternetGatewayError,
                "Gateway.NotAttached"
            );
            let delete = mock!(aws_sdk_ec2::Client::delete_internet_gateway)
                .then_output(|| DeleteInternetGatewayOutput::builder().build());
            let ctx = testing::ec2(&[&detach, &delete]);
            let found = testing::found("internet-gateway", "igw-1", attached(&["vpc-1"]));
            InternetGateway::delete(&ctx, &found, &|_| {})
                .await
                .unwrap();
            assert_eq!((detach.num_calls(), delete.num_calls()), (1, 1));

            let gone = fails!(
                aws_sdk_ec2,
                delete_internet_gateway,
                DeleteInternetGatewayError,
                "InvalidInternetGatewayID.NotFound"
            );
            let ctx = testing::ec2(&[&gone]);
            let found = testing::found("internet-gateway", "igw-1", attached(&[]));
            InternetGateway::delete(&ctx, &found, &|_| {})
                .await
                .unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
