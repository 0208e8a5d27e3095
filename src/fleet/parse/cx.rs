//! The decoding context: reads typed values out of the YAML tree, naming each field by its path
//! and collecting every error instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::FleetError;
use crate::yaml::{Located, Node, code_span, did_you_mean, key_text, one_of, position, sanitize};

/// Longest piece of file text quoted back in a message.
const QUOTE_MAX: usize = 80;

/// `value` quoted for a message as a code span: escaped and cut (see [`code_span`]).
pub(super) fn quote(value: &str) -> String {
    code_span(value, QUOTE_MAX)
}

/// `path.key`, or `key` at the root.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `path[index]`.
pub(super) fn index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// The errors found so far.
#[derive(Debug, Default)]
pub(super) struct Cx {
    pub(super) errors: Vec<FleetError>,
    /// Field and message of every error, to record each once.
    reported: BTreeSet<(String, String)>,
}

/// The known keys of one mapping, each with its value.
pub(super) struct Fields<'a> {
    path: String,
    at: Option<&'a Located>,
    /// Whether the node was a mapping (missing keys are only reported then).
    is_map: bool,
    values: BTreeMap<&'static str, &'a Located>,
}

impl<'a> Fields<'a> {
    /// The value of `key`, when set.
    pub(super) fn get(&self, key: &str) -> Option<&'a Located> {
        self.values.get(key).copied()
    }

    /// The path of `key` in this mapping.
    pub(super) fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Reads a required `key` with `read`; reports it missing, saying what to write.
    pub(super) fn read_required<T>(
        &self,
        cx: &mut Cx,
        key: &str,
        example: &str,
        read: impl FnOnce(&mut Cx, &str, &'a Located) -> Option<T>,
    ) -> Option<T> {
        let node = self.require(cx, key, example)?;
        read(cx, &self.path(key), node)
    }

    /// Reads an optional `key` with `read`: `Some(None)` when absent, `None` when invalid.
    pub(super) fn read_optional<T>(
        &self,
        cx: &mut Cx,
        key: &str,
        read: impl FnOnce(&mut Cx, &str, &'a Located) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.get(key) {
            None => Some(None),
            Some(node) => read(cx, &self.path(key), node).map(Some),
        }
    }

    /// The value of a required `key`; reports it missing, saying what to write.
    pub(super) fn require(&self, cx: &mut Cx, key: &str, example: &str) -> Option<&'a Located> {
        let value = self.get(key);
        if value.is_none() && self.is_map {
            let message = format!("is required: add `{key}: {example}`");
            cx.error(&self.path(key), self.at, message);
        }
        value
    }
}

impl Cx {
    /// Records an error at `field`, located at `at` when known. Identical errors (the same
    /// default reported for several services) are recorded once.
    pub(super) fn error(&mut self, field: &str, at: Option<&Located>, message: impl Into<String>) {
        self.error_at_line(field, at.and_then(|at| position(at).0), message);
    }

    /// Records an error at `field` on `line`, like [`Cx::error`].
    pub(super) fn error_at_line(
        &mut self,
        field: &str,
        line: Option<u32>,
        message: impl Into<String>,
    ) {
        let message = message.into();
        if self.reported.insert((field.to_owned(), message.clone())) {
            self.errors.push(FleetError {
                field: field.to_owned(),
                message,
                line,
            });
        }
    }

