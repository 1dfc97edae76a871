//! A strict reader over a parsed TOML document that keeps every value's position, so each
//! problem is reported with `line:col` and all problems are collected before giving up.

use std::ops::{Range, RangeInclusive};

use toml_edit::{Item, TableLike};

use super::errors::{SpecError, SpecErrors};

/// A service or queue read from the file, with its table (where its errors point).
pub(super) struct Read<'a, T> {
    pub(super) spec: T,
    pub(super) table: Table<'a>,
}

/// Reads typed values out of a `toml_edit` document, recording errors instead of stopping.
pub(crate) struct Reader<'a> {
    text: &'a str,
    /// Each problem with the byte offset it points at; lines and columns are worked out for
    /// all of them at once at the end, in one pass over the file (a file with thousands of
    /// problems must not be read once per problem).
    errors: Vec<(usize, SpecError)>,
}

/// A table of the document and the dotted path that names it in errors.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a> {
    /// The table it is in, for `[services.web]`.
    pub(crate) parent: Option<&'a str>,
    /// The table that one is in, for `[services.web.autoscaling]`.
    pub(crate) root: Option<&'a str>,
    pub(crate) path: &'a str,
    pub(crate) table: Option<&'a dyn TableLike>,
    span: Option<(usize, usize)>,
}

/// Keys longer than this are cut in messages: the message must stay readable whatever the file.
const SHOWN_KEY: usize = 64;

