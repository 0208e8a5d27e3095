//! What the fake checks against the vendor's word: comment requests (v3: the `addComment`
//! request schema and the ADF schema; v2: `{"body": "<string>"}`) and every comment and page
//! it serves.

use std::sync::OnceLock;

use preview_tower::jira::rest::Edition;
use serde_json::Value;

use crate::support::conformance;

pub(super) const SCHEMAS: &str = "jira/schemas";
const ADF: &str = "jira/adf/full.json";

/// `Comment` fields that are `readOnly` in the spec: a client must not send them.
const READ_ONLY: &[&str] = &[
    "author",
    "updateAuthor",
    "created",
    "updated",
    "id",
    "self",
    "renderedBody",
    "jsdPublic",
    "jsdAuthorCanSeeRequest",
];

/// Everything wrong with an `addComment` request body, for `edition`.
pub(super) fn request(edition: Edition, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(fields) = body.as_object() else {
        return vec![format!("addComment body is not a JSON object: {body}")];
    };
    for field in READ_ONLY.iter().filter(|f| fields.contains_key(**f)) {
        problems.push(format!("addComment sends read-only field `{field}`"));
    }
    match edition {
        Edition::Cloud => {
            let schema = format!("{SCHEMAS}/addComment.request.schema.json");
            problems.extend(
                conformance::validate(&schema, body)
                    .iter()
                    .map(ToString::to_string),
            );
            match fields.get("body") {
                Some(adf) => problems.extend(adf_violations(adf)),
                None => problems.push("addComment (v3) has no `body`".to_owned()),
            }
        }
        Edition::DataCenter => {
            let text = fields.get("body").and_then(Value::as_str);
            if text.is_none_or(|b| b.trim().is_empty()) {
                problems.push(format!(
                    "addComment (v2) `body` must be a non-empty string: {body}"
                ));
            }
            for field in fields.keys() {
                if !matches!(field.as_str(), "body" | "visibility" | "properties") {
                    problems.push(format!("addComment (v2) sends unknown field `{field}`"));
                }
            }
        }
    }
    problems
}

/// Everything wrong with a served body: the schema, and (Cloud) the ADF of every comment.
pub(super) fn served(edition: Edition, schema: &str, body: &Value) -> Vec<String> {
    let mut problems: Vec<String> = conformance::validate(&format!("{SCHEMAS}/{schema}"), body)
        .iter()
        .map(ToString::to_string)
        .collect();
    if edition == Edition::Cloud {
        let comments = match body.get("comments") {
            Some(Value::Array(comments)) => comments.iter().collect(),
            _ => vec![body],
        };
        for comment in comments {
            problems.extend(adf_violations(&comment["body"]));
        }
    }
    problems
}

/// Where `body` breaks the ADF schema (JSON Schema draft-04, so compiled here rather than by
/// `conformance`, which assumes 2020-12). Empty when the conformance directory is missing
/// outside CI.
pub(super) fn adf_violations(body: &Value) -> Vec<String> {
    static ADF_VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    let validator = ADF_VALIDATOR.get_or_init(|| {
        let path = conformance::dir()?.join(ADF);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        Some(
            jsonschema::draft4::new(&schema)
                .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display())),
        )
    });
    let Some(validator) = validator else {
        return Vec::new();
    };
    validator
        .iter_errors(body)
        .map(|e| format!("{ADF} at `{}`: {e}", e.instance_path()))
        .collect()
}
