//! A service discovery entry (Cloud Map service) per internal service: ECS registers each
//! task's private IP under `<service>.<stack>.internal` (an A record, 10 s TTL), so the
//! stack's other services call it by name.

use aws_sdk_servicediscovery::types::{
    DnsConfig, DnsRecord, FilterCondition, HealthCheckCustomConfig, RecordType, RoutingPolicy,
    ServiceFilter, ServiceFilterName,
};

use crate::aws::{self, cloudmap};
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::{self, Tags};

/// How long resolvers keep an answer: short, so a replaced task is found soon.
const TTL_SECS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryService {
    /// The name callers use: the service's name in the stack file.
    pub name: String,
    /// The namespace (logical id) it is in.
    pub namespace: ResourceId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryState {
    pub name: String,
    pub namespace_id: String,
}

impl Resource for DiscoveryService {
    type State = DiscoveryState;
    type Field = NoField;
    const LABEL: &'static str = "discovery service";

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.namespace]
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.namespace]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let namespaces: Vec<String> = cloudmap::namespaces(ctx)
            .await?
            .into_iter()
            .map(|n| n.id)
            .collect();
        let mut found = Vec::new();
        for namespace in &namespaces {
            let services = aws::all(
                ctx.discovery
                    .list_services()
                    .filters(
                        ServiceFilter::builder()
                            .name(ServiceFilterName::NamespaceId)
                            .values(namespace)
                            .condition(FilterCondition::Eq)
                            .build()
                            .map_err(Error::request(
                                "discovery services",
                                "the namespace filter",
                            ))?,
                    )
                    .into_paginator()
                    .send(),
                |e| Error::aws("discovery services", "ListServices", e),
            )
            .await?;
            let services = services.iter().flat_map(|page| page.services());
            for service in services {
                found.extend(one(ctx, service, namespace).await?);
            }
        }
        Ok(found)
    }

    fn diff(&self, found: &DiscoveryState, refs: &Outputs) -> Diff<NoField> {
        let mut diff = Diff::default();
        let namespace = Ref::new(refs, &self.namespace, Attr::Id);
        if namespace.known.is_some() && !namespace.is(&found.namespace_id) {
            diff.replace("it is in another namespace");
        }
        if found.name != self.name {
            diff.replace(format!(
                "it answers to {:?}, not {:?}",
                found.name, self.name
            ));
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let namespace = Ref::new(new.refs, &self.namespace, Attr::Id).resolve(new.refs, new.id)?;
        let record = DnsRecord::builder()
            .r#type(RecordType::A)
            .ttl(TTL_SECS)
            .build()
            .map_err(Error::request(new.id, "its DNS record"))?;
        let dns = DnsConfig::builder()
            .routing_policy(RoutingPolicy::Multivalue)
            .dns_records(record)
            .build()
            .map_err(Error::request(new.id, "its DNS configuration"))?;
        let out = crate::aws::once!(
            aws_sdk_servicediscovery,
            ctx.discovery
                .create_service()
                .name(&self.name)
                .namespace_id(&namespace)
                .creator_request_id(new.token)
                .dns_config(dns)
                // ECS reports each task's health to Cloud Map itself.
                .health_check_custom_config(HealthCheckCustomConfig::builder().build())
                .set_tags(Some(cloudmap::to_tags(new.tags)?))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateService", e))?;
        let service = out
            .service()
            .ok_or_else(|| Error::incomplete(new.id, "CreateService", "service"))?;
        let id = service
            .id()
            .ok_or_else(|| Error::incomplete(new.id, "CreateService", "id"))?;
        Ok(Output {
            aws_id: id.to_owned(),
            arn: service.arn().map(str::to_owned),
            url: None,
        })
    }

    async fn retag(ctx: &Context, found: &Found<DiscoveryState>, tags: &Tags) -> Result<()> {
        let arn = found.arn.as_deref().unwrap_or(&found.aws_id);
        cloudmap::retag(ctx, &found.id, arn, tags).await
    }

    /// Deletes it once ECS has taken the tasks' records out (the ECS service goes first).
    async fn delete(ctx: &Context, found: &Found<DiscoveryState>, wait: Wait<'_>) -> Result<()> {
        let result = crate::retry::while_codes(
            &ctx.settings,
            &["ResourceInUse"],
            |err| wait(format!("waiting for the tasks' records to go: {err}")),
            || async {
                ctx.discovery
                    .delete_service()
                    .id(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "DeleteService", e))
            },
        )
        .await;
        aws::gone_is_ok(result, |c| c == "ServiceNotFound")
    }

    fn uses(found: &Found<DiscoveryState>) -> Vec<String> {
        vec![found.detail.namespace_id.clone()]
    }
}

