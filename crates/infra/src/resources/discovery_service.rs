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
