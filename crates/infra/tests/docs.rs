//! The docs name what the code has: every resource kind in docs/cli.md's list of `kind`
//! values (what `--json` documents say), and in docs/architecture.md's recipe every file a
//! new kind touches.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use infra::resources::Kind;

fn doc(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The backquoted words of the paragraph (a list item) that starts with `start`.
fn quoted_after(text: &str, start: &str) -> BTreeSet<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    let rest = &text[from + start.len()..];
    let end = rest.find("\n- ").unwrap_or(rest.len());
    rest[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_kind_is_in_the_cli_reference() {
    let listed = quoted_after(&doc("cli.md"), "- `kind` is one of");
    let kinds: BTreeSet<String> = Kind::ALL
        .iter()
        .map(|k| {
            serde_json::to_value(k)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let missing: Vec<&String> = kinds.difference(&listed).collect();
    let unknown: Vec<&String> = listed.difference(&kinds).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/cli.md's `kind` list: missing {missing:?}, not kinds {unknown:?}"
    );
}

#[test]
fn the_recipe_for_a_new_kind_names_every_file_it_touches() {
    let text = doc("architecture.md");
    let from = text
        .find("## Adding a resource kind")
        .expect("a recipe section");
    let recipe = &text[from..];
    for file in [
        "crates/infra/src/resources/<kind>.rs",
        "crates/infra/src/resources/mod.rs",
        "crates/infra/src/id.rs",
        "crates/infra/src/desired/",
        "crates/infra/src/context.rs",
        "crates/awsfront/src/bound.rs",
        "crates/infra/src/cost.rs",
        "crates/infra/src/policy/table.rs",
        "docs/stack-toml.md",
        "docs/cli.md",
    ] {
        assert!(recipe.contains(file), "the recipe does not name {file}");
    }
}
