//! What a resource gives its dependents and its users (ids, ARNs, URLs), and references from
//! one resource to another's. Outputs flow to dependents through the engine, never through
//! globals. A leaf module.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::id::ResourceId;

/// What dependents and users need of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Output {
    pub aws_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Output {
    /// An output with only an AWS id.
    pub fn id(aws_id: impl Into<String>) -> Self {
        Self {
            aws_id: aws_id.into(),
            ..Self::default()
        }
    }

    /// An output whose AWS id is its ARN (load-balancing and ECS resources).
    pub fn arn(arn: impl Into<String>) -> Self {
        let arn = arn.into();
        Self {
            aws_id: arn.clone(),
            arn: Some(arn),
            url: None,
        }
    }
}

/// Outputs of resources by logical id: how references are resolved.
pub type Outputs = BTreeMap<ResourceId, Output>;

/// Which attribute of another resource a reference takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Id,
    Arn,
    Url,
}

impl Attr {
    fn of(self, output: &Output) -> Option<&str> {
        match self {
            Self::Id => Some(output.aws_id.as_str()),
            Self::Arn => output.arn.as_deref(),
            Self::Url => output.url.as_deref(),
        }
    }
}

/// A reference to an attribute of another resource of the stack, as the plan saw it: its
/// value when that resource exists, or `(new <id>)` when this run creates (or replaces) it.
/// At apply time it is resolved again, from the outputs of what is done by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub id: ResourceId,
    pub attr: Attr,
    pub known: Option<String>,
}

impl Ref {
    pub fn new(refs: &Outputs, id: &ResourceId, attr: Attr) -> Self {
        Self {
            id: id.clone(),
            attr,
            known: refs.get(id).and_then(|o| attr.of(o)).map(str::to_owned),
        }
    }

    /// True when the reference is known and equals `value`.
    pub fn is(&self, value: &str) -> bool {
        self.known.as_deref() == Some(value)
    }

    /// Why a resource that cannot move VPC (subnet, security group, route table, target
    /// group) must be replaced when AWS has it in `found_vpc`, and this reference is to the
    /// stack's VPC: `None` while it is in that VPC or the VPC is new (its replacement
    /// cascades on its own).
    pub fn moved_from(&self, found_vpc: &str) -> Option<String> {
        (self.known.is_some() && !self.is(found_vpc))
            .then(|| format!("it is in {found_vpc} instead of the stack's VPC {self}"))
    }

    /// The value now, from the outputs of the resources that are done.
    pub fn resolve(&self, refs: &Outputs, from: &ResourceId) -> Result<String> {
        let output = resolve(refs, from, &self.id)?;
        self.attr
            .of(output)
            .map(str::to_owned)
            .ok_or_else(|| Error::Unresolved {
                resource: from.clone(),
                message: format!("{} has no {:?} to refer to", self.id, self.attr),
            })
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.known {
            Some(value) => f.write_str(value),
            None => write!(f, "(new {})", self.id),
        }
    }
}

/// Resolves a dependency's output; the engine guarantees dependencies are done first.
pub fn resolve<'a>(refs: &'a Outputs, from: &ResourceId, id: &ResourceId) -> Result<&'a Output> {
    refs.get(id).ok_or_else(|| Error::Unresolved {
        resource: from.clone(),
        message: format!("needs {id}, which has no output yet"),
    })
}

/// Resolves several references at once.
pub fn resolve_all(refs: &Outputs, from: &ResourceId, list: &[Ref]) -> Result<Vec<String>> {
    list.iter().map(|r| r.resolve(refs, from)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_shows_its_value_or_that_it_is_new_and_resolves_later() {
        let mut refs = Outputs::new();
        let pending = Ref::new(&refs, &"vpc".into(), Attr::Id);
        assert_eq!(pending.to_string(), "(new vpc)");
        assert!(pending.resolve(&refs, &"subnet".into()).is_err());
        refs.insert("vpc".into(), Output::id("vpc-1"));
        assert_eq!(pending.resolve(&refs, &"subnet".into()).unwrap(), "vpc-1");
        let known = Ref::new(&refs, &"vpc".into(), Attr::Id);
        assert!(known.is("vpc-1"));
        assert_eq!(known.to_string(), "vpc-1");
        assert!(
            Ref::new(&refs, &"vpc".into(), Attr::Arn)
                .resolve(&refs, &"x".into())
                .is_err()
        );
    }

    #[test]
    fn a_resource_in_another_vpc_is_moved_only_when_the_stack_vpc_is_known() {
        let mut refs = Outputs::new();
        assert_eq!(
            Ref::new(&refs, &"vpc".into(), Attr::Id).moved_from("vpc-9"),
            None
        );
        refs.insert("vpc".into(), Output::id("vpc-1"));
        let vpc = Ref::new(&refs, &"vpc".into(), Attr::Id);
        assert_eq!(vpc.moved_from("vpc-1"), None);
        assert_eq!(
            vpc.moved_from("vpc-9").as_deref(),
            Some("it is in vpc-9 instead of the stack's VPC vpc-1")
        );
    }
}