    /// The entries of a mapping at `path` whose keys are among `known`; reports a value that is
    /// not a mapping, unknown keys (with a suggestion) and repeated keys. `None` (the key is
    /// absent) gives no fields; null gives an empty mapping.
    pub(super) fn fields<'a>(
        &mut self,
        path: &str,
        node: Option<&'a Located>,
        known: &[&'static str],
    ) -> Fields<'a> {
        let mut fields = Fields {
            path: path.to_owned(),
            at: node,
            is_map: false,
            values: BTreeMap::new(),
        };
        let Some(node) = node else { return fields };
        let entries = match &node.value {
            Node::Map(entries) => entries,
            // A key with nothing after it is an empty mapping: its required keys are missing.
            Node::Null => {
                fields.is_map = true;
                return fields;
            }
            other => {
                self.error(
                    path,
                    Some(node),
                    format!("must be a mapping, found {}", other.kind()),
                );
                return fields;
            }
        };
        fields.is_map = true;
        for (key, value) in entries {
            if let Some(name) = self.known_key(path, key, known) {
                if let Some(first) = fields.values.get(name) {
                    let first = position(first)
                        .0
                        .map_or(String::new(), |l| format!(" (first on line {l})"));
                    self.error(
                        &join(path, name),
                        Some(key),
                        format!("is set twice{first}: keep one"),
                    );
                } else {
                    fields.values.insert(name, value);
                }
            }
        }
        fields
    }

    fn known_key(
        &mut self,
        path: &str,
        key: &Located,
        known: &[&'static str],
    ) -> Option<&'static str> {
        let Some(text) = key_text(key) else {
            self.error(path, Some(key), "keys must be plain text");
            return None;
        };
        if let Some(name) = known.iter().copied().find(|k| *k == text.as_ref()) {
            return Some(name);
        }
        let fix = match did_you_mean(&text, known.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? "),
            None => String::new(),
        };
        let message = format!(
            "unknown key {}: {fix}expected {}",
            quote(&text),
            one_of(known)
        );
        self.error(&join(path, &sanitize(&text, QUOTE_MAX)), Some(key), message);
        None
    }

    /// Text at `path`; numbers and booleans are reported with a hint to quote them.
    pub(super) fn text<'a>(&mut self, path: &str, node: &'a Located) -> Option<&'a str> {
        match &node.value {
            Node::Str(text) => Some(text),
            Node::Bool(_) | Node::Int(_) | Node::Float(_) => {
                let shown = node.value.scalar_text().unwrap_or_default();
                let message = format!(
                    "must be text, found {}: quote it (\"{shown}\")",
                    node.value.kind()
                );
                self.error(path, Some(node), message);
                None
            }
            other => {
                self.error(
                    path,
                    Some(node),
                    format!("must be text, found {}", other.kind()),
                );
                None
            }
        }
    }

    /// Text at `path` that passes `check` (which says what is wrong otherwise).
    pub(super) fn checked_text(
        &mut self,
        path: &str,
        node: &Located,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        let text = self.text(path, node)?;
        match check(text) {
            Ok(()) => Some(text.to_owned()),
            Err(message) => {
                self.error(path, Some(node), message);
                None
            }
        }
    }

    /// `true` or `false` at `path`.
    pub(super) fn boolean(&mut self, path: &str, node: &Located) -> Option<bool> {
        if let Node::Bool(value) = node.value {
            return Some(value);
        }
        let found = match &node.value {
            Node::Str(text) => quote(text),
            other => other.kind().to_owned(),
        };
        self.error(
            path,
            Some(node),
            format!("must be `true` or `false`, found {found}"),
        );
        None
    }

    /// An integer between `min` and `max` at `path`.
    pub(super) fn integer(
        &mut self,
        path: &str,
        node: &Located,
        min: i128,
        max: i128,
    ) -> Option<i128> {
        match node.value {
            Node::Int(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let found = node
                    .value
                    .scalar_text()
                    .map_or_else(|| node.value.kind().to_owned(), |t| quote(&t));
                self.error(
                    path,
                    Some(node),
                    format!("must be a whole number from {min} to {max}, found {found}"),
                );
                None
            }
        }
    }

    /// A duration like `72h` or `14d` at `path`.
    pub(super) fn duration(&mut self, path: &str, node: &Located) -> Option<Duration> {
        const EXAMPLE: &str = "write a number and a unit, e.g. `30s`, `72h` or `14d`";
        match &node.value {
            Node::Str(text) => match humantime::parse_duration(text.trim()) {
                Ok(duration) => Some(duration),
                Err(err) => {
                    self.error(
                        path,
                        Some(node),
                        format!("{} is not a duration ({err}): {EXAMPLE}", quote(text)),
                    );
                    None
                }
            },
            Node::Int(n) => {
                self.error(path, Some(node), format!("`{n}` has no unit: {EXAMPLE}"));
                None
            }
            other => {
                self.error(
                    path,
                    Some(node),
                    format!("must be a duration, found {}: {EXAMPLE}", other.kind()),
                );
                None
            }
        }
    }

    /// The items of a list at `path`; null is an empty list.
    pub(super) fn list<'a>(&mut self, path: &str, node: &'a Located) -> Option<&'a [Located]> {
        match &node.value {
            Node::Seq(items) => Some(items),
            Node::Null => Some(&[]),
            other => {
                self.error(
                    path,
                    Some(node),
                    format!("must be a list, found {}", other.kind()),
                );
                None
            }
        }
    }
}
