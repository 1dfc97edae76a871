//! `[stack]`: the stack's name (which prefixes every AWS name), its region, and tags for
//! every resource.

use std::collections::BTreeMap;

use toml_edit::TableLike;

use super::names;
use super::reader::Reader;

/// The name, region and user tags.
pub(super) fn read<'a>(
    reader: &mut Reader<'a>,
    root: &'a dyn TableLike,
) -> (String, String, BTreeMap<String, String>) {
    let stack = reader.table(root, "stack", &["name", "region", "tags"]);
    let name = match reader.string(stack, "name") {
        Some(name) => {
            let span = reader.span_of(stack, "name");
            for problem in names::check_stack_name(&name) {
                reader.error_at(span.clone(), "stack.name", problem);
            }
            name
        }
        None => {
            let absent = stack.table.is_none_or(|t| !t.contains_key("name"));
            if absent {
                let span = reader.span_of(stack, "name");
                reader.error_at(
                    span,
                    "stack.name",
                    "is required: every AWS name starts with it, e.g. name = \"messages\"".into(),
                );
            }
            "invalid".into()
        }
    };
    let region = reader
        .string(stack, "region")
        .unwrap_or_else(|| "us-east-1".into());
    if !names::is_region(&region) {
        let span = reader.span_of(stack, "region");
        reader.error_at(
            span,
            "stack.region",
            format!("{region:?} is not an AWS region name like \"us-east-1\""),
        );
    }

    let mut tags = BTreeMap::new();
    let user_tags = reader.string_table(stack, "tags");
    if user_tags.len() > names::MAX_USER_TAGS {
        let span = reader.span_of(stack, "tags");
        reader.error_at(
            span,
            "stack.tags",
            format!(
                "{} tags; at most {} (AWS allows 50 per resource and stackctl uses 3)",
                user_tags.len(),
                names::MAX_USER_TAGS
            ),
        );
    }
    for (key, value, span) in user_tags {
        for problem in names::check_tag(&key, &value) {
            reader.error_at(span.clone(), &format!("stack.tags.{key}"), problem);
        }
        tags.insert(key, value);
    }

    (name, region, tags)
}
