//! The generic half of the fake's GraphQL executor: walks the validated operation (fields,
//! aliases, arguments with variables, inline fragments, fragment spreads, `__typename`) over
//! the world's objects ([`super::world::Obj`]), collects field errors at their paths, and
//! records a violation for any field or argument the fake does not implement (answered
//! `null` with an error, never silently).

use std::time::Duration;

use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use serde_json::{Map, Value, json};

use super::cost::eval;
use super::world::{self, Obj};
use crate::support::fake_github::model::State;

/// What a field resolved to, before its selection set is applied.
pub(super) enum Out {
    Null,
    Leaf(Value),
    Object(Obj),
    List(Vec<Out>),
}

/// What a fact's REST fault rule does to the whole answer (see the module doc of `graphql`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Whole {
    #[default]
    Normal,
    RateLimited,
    Secondary(u64),
    TooManyRequests(u64),
}

/// What the `rateLimit` field reports.
#[derive(Clone, Copy, Debug)]
pub(super) struct RateInfo {
    pub cost: u64,
    pub limit: u64,
    pub remaining: u64,
    pub used: u64,
    pub reset_at: i64,
}

/// One execution.
pub(super) struct Exec<'a> {
    pub state: &'a mut State,
    pub schema: &'a Valid<Schema>,
    pub document: &'a Valid<ExecutableDocument>,
    pub vars: &'a Map<String, Value>,
    pub errors: Vec<Value>,
    pub whole: Whole,
    /// How long the whole answer waits (a fact's `Fault::Timeout`).
    pub wait: Duration,
    /// `Fault::GraphqlNodeError`: its type and its rule's `containing`.
    pub node_error: Option<(&'static str, Option<String>)>,
    /// Whether the credential may see the repository (an installation token of another
    /// owner may not).
    pub visible: bool,
    pub rate: RateInfo,
}

