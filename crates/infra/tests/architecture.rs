//! The layout rules, checked on the source itself:
//! - no module of any crate of the workspace uses a module that uses it back (the kind files sit on the
//!   shared vocabulary and the per-service helpers, the registry on the kinds, and so on up);
//! - no source file of the workspace is over 400 lines outside its tests, and no function
//!   over 60 lines.
//!
//! A module "uses" another when it names a path into it (`use`, a qualified path, or a path
//! inside a macro). Test code (`#[cfg(test)]`) is left out: a test may build fixtures from
//! anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::Visit;

const MAX_FILE_LINES: usize = 400;
/// Every crate of the workspace.
const CRATES: [&str; 4] = ["infra", "stackctl", "app", "awsfront"];
const MAX_FN_LINES: usize = 60;

/// A module of the crate: its path (`crate::a::b`), its file, and its parsed items.
struct Module {
    path: String,
    file: PathBuf,
    items: Vec<syn::Item>,
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// The items that are compiled outside tests.
fn non_test(items: Vec<syn::Item>) -> Vec<syn::Item> {
    items
        .into_iter()
        .filter(|item| !is_test(item_attrs(item)))
        .collect()
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// Every non-test module of the crate whose root is `lib`, following `mod` declarations.
fn modules(lib: &Path) -> Vec<Module> {
    let mut out = Vec::new();
    let mut queue = vec![("crate".to_owned(), lib.to_path_buf())];
    while let Some((path, file)) = queue.pop() {
        let text = std::fs::read_to_string(&file).unwrap();
        let items = non_test(syn::parse_file(&text).unwrap().items);
        let dir =
            if file.ends_with("lib.rs") || file.ends_with("main.rs") || file.ends_with("mod.rs") {
                file.parent().unwrap().to_path_buf()
            } else {
                file.with_extension("")
            };
        for item in &items {
            if let syn::Item::Mod(m) = item
                && m.content.is_none()
            {
                let name = m.ident.to_string();
                let child = [
                    dir.join(format!("{name}.rs")),
                    dir.join(&name).join("mod.rs"),
                ]
                .into_iter()
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("no file for mod {name} of {}", file.display()));
                queue.push((format!("{path}::{name}"), child));
            }
        }
        out.push(Module { path, file, items });
    }
    out
}

/// Collects the paths an item names, resolved to absolute `crate::…` paths.
struct Paths<'a> {
    module: &'a str,
    /// Every module of the crate, to read `child::item` as a path into a child module.
    known: &'a BTreeSet<String>,
    found: BTreeSet<String>,
}

impl Paths<'_> {
    fn absolute(&self, segments: &[String]) -> Option<String> {
        let mut base: Vec<&str> = self.module.split("::").collect();
        let mut rest = segments.iter().map(String::as_str).peekable();
        match rest.peek().copied() {
            Some("crate" | "$crate") => {
                rest.next();
                base.truncate(1);
            }
            Some("super") => {
                while rest.peek() == Some(&"super") {
                    rest.next();
                    base.pop();
                }
            }
            Some("self") => {
                rest.next();
            }
            Some(first) if self.known.contains(&format!("{}::{first}", self.module)) => {}
            _ => return None,
        }
        let mut all: Vec<&str> = base;
        all.extend(rest);
        Some(all.join("::"))
    }

    fn add(&mut self, segments: &[String]) {
        if let Some(path) = self.absolute(segments) {
            self.found.insert(path);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(&full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.add(&full);
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// Paths written inside macro bodies (`crate::a::b`, `$crate::a::b`, `super::x`).
    fn tokens(&mut self, tokens: &proc_macro2::TokenStream) {
        let flat: Vec<String> = flatten(tokens);
        let mut i = 0;
        while i < flat.len() {
            let start = match flat[i].as_str() {
                "$" if flat.get(i + 1).is_some_and(|t| t == "crate") => i + 1,
                _ if flat.get(i + 1).is_some_and(|t| t == "::") => i,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let mut segments = vec![flat[start].clone()];
            if start > i {
                segments[0] = "$crate".into();
            }
            let mut j = start + 1;
            while flat.get(j).is_some_and(|t| t == "::") && flat.get(j + 1).is_some() {
                segments.push(flat[j + 1].clone());
                j += 2;
            }
            self.add(&segments);
            i = j;
        }
    }
}

fn flatten(tokens: &proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let mut iter = tokens.clone().into_iter().peekable();
    while let Some(tree) = iter.next() {
        match tree {
            proc_macro2::TokenTree::Group(g) => out.extend(flatten(&g.stream())),
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => {
                if iter.peek().is_some_and(
                    |t| matches!(t, proc_macro2::TokenTree::Punct(q) if q.as_char() == ':'),
                ) {
                    iter.next();
                    out.push("::".into());
                }
            }
            other => out.push(other.to_string()),
        }
    }
    out
}

impl<'ast> Visit<'ast> for Paths<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(&segments);
        syn::visit::visit_path(self, path);
    }

    /// `pub(crate)` and `pub(super)` name a scope, not a module that is used.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(&mac.tokens);
        syn::visit::visit_macro(self, mac);
    }
}

