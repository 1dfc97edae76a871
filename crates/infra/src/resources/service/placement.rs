//! Where a service's tasks run and how they are reached: its target group (web), its service
//! discovery entry (internal), subnets, security groups and public IP; what differs from
//! what ECS reports, and the structures the API takes.

use std::collections::BTreeSet;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, LoadBalancer as EcsLoadBalancer, NetworkConfiguration,
    ServiceRegistry,
};

use super::model::{Field, Service, ServiceState};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Outputs, Ref, resolve_all};

pub(super) fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The field change when the ids `have` are not exactly the references `want`.
fn set_differs(have: &BTreeSet<String>, want: &[Ref]) -> bool {
    let known: BTreeSet<&str> = want.iter().filter_map(|r| r.known.as_deref()).collect();
    known.len() != want.len() || known != have.iter().map(String::as_str).collect()
}

impl Service {
    fn subnet_refs(&self, refs: &Outputs) -> Vec<Ref> {
        self.subnets
            .iter()
            .map(|s| Ref::new(refs, s, Attr::Id))
            .collect()
    }

    fn group_refs(&self, refs: &Outputs) -> Vec<Ref> {
        self.security_groups
            .iter()
            .map(|s| Ref::new(refs, s, Attr::Id))
            .collect()
    }

    fn container_port(&self) -> i32 {
        self.port.map_or(0, i32::from)
    }

    /// Where the tasks run and how they are reached.
    pub(super) fn placement_changes(&self, found: &ServiceState, refs: &Outputs) -> Vec<Field> {
        let mut fields = Vec::new();
        let tg = self
            .target_group
            .as_ref()
            .map(|tg| Ref::new(refs, tg, Attr::Id));
        let registered = match (&tg, &found.load_balancer) {
            (None, None) => true,
            (Some(tg), Some((arn, c, p))) => {
                tg.is(arn) && c == &self.container_name && *p == self.container_port()
            }
            _ => false,
        };
        if !registered {
            fields.push(Field::LoadBalancer {
                from: found.load_balancer.clone(),
                to: tg,
                port: self.container_port(),
            });
        }
        let registry = self
            .discovery
            .as_ref()
            .map(|d| Ref::new(refs, d, Attr::Arn));
        let same_registry = match &registry {
            None => found.registries.is_empty(),
            Some(r) => matches!(found.registries.as_slice(), [arn] if r.is(arn)),
        };
        if !same_registry {
            fields.push(Field::Registries {
                from: found.registries.clone(),
                to: registry,
            });
        }
        let subnets = self.subnet_refs(refs);
        if set_differs(&found.subnets, &subnets) {
            fields.push(Field::Subnets {
                from: found.subnets.clone(),
                to: subnets,
            });
        }
        let groups = self.group_refs(refs);
        if set_differs(&found.security_groups, &groups) {
            fields.push(Field::SecurityGroups {
                from: found.security_groups.clone(),
                to: groups,
            });
        }
        if found.public_ip != self.public_ip {
            fields.push(Field::PublicIp(self.public_ip));
        }
        fields
    }

    pub(super) fn network(&self, refs: &Outputs, id: &ResourceId) -> Result<NetworkConfiguration> {
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(resolve_all(refs, id, &self.subnet_refs(refs))?))
            .set_security_groups(Some(resolve_all(refs, id, &self.group_refs(refs))?))
            .assign_public_ip(if self.public_ip {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .map_err(Error::request(id, "network configuration"))?;
        Ok(NetworkConfiguration::builder()
            .awsvpc_configuration(vpc)
            .build())
    }

    /// Its registration in the target group, for a web service.
    pub(super) fn registration(
        &self,
        refs: &Outputs,
        id: &ResourceId,
    ) -> Result<Option<EcsLoadBalancer>> {
        let Some(tg) = &self.target_group else {
            return Ok(None);
        };
        let tg = Ref::new(refs, tg, Attr::Id).resolve(refs, id)?;
        Ok(Some(
            EcsLoadBalancer::builder()
                .target_group_arn(tg)
                .container_name(&self.container_name)
                .container_port(self.container_port())
                .build(),
        ))
    }

    /// Its service discovery registry, for an internal service (none: an empty list).
    pub(super) fn registries(
        &self,
        refs: &Outputs,
        id: &ResourceId,
    ) -> Result<Vec<ServiceRegistry>> {
        let Some(discovery) = &self.discovery else {
            return Ok(Vec::new());
        };
        let arn = Ref::new(refs, discovery, Attr::Arn).resolve(refs, id)?;
        Ok(vec![ServiceRegistry::builder().registry_arn(arn).build()])
    }
}
