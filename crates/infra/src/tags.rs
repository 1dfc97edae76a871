//! The tags that make a resource part of a stack, and how they are compared.
//!
//! Every resource carries `stackctl:stack=<stack>` and `stackctl:id=<logical id>`; EC2
//! resources also carry `Name`. Only these managed keys are compared: tags a user adds by
//! hand (cost centres, owners) are left alone.

use std::collections::BTreeMap;

use crate::plan::FieldChange;

pub const STACK_TAG: &str = "stackctl:stack";
pub const ID_TAG: &str = "stackctl:id";
pub const NAME_TAG: &str = "Name";

pub type Tags = BTreeMap<String, String>;

/// The managed tags of resource `id` in `stack`, with a `Name` when given.
pub fn managed(stack: &str, id: &str, name: Option<&str>) -> Tags {
    let mut tags = Tags::new();
    tags.insert(STACK_TAG.into(), stack.into());
    tags.insert(ID_TAG.into(), id.into());
    if let Some(name) = name {
        tags.insert(NAME_TAG.into(), name.into());
    }
    tags
}

/// The managed tags that differ (missing or with another value), as one field change.
pub fn diff(desired: &Tags, observed: &Tags) -> Option<FieldChange> {
    let wrong: Vec<&String> = desired
        .iter()
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    if wrong.is_empty() {
        return None;
    }
    let show = |tags: &Tags| {
        wrong
            .iter()
            .map(|k| format!("{k}={}", tags.get(*k).map_or("(none)", String::as_str)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(FieldChange::new("tags", show(observed), show(desired)))
}

/// The desired tags that are missing or different on the resource.
pub fn missing(desired: &Tags, observed: &Tags) -> Tags {
    desired
        .iter()
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managed_keys_count() {
        let desired = managed("s", "vpc", Some("s-vpc"));
        let mut observed = desired.clone();
        observed.insert("team".into(), "payments".into());
        assert_eq!(diff(&desired, &observed), None);
        observed.insert(NAME_TAG.into(), "renamed".into());
        let change = diff(&desired, &observed).unwrap();
        assert_eq!(change.from, "Name=renamed");
        assert_eq!(change.to, "Name=s-vpc");
        assert_eq!(missing(&desired, &observed).len(), 1);
    }
}