/// The module a path points into: the longest module path it starts with.
fn owner<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    modules
        .iter()
        .filter(|m| path == m.as_str() || path.starts_with(&format!("{m}::")))
        .max_by_key(|m| m.len())
}

/// Module → modules it uses (`mod` declarations are not uses).
fn uses(all: &[Module]) -> BTreeMap<String, BTreeSet<String>> {
    let names: BTreeSet<String> = all.iter().map(|m| m.path.clone()).collect();
    all.iter()
        .map(|m| {
            let mut paths = Paths {
                module: &m.path,
                known: &names,
                found: BTreeSet::new(),
            };
            for item in &m.items {
                paths.visit_item(item);
            }
            if std::env::var("ARCH_DEBUG").is_ok_and(|v| v == m.path) {
                eprintln!("{}: {:?}", m.path, paths.found);
            }
            let used = paths
                .found
                .iter()
                .filter_map(|p| owner(p, &names))
                .filter(|t| **t != m.path)
                .cloned()
                .collect();
            (m.path.clone(), used)
        })
        .collect()
}

/// A cycle in the graph, if there is one (depth-first search with colours).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                0 => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    let mut c = stack[from..].to_vec();
                    c.push(next.clone());
                    return Some(c);
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0
            && let Some(c) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

fn crate_root(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = match name {
        "infra" => manifest.to_path_buf(),
        "stackctl" => manifest.join("../stackctl"),
        "app" => manifest.join("../../app"),
        "awsfront" => manifest.join("../awsfront"),
        other => panic!("unknown crate {other}"),
    };
    root.join("src/lib.rs")
}

#[test]
fn no_module_of_any_crate_uses_one_that_uses_it_back() {
    let all = modules(&crate_root("infra"));
    assert!(all.len() > 30, "the module walk found only {}", all.len());
    let graph = uses(&all);
    // The graph is real: the registry uses the kinds, the kinds the shared vocabulary.
    assert!(graph["crate::resources"].contains("crate::resources::vpc"));
    assert!(graph["crate::resources::vpc"].contains("crate::contract"));
    let mut circles = Vec::new();
    for name in CRATES {
        if let Some(cycle) = cycle(&uses(&modules(&crate_root(name)))) {
            circles.push(format!("{name}: {}", cycle.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "modules use each other in a circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

/// Lines of an item, from its first attribute or keyword to its closing brace.
fn lines(span: proc_macro2::Span) -> usize {
    span.end().line - span.start().line + 1
}

/// Every function (free, in an impl, in a trait) with its line count.
struct Functions(Vec<(String, usize)>);

impl<'ast> Visit<'ast> for Functions {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.0
            .push((f.sig.ident.to_string(), lines(f.block.span())));
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.0
            .push((f.sig.ident.to_string(), lines(f.block.span())));
        syn::visit::visit_impl_item_fn(self, f);
    }
}

#[test]
fn files_and_functions_stay_small() {
    let mut problems = Vec::new();
    for name in CRATES {
        for module in modules(&crate_root(name)) {
            let shown = module.file.display().to_string();
            let code: usize = module.items.iter().map(|i| lines(i.span())).sum();
            if code > MAX_FILE_LINES {
                problems.push(format!("{shown}: {code} lines outside its tests"));
            }
            let mut functions = Functions(Vec::new());
            for item in &module.items {
                functions.visit_item(item);
            }
            for (function, n) in functions.0 {
                if n > MAX_FN_LINES {
                    problems.push(format!("{shown}: fn {function} has {n} lines"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "over {MAX_FILE_LINES} lines a file or {MAX_FN_LINES} a function:\n{}",
        problems.join("\n")
    );
}
