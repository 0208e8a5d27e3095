//! GitHub webhook deliveries for tests, shaped as GitHub sends them.
//!
//! [`build`] starts from octokit's schema of the event and action
//! (`conformance::WEBHOOK_SCHEMAS`): every required field, recursively, with the smallest
//! value the schema allows (`null` where it may be null, the first `enum` value, the first
//! `oneOf` branch...). Then it sets the fields the test cares about, and checks the result
//! against the same schema, so that what a test sends preview-tower is what GitHub could
//! send. Without the conformance directory (outside CI) it starts from `{}` instead.
//!
//! ```ignore
//! let payload = webhook_payload::build("pull_request", "opened", &[
//!     ("/number", json!(7)),
//!     ("/repository/full_name", json!("acme/web")),
//! ]);
//! let body = serde_json::to_vec(&webhook_payload::pull_request("labeled", "acme/web", 7))?;
//! let headers = webhook_payload::headers("pull_request", &delivery_id, SECRET, &body);
//! ```

use std::path::{Path, PathBuf};

use preview_tower::github::webhook::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign};
use serde_json::{Map, Value, json};

use super::conformance;

/// A payload of `event` with `action` (`ping` has the single action `event`), with `fields`
/// (JSON pointer, value) set, checked against the vendor schema (panics on a violation).
pub fn build(event: &str, action: &str, fields: &[(&str, Value)]) -> Value {
    let mut payload = generate(event, action).unwrap_or_else(|| Value::Object(Map::new()));
    for (pointer, value) in fields {
        set(&mut payload, pointer, value.clone());
    }
    conformance::assert_webhook_valid(event, action, &payload);
    payload
}

/// A `pull_request` delivery with `action` about PR `number` of `repo` (`owner/name`), as
/// [`build`] makes it: what preview-tower reads set, the rest the schema's smallest values.
pub fn pull_request(action: &str, repo: &str, number: u64) -> Value {
    let name = repo.split_once('/').map_or(repo, |(_, name)| name);
    build(
        "pull_request",
        action,
        &[
            ("/number", json!(number)),
            ("/pull_request/number", json!(number)),
            ("/repository/full_name", json!(repo)),
            ("/repository/name", json!(name)),
        ],
    )
}

/// The headers GitHub sends with delivery `id` of `event` whose body is `body`, signed with
/// `secret` (`X-Hub-Signature-256` over the exact bytes).
pub fn headers(event: &str, id: &str, secret: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("user-agent", "GitHub-Hookshot/5a5f0e1".to_owned()),
        (EVENT_HEADER, event.to_owned()),
        (DELIVERY_HEADER, id.to_owned()),
        ("x-github-hook-id", "292430182".to_owned()),
        (
            "x-github-hook-installation-target-type",
            "integration".to_owned(),
        ),
        (SIGNATURE_HEADER, sign(secret.as_bytes(), body)),
    ]
}

/// The smallest payload octokit's schema allows, `None` without the conformance directory.
pub fn generate(event: &str, action: &str) -> Option<Value> {
    let root = conformance::dir()?.join(conformance::WEBHOOK_SCHEMAS);
    let generator = Generator { root };
    let file = format!("{event}/{action}.schema.json");
    let schema = generator.read(&file);
    // Top-level `$id`s are relative names without a folder: references resolve from the root.
    Some(generator.instance(&schema, "", 0))
}

/// Sets `value` at JSON `pointer` in `target`, creating objects on the way.
pub fn set(target: &mut Value, pointer: &str, value: Value) {
    let mut current = target;
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        *current = value;
        return;
    };
    for segment in parents {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        current = current
            .as_object_mut()
            .expect("object")
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    current
        .as_object_mut()
        .expect("object")
        .insert(last.clone(), value);
}

struct Generator {
    root: PathBuf,
}

impl Generator {
    fn read(&self, file: &str) -> Value {
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read schema {}: {e}", path.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("schema {} is not JSON: {e}", path.display()))
    }

    /// The smallest instance of `schema`, whose relative references resolve against folder
    /// `base` (`""` or `common/`).
    fn instance(&self, schema: &Value, base: &str, depth: usize) -> Value {
        assert!(depth < 64, "schema recursion too deep at {schema}");
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let file = format!("{base}{reference}");
            let folder = Path::new(&file)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .filter(|p| !p.is_empty())
                .map_or_else(String::new, |p| format!("{p}/"));
            return self.instance(&self.read(&file), &folder, depth + 1);
        }
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            return parts.iter().fold(Value::Null, |merged, part| {
                merge(merged, self.instance(part, base, depth + 1))
            });
        }
        let branches = schema.get("oneOf").or_else(|| schema.get("anyOf"));
        if let Some(branches) = branches.and_then(Value::as_array) {
            let null = branches
                .iter()
                .find(|b| b.get("type") == Some(&"null".into()));
            let chosen = null.or(branches.first()).expect("a branch");
            return self.instance(chosen, base, depth + 1);
        }
        match smallest_type(schema) {
            "object" => self.object(schema, base, depth),
            "array" => {
                let count = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
                let item = schema.get("items").cloned().unwrap_or(Value::Null);
                let items = (0..count).map(|_| self.instance(&item, base, depth + 1));
                Value::Array(items.collect())
            }
            "string" => Value::from(string_for(schema.get("format").and_then(Value::as_str))),
            "integer" | "number" => {
                Value::from(schema.get("minimum").and_then(Value::as_i64).unwrap_or(1))
            }
            "boolean" => Value::Bool(false),
            _ => Value::Null,
        }
    }

    fn object(&self, schema: &Value, base: &str, depth: usize) -> Value {
        let mut object = Map::new();
        let required = schema.get("required").and_then(Value::as_array);
        for name in required.into_iter().flatten().filter_map(Value::as_str) {
            let property = schema
                .get("properties")
                .and_then(|p| p.get(name))
                .cloned()
                .unwrap_or(Value::Null);
            object.insert(name.to_owned(), self.instance(&property, base, depth + 1));
        }
        Value::Object(object)
    }
}

/// The type to build: `null` when allowed (the smallest), else the first named, else
/// `object` when the schema lists properties.
fn smallest_type(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(name)) => name,
        Some(Value::Array(names)) => {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            if names.contains(&"null") {
                "null"
            } else {
                names.first().copied().unwrap_or("null")
            }
        }
        _ if schema.get("properties").is_some() || schema.get("required").is_some() => "object",
        _ => "null",
    }
}

fn string_for(format: Option<&str>) -> &'static str {
    match format {
        Some("date-time") => "2026-01-02T03:04:05Z",
        Some("uri") => "https://github.example/x",
        Some("uri-template") => "https://github.example/x{/id}",
        Some("email") => "octocat@github.example",
        _ => "x",
    }
}

/// `later` over `earlier`: objects merge key by key, anything else is replaced (an `allOf`
/// member that narrows a field wins).
fn merge(earlier: Value, later: Value) -> Value {
    match (earlier, later) {
        (Value::Object(mut into), Value::Object(from)) => {
            for (key, value) in from {
                let merged = match into.remove(&key) {
                    Some(previous) => merge(previous, value),
                    None => value,
                };
                into.insert(key, merged);
            }
            Value::Object(into)
        }
        (earlier, Value::Null) if earlier.is_object() => earlier,
        (_, later) => later,
    }
}