/// `key` as messages show it: cut to [`SHOWN_KEY`] characters.
pub(crate) fn shown(key: &str) -> String {
    match key.char_indices().nth(SHOWN_KEY) {
        Some((cut, _)) => format!("{}… ({} characters)", &key[..cut], key.chars().count()),
        None => key.to_owned(),
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            errors: Vec::new(),
        }
    }

    pub(crate) fn error_at(&mut self, span: Option<Range<usize>>, key: &str, message: String) {
        let offset = span.map_or(0, |s| s.start.min(self.text.len()));
        self.errors.push((
            offset,
            SpecError {
                line: 1,
                column: 1,
                key: shown(key),
                message,
            },
        ));
    }

    pub(crate) fn into_result<T>(self, path: &std::path::Path, value: T) -> Result<T, SpecErrors> {
        if self.errors.is_empty() {
            return Ok(value);
        }
        Err(SpecErrors {
            path: path.to_owned(),
            errors: positioned(self.text, self.errors),
        })
    }

    /// The sub-table `name` of `parent` (absent is fine: every key has a default), checking that
    /// it has only `allowed` keys.
    pub(crate) fn table(
        &mut self,
        parent: &'a dyn TableLike,
        name: &'a str,
        allowed: &[&str],
    ) -> Table<'a> {
        self.table_in(parent, (None, None), name, Some(allowed))
    }

    /// The table `name` of the root whose keys are names (`[services]`, `[queues]`): any key
    /// is allowed, and checking each against all the others would take the square of their
    /// number.
    pub(crate) fn named_tables(&mut self, parent: &'a dyn TableLike, name: &'a str) -> Table<'a> {
        self.table_in(parent, (None, None), name, None)
    }

    /// The sub-table `name` of the table `parent` (`[services.web]` of `[services]`).
    pub(crate) fn child(
        &mut self,
        parent: Table<'a>,
        name: &'a str,
        allowed: &[&str],
    ) -> Table<'a> {
        match parent.table {
            Some(table) => {
                let at = (parent.parent, Some(parent.path));
                self.table_in(table, at, name, Some(allowed))
            }
            None => Table {
                root: parent.parent,
                parent: Some(parent.path),
                path: name,
                table: None,
                span: None,
            },
        }
    }

    fn table_in(
        &mut self,
        parent: &'a dyn TableLike,
        (root, parent_path): (Option<&'a str>, Option<&'a str>),
        name: &'a str,
        allowed: Option<&[&str]>,
    ) -> Table<'a> {
        let absent = Table {
            root,
            parent: parent_path,
            path: name,
            table: None,
            span: None,
        };
        let Some((key, item)) = parent.get_key_value(name) else {
            return absent;
        };
        let full = absent.name();
        let Some(table) = item.as_table_like() else {
            self.error_at(
                key.span(),
                &full,
                format!("expected a table ([{full}]), found {}", item.type_name()),
            );
            return absent;
        };
        if let Some(allowed) = allowed {
            self.unknown_keys(table, &full, allowed);
        }
        Table {
            root,
            parent: parent_path,
            path: name,
            table: Some(table),
            span: key.span().map(|s| (s.start, s.end)),
        }
    }

    /// Reports every key of `table` not in `allowed`, with the closest allowed key as a hint.
    pub(crate) fn unknown_keys(&mut self, table: &dyn TableLike, path: &str, allowed: &[&str]) {
        for (name, _) in table.iter() {
            if allowed.contains(&name) {
                continue;
            }
            let span = table.key(name).and_then(|k| k.span());
            let full = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            let at_top = path.is_empty();
            let is_table = table
                .get(name)
                .is_some_and(|i| i.is_table() || i.is_array_of_tables());
            // A stack key written above any table: the common slip of a first stack file.
            let in_stack = at_top && !is_table && ["name", "region", "tags"].contains(&name);
            let hint = match closest(name, allowed) {
                _ if in_stack => {
                    "; it belongs in the [stack] table: write it under a `[stack]` line".into()
                }
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!("; allowed: {}", allowed.join(", ")),
            };
            let what = if at_top && is_table { "table" } else { "key" };
            self.error_at(span, &full, format!("unknown {what}{hint}"));
        }
    }

    fn value(&self, table: Table<'a>, key: &str) -> Option<(&'a Item, Option<Range<usize>>)> {
        let item = table.table?.get(key)?;
        // A value's own span points at the value; fall back to the key.
        let span = item
            .span()
            .or_else(|| table.table.and_then(|t| t.key(key)).and_then(|k| k.span()));
        Some((item, span))
    }

    /// The span of a key's value, or of the table, or nothing: where a cross-key error points.
    pub(crate) fn span_of(&self, table: Table<'a>, key: &str) -> Option<Range<usize>> {
        self.value(table, key)
            .and_then(|(_, s)| s)
            .or_else(|| table.span.map(|(a, b)| a..b))
    }

    pub(crate) fn string(&mut self, table: Table<'a>, key: &str) -> Option<String> {
        let (item, span) = self.value(table, key)?;
        match item.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                let found = item.type_name();
                self.error_at(
                    span,
                    &dotted(table, key),
                    format!("expected a string, found {found}"),
                );
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, table: Table<'a>, key: &str, default: bool) -> bool {
        let Some((item, span)) = self.value(table, key) else {
            return default;
        };
        item.as_bool().unwrap_or_else(|| {
            let found = item.type_name();
            self.error_at(
                span,
                &dotted(table, key),
                format!("expected true or false, found {found}"),
            );
            default
        })
    }

    pub(crate) fn int(
        &mut self,
        table: Table<'a>,
        key: &str,
        default: i64,
        allowed: RangeInclusive<i64>,
    ) -> i64 {
        let Some((item, span)) = self.value(table, key) else {
            return default;
        };
        match item.as_integer() {
            Some(n) if allowed.contains(&n) => n,
            Some(n) => {
                self.error_at(
                    span,
                    &dotted(table, key),
                    format!(
                        "{n} is out of range; allowed: {} to {}",
                        allowed.start(),
                        allowed.end()
                    ),
                );
                default
            }
            None => {
                let found = item.type_name();
                self.error_at(
                    span,
                    &dotted(table, key),
                    format!("expected a whole number, found {found}"),
                );
                default
            }
        }
    }

    /// An optional table of string values (`tags = { team = "payments" }` or `[stack.tags]`),
    /// each with the span of its key.
    pub(crate) fn string_table(
        &mut self,
        table: Table<'a>,
        key: &str,
    ) -> Vec<(String, String, Option<Range<usize>>)> {
        let Some((item, span)) = self.value(table, key) else {
            return Vec::new();
        };
        let Some(inner) = item.as_table_like() else {
            let found = item.type_name();
            self.error_at(
                span,
                &dotted(table, key),
                format!(
                    "expected a table of strings like {{ team = \"payments\" }}, found {found}"
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, value) in inner.iter() {
            let key_span = inner.key(name).and_then(|k| k.span());
            match value.as_str() {
                Some(v) => out.push((name.to_owned(), v.to_owned(), key_span)),
                None => {
                    let found = value.type_name();
                    self.error_at(
                        key_span,
                        &format!("{}.{key}.{name}", table.name()),
                        format!("expected a string, found {found}"),
                    );
                }
            }
        }
        out
    }

    /// An optional array of strings, with each element's span.
    pub(crate) fn strings(
        &mut self,
        table: Table<'a>,
        key: &str,
    ) -> Option<Vec<(String, Option<Range<usize>>)>> {
        let (item, span) = self.value(table, key)?;
        let Some(array) = item.as_array() else {
            let found = item.type_name();
            self.error_at(
                span,
                &dotted(table, key),
                format!("expected an array of strings, found {found}"),
            );
            return None;
        };
        let mut out = Vec::new();
        for value in array.iter() {
            match value.as_str() {
                Some(s) => out.push((s.to_owned(), value.span())),
                None => {
                    let found = value.type_name();
                    self.error_at(
                        value.span(),
                        &dotted(table, key),
                        format!("expected strings in the array, found {found}"),
                    );
                }
            }
        }
        Some(out)
    }
}

pub(crate) fn dotted(table: Table<'_>, key: &str) -> String {
    format!("{}.{key}", table.name())
}

impl Table<'_> {
    /// Its dotted name: `service`, `services.web`.
    pub(crate) fn name(&self) -> String {
        match (self.root, self.parent) {
            (Some(root), Some(parent)) => format!("{root}.{parent}.{}", self.path),
            (_, Some(parent)) => format!("{parent}.{}", self.path),
            _ => self.path.to_owned(),
        }
    }
}

