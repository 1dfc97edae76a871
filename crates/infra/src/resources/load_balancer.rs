//! The internet-facing Application Load Balancer, in the public subnets of every zone, with
//! the load balancer's security group.

use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer as AwsLoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeSet;

use crate::aws::{elb, named};
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref, resolve_all};
use crate::retry::{self, Progress};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub name: String,
    /// Logical ids of the public subnets.
    pub subnets: Vec<ResourceId>,
    pub security_group: ResourceId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerState {
    pub dns_name: String,
    pub scheme: String,
    pub subnets: BTreeSet<String>,
    pub security_groups: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Subnets {
        have: BTreeSet<String>,
        want: Vec<Ref>,
    },
    SecurityGroups {
        have: BTreeSet<String>,
        want: Vec<Ref>,
    },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let (name, have, want) = match self {
            Self::Subnets { have, want } => ("subnets", have, want),
            Self::SecurityGroups { have, want } => ("security_groups", have, want),
        };
        let mut to: Vec<String> = want.iter().map(Ref::to_string).collect();
        to.sort();
        FieldChange::new(name, show_list(have), show_list(to))
    }
}

/// The field change when `have` is not exactly the references `want`.
fn set_field(
    have: &BTreeSet<String>,
    want: Vec<Ref>,
    make: fn(BTreeSet<String>, Vec<Ref>) -> Field,
) -> Option<Field> {
    let known: BTreeSet<&str> = want.iter().filter_map(|r| r.known.as_deref()).collect();
    let same = known.len() == want.len() && known == have.iter().map(String::as_str).collect();
    (!same).then(|| make(have.clone(), want))
}

impl LoadBalancer {
    fn wanted(&self, refs: &Outputs) -> (Vec<Ref>, Vec<Ref>) {
        (
            self.subnets
                .iter()
                .map(|s| Ref::new(refs, s, Attr::Id))
                .collect(),
            vec![Ref::new(refs, &self.security_group, Attr::Id)],
        )
    }
}

fn state_of(lb: &AwsLoadBalancer) -> LoadBalancerState {
    LoadBalancerState {
        dns_name: lb.dns_name().unwrap_or_default().to_owned(),
        scheme: lb
            .scheme()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        subnets: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_owned))
            .collect(),
        security_groups: lb.security_groups().iter().cloned().collect(),
    }
}

