//! The tags that make a resource part of a stack, and how they are compared. A leaf module.
//!
//! Every resource carries `stackctl:stack=<stack>` and `stackctl:id=<logical id>`; EC2
//! resources also carry `Name`. Only the desired keys are compared: tags a user adds by hand
//! (cost centres, owners) are left alone.

use crate::id::ResourceId;
use std::collections::BTreeMap;

use crate::change::FieldChange;

pub const STACK_TAG: &str = "stackctl:stack";
pub const ID_TAG: &str = "stackctl:id";
pub const NAME_TAG: &str = "Name";
/// On the VPC: the stack file a stack was made from, so a renamed stack file can name the
/// stack it used to make. Set at creation only, never compared: the same stack may be run
/// from several clones.
pub const SOURCE_TAG: &str = "stackctl:source";

pub type Tags = BTreeMap<String, String>;

/// The managed tags of resource `id` in `stack`, with a `Name` when given.
pub fn managed(stack: &str, id: &ResourceId, name: Option<&str>) -> Tags {
    let mut tags = Tags::new();
    tags.insert(STACK_TAG.into(), stack.into());
    tags.insert(ID_TAG.into(), id.into());
    if let Some(name) = name {
        tags.insert(NAME_TAG.into(), name.into());
    }
    tags
}

/// The desired tags that are missing or different on the resource.
pub fn missing(desired: &Tags, observed: &Tags) -> Tags {
    desired
        .iter()
        .filter(|(k, _)| k.as_str() != SOURCE_TAG)
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// How the plan shows tags to put back: the field `tags`, observed values to desired ones.
pub fn describe(missing: &Tags, observed: &Tags) -> FieldChange {
    let show = |tags: &Tags| {
        missing
            .keys()
            .map(|k| format!("{k}={}", tags.get(k).map_or("(none)", String::as_str)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    FieldChange::new("tags", show(observed), show(missing))
}

/// The logical id of a resource of `stack`, from its tags; `None` for anything else. Every
/// answer is checked, not only a describe filter: a filter an endpoint ignores (moto does, for
/// NAT gateways) must not make another stack's resource look like ours.
pub fn logical_id(stack: &str, tags: &Tags) -> Option<ResourceId> {
    if tags.get(STACK_TAG).map(String::as_str) != Some(stack) {
        return None;
    }
    tags.get(ID_TAG).map(|id| ResourceId::from_tag(id))
}

/// The tags in a service's own tag type (each AWS SDK has one): `make` builds one tag.
pub fn to_sdk<T>(tags: &Tags, make: impl Fn(&str, &str) -> T) -> Vec<T> {
    tags.iter().map(|(k, v)| make(k, v)).collect()
}

/// The same, for SDKs whose tag builder checks the tag (IAM, ECR): the first refusal.
pub fn try_to_sdk<T, E>(
    tags: &Tags,
    make: impl Fn(&str, &str) -> Result<T, E>,
) -> Result<Vec<T>, E> {
    tags.iter().map(|(k, v)| make(k, v)).collect()
}

/// Tags from an AWS tag list, whatever shape the service gives its keys and values.
pub fn collect<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managed_keys_count() {
        let desired = managed("s", &ResourceId::VPC, Some("s-vpc"));
        let mut observed = desired.clone();
        observed.insert("team".into(), "payments".into());
        assert!(missing(&desired, &observed).is_empty());
        observed.insert(NAME_TAG.into(), "renamed".into());
        let wrong = missing(&desired, &observed);
        assert_eq!(wrong.len(), 1);
        let change = describe(&wrong, &observed);
        assert_eq!(change.from, "Name=renamed");
        assert_eq!(change.to, "Name=s-vpc");
    }

    #[test]
    fn another_stack_s_resource_has_no_logical_id_here() {
        let ours = managed("mine", &ResourceId::NAT_GATEWAY, None);
        let theirs = managed("other", &ResourceId::NAT_GATEWAY, None);
        assert_eq!(logical_id("mine", &ours), Some(ResourceId::NAT_GATEWAY));
        assert_eq!(logical_id("mine", &theirs), None);
        assert_eq!(logical_id("mine", &Tags::new()), None);
    }
}