/// A service of the listing, when it is one of the stack's.
async fn one(
    ctx: &Context,
    service: &aws_sdk_servicediscovery::types::ServiceSummary,
    namespace: &str,
) -> Result<Option<Found<DiscoveryState>>> {
    let (Some(id), Some(arn), Some(name)) = (service.id(), service.arn(), service.name()) else {
        return Ok(None);
    };
    let tags = cloudmap::tags_of(ctx, arn).await?;
    let Some(logical) = tags::logical_id(&ctx.stack, &tags) else {
        return Ok(None);
    };
    // Not every endpoint honours the filter: the service says where it is.
    let got = ctx
        .discovery
        .get_service()
        .id(id)
        .send()
        .await
        .map_err(|e| Error::aws(&logical, "GetService", e))?;
    let namespace_id = got
        .service()
        .and_then(|s| s.namespace_id())
        .unwrap_or(namespace)
        .to_owned();
    Ok(Some(Found {
        id: logical,
        aws_id: id.to_owned(),
        arn: Some(arn.to_owned()),
        state: format!("{} instances", service.instance_count().unwrap_or_default()),
        tags,
        detail: DiscoveryState {
            name: name.to_owned(),
            namespace_id,
        },
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_sdk_servicediscovery::operation::create_service::CreateServiceOutput;
    use aws_sdk_servicediscovery::operation::delete_service::{
        DeleteServiceError, DeleteServiceOutput,
    };
    use aws_sdk_servicediscovery::operation::get_service::GetServiceOutput;
    use aws_sdk_servicediscovery::operation::list_services::ListServicesOutput;
    use aws_sdk_servicediscovery::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_servicediscovery::types::{Service, ServiceSummary, Tag};
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::id::ServiceIds;
    use crate::resources::namespace::tests::listing;
    use crate::resources::testing::{self, fails};

    const ARN: &str = "arn:aws:servicediscovery:us-east-1:1:service/srv-1";

    fn id() -> ResourceId {
        ServiceIds::named("backend").discovery
    }

    fn desired() -> DiscoveryService {
        DiscoveryService {
            name: "backend".into(),
            namespace: ResourceId::NAMESPACE,
        }
    }

    fn state(name: &str, namespace_id: &str) -> DiscoveryState {
        DiscoveryState {
            name: name.into(),
            namespace_id: namespace_id.into(),
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[("namespace", "ns-1")])
    }

    #[tokio::test]
    async fn create_registers_an_a_record_in_the_namespace() {
        let create = mock!(aws_sdk_servicediscovery::Client::create_service)
            .match_requests(|r| {
                let record = r
                    .dns_config()
                    .and_then(|d| d.dns_records().first())
                    .map(|r| (r.r#type().clone(), r.ttl()));
                r.name() == Some("backend")
                    && r.namespace_id() == Some("ns-1")
                    && r.creator_request_id() == Some("token-1")
                    && record == Some((RecordType::A, TTL_SECS))
                    && r.health_check_custom_config().is_some()
            })
            .then_output(|| {
                CreateServiceOutput::builder()
                    .service(Service::builder().id("srv-1").arn(ARN).build())
                    .build()
            });
        let ctx = testing::cloudmap(&[&create]);
        let creating = testing::Creating::new(id(), refs());
        let output = desired().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, "srv-1");
        assert_eq!(output.arn.as_deref(), Some(ARN));
    }

    #[tokio::test]
    async fn observe_reads_the_stack_s_services_in_its_namespace() {
        let [namespaces, namespace_tags] = listing();
        let list = mock!(aws_sdk_servicediscovery::Client::list_services)
            .match_requests(|r| r.filters().iter().any(|f| f.values() == ["ns-1"]))
            .then_output(|| {
                let summary = |id: &str, name: &str| {
                    ServiceSummary::builder()
                        .id(id)
                        .arn(format!("arn:aws:servicediscovery:us-east-1:1:service/{id}"))
                        .name(name)
                        .instance_count(2)
                        .build()
                };
                ListServicesOutput::builder()
                    .services(summary("srv-1", "backend"))
                    .services(summary("srv-9", "by-hand"))
                    .build()
            });
        let tags = mock!(aws_sdk_servicediscovery::Client::list_tags_for_resource)
            .match_requests(|r| {
                r.resource_arn() != Some(crate::resources::namespace::tests::NS_ARN)
            })
            .then_output(|| ListTagsForResourceOutput::builder().build());
        let ours = mock!(aws_sdk_servicediscovery::Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some(ARN))
            .then_output(|| {
                let tags = testing::stack_tags("discovery-backend")
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap());
                ListTagsForResourceOutput::builder()
                    .set_tags(Some(tags.collect()))
                    .build()
            });
        let get = mock!(aws_sdk_servicediscovery::Client::get_service)
            .match_requests(|r| r.id() == Some("srv-1"))
            .then_output(|| {
                GetServiceOutput::builder()
                    .service(Service::builder().id("srv-1").namespace_id("ns-1").build())
                    .build()
            });
        // The untagged service answers no tags: it is someone else's and is not read further.
        let ctx = testing::cloudmap(&[&namespaces, &namespace_tags, &list, &ours, &tags, &get]);
        let found = DiscoveryService::observe(&Scope::new(&ctx), &[])
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, id());
        assert_eq!(found[0].aws_id, "srv-1");
        assert_eq!(found[0].state, "2 instances");
        assert_eq!(found[0].detail, state("backend", "ns-1"));
        assert!(desired().diff(&found[0].detail, &refs()).is_empty());
        assert_eq!(get.num_calls(), 1);
    }

    #[test]
    fn another_namespace_or_name_is_a_replace_and_an_unmade_namespace_is_not() {
        let diff = desired().diff(&state("backend", "ns-old"), &refs());
        assert!(diff.replace.is_some());
        let diff = desired().diff(&state("front", "ns-1"), &refs());
        assert!(diff.replace.is_some());
        // The namespace is being made in this run: where the service is cannot be told yet.
        let diff = desired().diff(&state("backend", "ns-old"), &Outputs::new());
        assert!(diff.is_empty());
    }

    #[tokio::test]
    async fn delete_waits_for_ecs_to_take_the_records_out() {
        let delete = mock!(aws_sdk_servicediscovery::Client::delete_service)
            .sequence()
            .error(|| {
                DeleteServiceError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ResourceInUse")
                        .build(),
                )
            })
            .times(2)
            .output(|| DeleteServiceOutput::builder().build())
            .build();
        let ctx = testing::cloudmap(&[&delete]);
        let found = testing::found("discovery-backend", "srv-1", state("backend", "ns-1"));
        let waits = Mutex::new(Vec::new());
        DiscoveryService::delete(&ctx, &found, &|m| waits.lock().unwrap().push(m))
            .await
            .unwrap();
        assert_eq!(delete.num_calls(), 3);
        assert_eq!(waits.into_inner().unwrap().len(), 2);
        assert_eq!(DiscoveryService::uses(&found), ["ns-1"]);
    }

    #[tokio::test]
    async fn a_service_already_gone_is_success() {
        let gone = fails!(
            aws_sdk_servicediscovery,
            delete_service,
            DeleteServiceError,
            "ServiceNotFound"
        );
        let ctx = testing::cloudmap(&[&gone]);
        let found = testing::found("discovery-backend", "srv-1", state("backend", "ns-1"));
        DiscoveryService::delete(&ctx, &found, &|_| {})
            .await
            .unwrap();
        assert_eq!(gone.num_calls(), 1);
    }
}