impl Resource for LoadBalancer {
    type State = LoadBalancerState;
    type Field = Field;
    const LABEL: &'static str = "load balancer";
    const WAITS: bool = true;

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs: Vec<&ResourceId> = self.subnets.iter().collect();
        refs.push(&self.security_group);
        refs
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let lbs = elb::load_balancers(scope).await?;
        let arns: Vec<String> = lbs
            .iter()
            .filter_map(|lb| lb.load_balancer_arn().map(str::to_owned))
            .collect();
        let tags = elb::tags_by_arn(ctx, &arns).await?;
        let mut found = Vec::new();
        for lb in lbs {
            let (Some(arn), Some(name)) = (lb.load_balancer_arn(), lb.load_balancer_name()) else {
                continue;
            };
            let tags = tags.get(arn).cloned().unwrap_or_default();
            let wanted = wanted.iter().any(|w| w.spec.name == name);
            let Some(id) = named::claim(&ctx.stack, Self::LABEL, name, &tags, wanted)? else {
                continue;
            };
            found.push(Found {
                id,
                aws_id: arn.to_owned(),
                arn: Some(arn.to_owned()),
                state: lb
                    .state()
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
                tags,
                detail: state_of(lb),
            });
        }
        Ok(found)
    }

    fn diff(&self, found: &LoadBalancerState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        if found.scheme != "internet-facing" {
            diff.replace(format!(
                "it is {}, and a load balancer's scheme cannot change",
                found.scheme
            ));
        }
        let (subnets, groups) = self.wanted(refs);
        diff.fields
            .extend(set_field(&found.subnets, subnets, |have, want| {
                Field::Subnets { have, want }
            }));
        diff.fields
            .extend(set_field(&found.security_groups, groups, |have, want| {
                Field::SecurityGroups { have, want }
            }));
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let (subnets, groups) = self.wanted(new.refs);
        let out = crate::aws::once!(
            aws_sdk_elasticloadbalancingv2,
            ctx.elb
                .create_load_balancer()
                .name(&self.name)
                .r#type(LoadBalancerTypeEnum::Application)
                .scheme(LoadBalancerSchemeEnum::InternetFacing)
                .set_subnets(Some(resolve_all(new.refs, new.id, &subnets)?))
                .set_security_groups(Some(resolve_all(new.refs, new.id, &groups)?))
                .set_tags(Some(elb::to_tags(new.tags)))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateLoadBalancer", e))?;
        let lb = out
            .load_balancers()
            .first()
            .ok_or_else(|| Error::incomplete(new.id, "CreateLoadBalancer", "load balancer"))?;
        let arn = lb.load_balancer_arn().unwrap_or_default().to_owned();
        Ok(Output {
            url: lb.dns_name().map(|d| format!("http://{d}")),
            ..Output::arn(arn)
        })
    }

    /// Listeners and the service need only its ARN; its DNS name answers once it is active.
    async fn ready(
        &self,
        ctx: &Context,
        id: &ResourceId,
        output: &Output,
        _: &Outputs,
        wait: Wait<'_>,
    ) -> Result<()> {
        let what = (id.as_str(), "load balancer", "become active");
        retry::until_ready(&ctx.settings, what, wait, || async {
            let out = ctx
                .elb
                .describe_load_balancers()
                .load_balancer_arns(&output.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(id, "DescribeLoadBalancers", e))?;
            let state = out.load_balancers().first().and_then(|l| l.state());
            Ok(match state.and_then(|s| s.code()) {
                Some(LoadBalancerStateEnum::Active) => Progress::Ready,
                Some(LoadBalancerStateEnum::Failed) => {
                    Progress::Failed(state.and_then(|s| s.reason()).map(str::to_owned))
                }
                code => Progress::Pending(code.map(|c| c.as_str().to_owned())),
            })
        })
        .await
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<LoadBalancerState>,
        field: &Field,
        refs: &Outputs,
    ) -> Result<()> {
        match field {
            Field::Subnets { want, .. } => {
                ctx.elb
                    .set_subnets()
                    .load_balancer_arn(&found.aws_id)
                    .set_subnets(Some(resolve_all(refs, &found.id, want)?))
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "SetSubnets", e))?;
            }
            Field::SecurityGroups { want, .. } => {
                ctx.elb
                    .set_security_groups()
                    .load_balancer_arn(&found.aws_id)
                    .set_security_groups(Some(resolve_all(refs, &found.id, want)?))
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "SetSecurityGroups", e))?;
            }
        }
        Ok(())
    }

    async fn retag(ctx: &Context, found: &Found<LoadBalancerState>, tags: &Tags) -> Result<()> {
        elb::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<LoadBalancerState>, wait: Wait<'_>) -> Result<()> {
        match ctx
            .elb
            .delete_load_balancer()
            .load_balancer_arn(&found.aws_id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some("LoadBalancerNotFound") => return Ok(()),
            Err(e) => return Err(Error::aws(&found.id, "DeleteLoadBalancer", e)),
        }
        // Its network interfaces keep the subnets and the security group busy until it is gone.
        retry::until_gone(
            &ctx.settings,
            (found.id.as_str(), "load balancer"),
            wait,
            || async {
                let out = ctx
                    .elb
                    .describe_load_balancers()
                    .load_balancer_arns(&found.aws_id)
                    .send()
                    .await;
                match out {
                    Ok(out) => Ok(out.load_balancers().first().map(|l| {
                        l.state()
                            .and_then(|s| s.code())
                            .map_or("deleting", |c| c.as_str())
                            .to_owned()
                    })),
                    Err(e) if e.code() == Some("LoadBalancerNotFound") => Ok(None),
                    Err(e) => Err(Error::aws(&found.id, "DescribeLoadBalancers", e)),
                }
            },
        )
        .await
    }

    fn unready(found: &Found<LoadBalancerState>) -> Option<String> {
        (found.state != LoadBalancerStateEnum::Active.as_str())
            .then(|| format!("{} (not active yet)", found.state))
    }

    fn uses(found: &Found<LoadBalancerState>) -> Vec<String> {
        let state = &found.detail;
        state
            .subnets
            .iter()
            .chain(&state.security_groups)
            .cloned()
            .collect()
    }

    fn output(found: &Found<LoadBalancerState>) -> Output {
        Output {
            url: Some(format!("http://{}", found.detail.dns_name)),
            ..Output::arn(found.aws_id.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::operation::set_security_groups::SetSecurityGroupsOutput;
    use aws_sdk_elasticloadbalancingv2::operation::set_subnets::SetSubnetsOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

    fn desired() -> LoadBalancer {
        LoadBalancer {
            name: "s-alb".into(),
            subnets: vec!["public-subnet-1".into(), "public-subnet-2".into()],
            security_group: "alb-security-group".into(),
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[
            ("public-subnet-1", "subnet-1"),
            ("public-subnet-2", "subnet-2"),
            ("alb-security-group", "sg-alb"),
        ])
    }

    fn state(subnets: &[&str], group: &str) -> LoadBalancerState {
        LoadBalancerState {
            dns_name: "lb.example".into(),
            scheme: "internet-facing".into(),
            subnets: subnets.iter().map(|s| (*s).to_owned()).collect(),
            security_groups: [group.to_owned()].into(),
        }
    }

    #[test]
    fn matching_is_unchanged_and_an_internal_one_is_replaced() {
        let found = state(&["subnet-2", "subnet-1"], "sg-alb");
        assert!(desired().diff(&found, &refs()).is_empty());
        let mut internal = found;
        internal.scheme = "internal".into();
        assert!(desired().diff(&internal, &refs()).replace.is_some());
    }

    #[tokio::test]
    async fn subnets_and_groups_are_set_only_when_they_differ() {
        let subnets = rule!(
            aws_sdk_elasticloadbalancingv2,
            set_subnets,
            SetSubnetsOutput
        );
        let groups = rule!(
            aws_sdk_elasticloadbalancingv2,
            set_security_groups,
            SetSecurityGroupsOutput
        );
        let ctx = testing::elb(&[&subnets, &groups]);
        let found = testing::found("load-balancer", "arn:lb", state(&["subnet-1"], "sg-alb"));
        let fields = desired().diff(&found.detail, &refs()).fields;
        assert_eq!(
            fields[0].describe(),
            FieldChange::new("subnets", "subnet-1", "subnet-1, subnet-2")
        );
        desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!((subnets.num_calls(), groups.num_calls()), (1, 0));
    }

    mod calls {
        use aws_sdk_elasticloadbalancingv2::operation::create_load_balancer::CreateLoadBalancerOutput;
        use aws_sdk_elasticloadbalancingv2::operation::delete_load_balancer::{
            DeleteLoadBalancerError, DeleteLoadBalancerOutput,
        };
        use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
        use aws_sdk_elasticloadbalancingv2::types::{
            AvailabilityZone, LoadBalancerState as AwsState,
        };
        use aws_smithy_mocks::{Rule, mock};

        use super::*;
        use crate::resources::testing::fails;

        const ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/s-alb/50dc";

        fn balancer(name: &str, code: LoadBalancerStateEnum) -> AwsLoadBalancer {
            AwsLoadBalancer::builder()
                .load_balancer_arn(format!(
                    "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/{name}/50dc"
                ))
                .load_balancer_name(name)
                .dns_name("lb.example")
                .scheme(LoadBalancerSchemeEnum::InternetFacing)
                .availability_zones(AvailabilityZone::builder().subnet_id("subnet-1").build())
                .availability_zones(AvailabilityZone::builder().subnet_id("subnet-2").build())
                .security_groups("sg-alb")
                .state(AwsState::builder().code(code).reason("no capacity").build())
                .build()
        }

        /// DescribeLoadBalancers of the ARN answering each state in turn (`None`: not found).
        fn states(states: &[Option<LoadBalancerStateEnum>]) -> Rule {
            let mut rule = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
                .match_requests(|r| r.load_balancer_arns() == [ARN])
                .sequence();
            for state in states {
                rule = match state.clone() {
                    Some(code) => rule.output(move || {
                        DescribeLoadBalancersOutput::builder()
                            .load_balancers(balancer("s-alb", code.clone()))
                            .build()
                    }),
                    None => rule.error(|| {
                        aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersError::generic(
                            aws_smithy_types::error::ErrorMetadata::builder()
                                .code("LoadBalancerNotFound")
                                .build(),
                        )
                    }),
                };
            }
            rule.build()
        }

        #[tokio::test]
        async fn create_makes_an_internet_facing_balancer_in_the_public_subnets() {
            let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_load_balancer)
                .match_requests(|r| {
                    r.name() == Some("s-alb")
                        && r.scheme() == Some(&LoadBalancerSchemeEnum::InternetFacing)
                        && r.subnets() == ["subnet-1", "subnet-2"]
                        && r.security_groups() == ["sg-alb"]
                        && r.tags().iter().any(|t| t.key() == Some("stackctl:id"))
                })
                .then_output(|| {
                    CreateLoadBalancerOutput::builder()
                        .load_balancers(balancer("s-alb", LoadBalancerStateEnum::Provisioning))
                        .build()
                });
            let ctx = testing::elb(&[&create]);
            let creating = testing::Creating::new(ResourceId::LOAD_BALANCER, refs());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, ARN);
            assert_eq!(output.url.as_deref(), Some("http://lb.example"));
        }

        #[tokio::test]
        async fn ready_waits_until_active_and_a_failed_one_says_why() {
            let output = Output::arn(ARN);
            let id = ResourceId::LOAD_BALANCER;
            let describe = states(&[
                Some(LoadBalancerStateEnum::Provisioning),
                Some(LoadBalancerStateEnum::Active),
            ]);
            let ctx = testing::elb(&[&describe]);
            desired()
                .ready(&ctx, &id, &output, &refs(), &|_| {})
                .await
                .unwrap();
            assert_eq!(describe.num_calls(), 2);

            let describe = states(&[Some(LoadBalancerStateEnum::Failed)]);
            let ctx = testing::elb(&[&describe]);
            let err = desired()
                .ready(&ctx, &id, &output, &refs(), &|_| {})
                .await
                .unwrap_err();
            assert!(err.to_string().contains("no capacity"), "{err}");
        }

        #[tokio::test]
        async fn observe_reads_the_stack_s_tagged_balancers_only() {
            let list = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
                .then_output(|| {
                    DescribeLoadBalancersOutput::builder()
                        .load_balancers(balancer("s-alb", LoadBalancerStateEnum::Active))
                        .load_balancers(balancer("s-by-hand", LoadBalancerStateEnum::Active))
                        .load_balancers(balancer("shop-alb", LoadBalancerStateEnum::Active))
                        .build()
                });
            let tags = testing::elb_tags(&[(ARN, "load-balancer")]);
            let ctx = testing::elb(&[&list, &tags]);
            let found = LoadBalancer::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].state, "active");
            assert_eq!(LoadBalancer::unready(&found[0]), None);
            assert!(desired().diff(&found[0].detail, &refs()).is_empty());
            assert_eq!(
                LoadBalancer::output(&found[0]).url.as_deref(),
                Some("http://lb.example")
            );
        }

        #[tokio::test]
        async fn delete_waits_until_it_is_gone_and_one_already_gone_is_success() {
            let found = testing::found("load-balancer", ARN, state(&["subnet-1"], "sg-alb"));
            let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_load_balancer)
                .match_requests(|r| r.load_balancer_arn() == Some(ARN))
                .then_output(|| DeleteLoadBalancerOutput::builder().build());
            let describe = states(&[Some(LoadBalancerStateEnum::Active), None]);
            let ctx = testing::elb(&[&delete, &describe]);
            LoadBalancer::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!((delete.num_calls(), describe.num_calls()), (1, 2));

            let gone = fails!(
                aws_sdk_elasticloadbalancingv2,
                delete_load_balancer,
                DeleteLoadBalancerError,
                "LoadBalancerNotFound"
            );
            let ctx = testing::elb(&[&gone]);
            LoadBalancer::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