/// Sorts problems by where they are and gives each its 1-based line and column (in
/// characters), walking the text once.
fn positioned(text: &str, mut errors: Vec<(usize, SpecError)>) -> Vec<SpecError> {
    errors.sort_by_key(|(offset, _)| *offset);
    let (mut line, mut column) = (1, 1);
    let mut chars = text.char_indices().peekable();
    for (offset, error) in &mut errors {
        while let Some(&(i, c)) = chars.peek() {
            if i >= *offset {
                break;
            }
            if c == '\n' {
                (line, column) = (line + 1, 1);
            } else {
                column += 1;
            }
            chars.next();
        }
        (error.line, error.column) = (line, column);
    }
    errors.into_iter().map(|(_, e)| e).collect()
}

/// The allowed name within edit distance 2 of `name`, for "did you mean" hints. Only names
/// of about the same length can be that close, so a long key costs nothing.
fn closest<'s>(name: &str, allowed: &[&'s str]) -> Option<&'s str> {
    let length = name.chars().count();
    allowed
        .iter()
        .filter(|candidate| candidate.chars().count().abs_diff(length) <= 2)
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, offsets: &[usize]) -> Vec<(usize, usize)> {
        let errors = offsets
            .iter()
            .map(|&o| {
                let e = SpecError {
                    line: 0,
                    column: 0,
                    key: String::new(),
                    message: String::new(),
                };
                (o, e)
            })
            .collect();
        positioned(text, errors)
            .iter()
            .map(|e| (e.line, e.column))
            .collect()
    }

    #[test]
    fn positions_are_one_based_lines_and_columns_in_characters() {
        assert_eq!(
            at("ab\ncd\n", &[4, 0, 3, 1]),
            [(1, 1), (1, 2), (2, 1), (2, 2)]
        );
        // Columns count characters, not bytes.
        assert_eq!(at("é = 1\n", &[3]), [(1, 3)]);
        assert_eq!(at("ab", &[2]), [(1, 3)]);
    }

    #[test]
    fn long_keys_are_cut_in_messages() {
        let long = "k".repeat(1_000_000);
        let text = shown(&long);
        assert!(text.len() < 100, "{text}");
        assert!(text.ends_with("(1000000 characters)"), "{text}");
        assert_eq!(shown("retention_days"), "retention_days");
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            closest("retention_day", &["retention_days", "x"]),
            Some("retention_days")
        );
        assert_eq!(closest("zzz", &["retention_days"]), None);
    }
}