impl Exec<'_> {
    /// Runs `set` of the root type: the answer's `data`.
    pub fn run(&mut self, set: &SelectionSet) -> Value {
        self.selection_set(&Obj::Query, set, &mut Vec::new())
    }

    fn selection_set(&mut self, obj: &Obj, set: &SelectionSet, path: &mut Vec<Value>) -> Value {
        let mut map = Map::new();
        self.collect(obj, set, path, &mut map);
        Value::Object(map)
    }

    fn collect(
        &mut self,
        obj: &Obj,
        set: &SelectionSet,
        path: &mut Vec<Value>,
        map: &mut Map<String, Value>,
    ) {
        let document = self.document;
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let key = field.response_key().to_string();
                    path.push(Value::from(key.as_str()));
                    let value = if field.name == "__typename" {
                        Value::from(obj.typename())
                    } else {
                        let out = self.field(obj, field, path);
                        self.complete(out, field, path)
                    };
                    path.pop();
                    merge(map, key, value);
                }
                Selection::InlineFragment(inline) => {
                    let applies = inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|t| self.applies(t, obj.typename()));
                    if applies {
                        self.collect(obj, &inline.selection_set, path, map);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.fragment_name)
                        && self.applies(fragment.type_condition(), obj.typename())
                    {
                        self.collect(obj, &fragment.selection_set, path, map);
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, typename: &str) -> bool {
        condition == typename || self.schema.is_subtype(condition, typename)
    }

    fn complete(&mut self, out: Out, field: &Node<Field>, path: &mut Vec<Value>) -> Value {
        match out {
            Out::Null => Value::Null,
            Out::Leaf(value) => value,
            Out::Object(obj) => self.selection_set(&obj, &field.selection_set, path),
            Out::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    path.push(Value::from(index));
                    values.push(self.complete(item, field, path));
                    path.pop();
                }
                Value::Array(values)
            }
        }
    }

    fn field(&mut self, obj: &Obj, field: &Node<Field>, path: &[Value]) -> Out {
        let args: Map<String, Value> = field
            .arguments
            .iter()
            .map(|a| (a.name.to_string(), eval(&a.value, self.vars)))
            .collect();
        let at = At { field, path };
        match world::resolve(self, obj, &at, &args) {
            Some(out) => out,
            None => {
                let what = format!("{}.{}", obj.typename(), field.name);
                self.unimplemented(&at, &what);
                Out::Null
            }
        }
    }

    /// The error type `object(oid: sha)` answers under `Fault::GraphqlNodeError`: every SHA
    /// without `containing`, else a SHA the text names (or a prefix of it).
    pub fn node_error_for(&self, sha: &str) -> Option<&'static str> {
        let (type_, containing) = self.node_error.as_ref()?;
        let hit = containing
            .as_deref()
            .is_none_or(|text| text.contains(sha) || sha.starts_with(text));
        hit.then_some(*type_)
    }

    /// The error type `pullRequest(number: n)` answers under `Fault::GraphqlNodeError`: every
    /// number without `containing`, else when it is `"n"`, `"p{n}"` or names
    /// `pullRequest(number: n)`.
    pub fn node_error_for_pull(&self, number: u64) -> Option<&'static str> {
        let (type_, containing) = self.node_error.as_ref()?;
        let hit = containing.as_deref().is_none_or(|text| {
            text == number.to_string()
                || text == format!("p{number}")
                || text.contains(&format!("pullRequest(number: {number})"))
        });
        hit.then_some(*type_)
    }

    /// Records that the fake does not implement `what` (a field, an argument, a value), and
    /// answers an error at `at`: a violation, so the test fails, never a silent `null`.
    pub fn unimplemented(&mut self, at: &At<'_>, what: &str) {
        let line = format!(
            "GraphQL: the fake GitHub does not implement {what} (at {})",
            Value::Array(at.path.to_vec())
        );
        crate::support::fake_server::Conformance::record(&mut *self.state, line);
        self.error(
            at,
            None,
            &format!("the fake GitHub does not implement {what}"),
        );
    }

    /// A field error at `at`, as GitHub writes them (`type` when given).
    pub fn error(&mut self, at: &At<'_>, type_: Option<&str>, message: &str) {
        let mut error = json!({"path": at.path, "locations": locations(self.document, at.field), "message": message});
        if let Some(type_) = type_ {
            error["type"] = Value::from(type_);
        }
        self.errors.push(error);
    }
}

/// Whether `set` selects the field `name` itself, through fragments too.
pub(super) fn selects(document: &ExecutableDocument, set: &SelectionSet, name: &str) -> bool {
    set.selections.iter().any(|selection| match selection {
        Selection::Field(field) => field.name == name,
        Selection::InlineFragment(inline) => selects(document, &inline.selection_set, name),
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.fragment_name)
            .is_some_and(|f| selects(document, &f.selection_set, name)),
    })
}

/// Where a field is being resolved: the field and its response path.
pub(super) struct At<'a> {
    pub field: &'a Node<Field>,
    pub path: &'a [Value],
}

/// `[{"line", "column"}]` of `field` in `document`.
pub(super) fn locations(document: &ExecutableDocument, field: &Node<Field>) -> Value {
    field.line_column_range(&document.sources).map_or_else(
        || json!([]),
        |range| json!([{"line": range.start.line, "column": range.start.column}]),
    )
}

/// Puts `value` under `key`, merging objects selected twice (a fragment and its field).
fn merge(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (Some(Value::Object(old)), Value::Object(new)) => {
            for (k, v) in new {
                merge(old, k, v);
            }
        }
        (Some(Value::Array(old)), Value::Array(new)) if old.len() == new.len() => {
            for (old, new) in old.iter_mut().zip(new) {
                if let (Value::Object(old), Value::Object(new)) = (old, new) {
                    for (k, v) in new {
                        merge(old, k, v);
                    }
                }
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}
