//! Resources found by their name (queues, roles, the repository, the log group, load-balancing
//! and ECS resources): every AWS name a stack uses starts with the stack's name, so each kind
//! lists the candidates by that prefix and keeps the ones tagged for the stack. A desired name
//! held by a resource stackctl did not create for this stack is refused, never adopted.

use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::tags::{self, STACK_TAG, Tags};

/// True when `name` is one of `stack`'s names: the stack's name itself, or it followed by `-`
/// (or `/`, for paths such as log groups).
pub fn belongs(stack: &str, name: &str) -> bool {
    name.strip_prefix(stack)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '/']))
}

/// The logical id of a resource found by `name`: `Some` when it is tagged for the stack;
/// `None` for another stack's resource (or an untagged one) that no desired name claims; an
/// error when a desired name (`wanted`) is taken by something that is not this stack's.
pub fn claim(
    stack: &str,
    label: &str,
    name: &str,
    found: &Tags,
    wanted: bool,
) -> Result<Option<ResourceId>> {
    if let Some(id) = tags::logical_id(stack, found) {
        return Ok(Some(id));
    }
    if !wanted {
        return Ok(None);
    }
    Err(Error::Conflict {
        resource: format!("{label} {name}"),
        message: format!(
            "exists but is {}; stackctl will not take over a resource it did not create. \
             Delete or rename it, or choose another stack.name",
            match found.get(STACK_TAG) {
                Some(other) => format!("tagged for the stack {other:?}"),
                None => "not tagged stackctl:stack".into(),
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_s_names_start_with_its_name_and_a_separator() {
        assert!(belongs("shop", "shop"));
        assert!(belongs("shop", "shop-messages"));
        assert!(belongs("/stackctl/shop", "/stackctl/shop"));
        assert!(!belongs("shop", "shopping"));
        assert!(!belongs("shop", "my-shop"));
    }

    #[test]
    fn only_wanted_names_held_by_others_are_conflicts() {
        let ours = tags::managed("shop", &ResourceId::QUEUE, None);
        let theirs = tags::managed("shop-eu", &ResourceId::QUEUE, None);
        assert_eq!(
            claim("shop", "SQS queue", "shop-q", &ours, true).unwrap(),
            Some("queue".into())
        );
        assert_eq!(
            claim("shop", "SQS queue", "shop-eu-q", &theirs, false).unwrap(),
            None
        );
        let err = claim("shop", "SQS queue", "shop-q", &theirs, true).unwrap_err();
        assert!(
            err.to_string().contains("tagged for the stack \"shop-eu\""),
            "{err}"
        );
        let err = claim("shop", "SQS queue", "shop-q", &Tags::new(), true).unwrap_err();
        assert!(
            err.to_string().contains("not tagged stackctl:stack"),
            "{err}"
        );
    }
}
