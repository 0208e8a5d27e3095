//! GitHub's documented cost of a GraphQL call ("Rate limits and node limits for the GraphQL
//! API"): for every connection in the call (each alias separately), the requests needed to
//! fill it assuming every `first`/`last` is reached (1 at the top, else the product of the
//! page sizes of the connections around it); their sum, divided by 100, rounded to the nearest
//! whole number (half up), at least 1 point. And its limits: every connection needs `first` or
//! `last` between 1 and 100, and a call asks for at most 500,000 nodes.

use std::collections::HashSet;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::ast;
use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use serde_json::{Map, Value};

/// Most nodes one call may ask for.
const MAX_NODES: u64 = 500_000;

/// What a call costs, and what breaks GitHub's limits in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Requests to fill every connection.
    pub requests: u64,
    /// Points charged.
    pub points: u64,
    /// Nodes asked for (GitHub's node limit).
    pub nodes: u64,
    /// GitHub's messages for connections without a valid `first`/`last`, or too many nodes.
    pub problems: Vec<String>,
}

/// The cost of `operation` of `document` with `variables`.
pub(super) fn cost(
    document: &ExecutableDocument,
    operation: &Operation,
    vars: &Map<String, Value>,
) -> Cost {
    let mut walk = Walk {
        document,
        vars,
        seen: HashSet::new(),
        cost: Cost::default(),
    };
    walk.set(&operation.selection_set, 1, "");
    let mut cost = walk.cost;
    // Ruby rounds half up (`2.5.round == 3`); integers: (n + 50) / 100.
    cost.points = (cost.requests.saturating_add(50) / 100).max(1);
    if cost.nodes > MAX_NODES {
        cost.problems.push(format!(
            "This query requests {} nodes, which exceeds the maximum limit of {MAX_NODES}.",
            cost.nodes
        ));
    }
    cost
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    vars: &'a Map<String, Value>,
    /// Response paths of the connections counted (a field merged from two places is one).
    seen: HashSet<String>,
    cost: Cost,
}

impl Walk<'_> {
    fn set(&mut self, set: &SelectionSet, multiplier: u64, path: &str) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let here = format!("{path}/{}", field.response_key());
                    let connection = field
                        .definition
                        .ty
                        .inner_named_type()
                        .ends_with("Connection");
                    if !connection {
                        self.set(&field.selection_set, multiplier, &here);
                        continue;
                    }
                    let page = ["first", "last"]
                        .iter()
                        .find_map(|name| field.specified_argument_by_name(name))
                        .map(|value| eval(value, self.vars));
                    let page = match page.as_ref().and_then(Value::as_i64) {
                        Some(n) if (1..=100).contains(&n) => n as u64,
                        Some(n) => {
                            self.cost.problems.push(format!(
                                "Requesting {n} records on the `{}` connection exceeds the `first` limit of 100 records.",
                                field.name
                            ));
                            100
                        }
                        None => {
                            self.cost.problems.push(format!(
                                "You must provide a `first` or `last` value to properly paginate the `{}` connection.",
                                field.name
                            ));
                            100
                        }
                    };
                    if self.seen.insert(here.clone()) {
                        self.cost.requests += multiplier;
                        self.cost.nodes += multiplier * page;
                    }
                    self.set(&field.selection_set, multiplier * page, &here);
                }
                Selection::InlineFragment(inline) => {
                    self.set(&inline.selection_set, multiplier, path)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.document.fragments.get(&spread.fragment_name) {
                        self.set(&fragment.selection_set, multiplier, path);
                    }
                }
            }
        }
    }
}

/// An argument's value as JSON, variables replaced by theirs (absent ones are `null`).
pub(super) fn eval(value: &ast::Value, vars: &Map<String, Value>) -> Value {
    match value {
        ast::Value::Null => Value::Null,
        ast::Value::Enum(name) => Value::from(name.as_str()),
        ast::Value::Variable(name) => vars.get(name.as_str()).cloned().unwrap_or(Value::Null),
        ast::Value::String(text) => Value::from(text.as_str()),
        ast::Value::Float(f) => f.try_to_f64().map_or(Value::Null, Value::from),
        ast::Value::Int(i) => i.as_str().parse::<i64>().map_or(Value::Null, Value::from),
        ast::Value::Boolean(b) => Value::Bool(*b),
        ast::Value::List(items) => Value::Array(items.iter().map(|v| eval(v, vars)).collect()),
        ast::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.to_string(), eval(v, vars)))
                .collect(),
        ),
    }
}
