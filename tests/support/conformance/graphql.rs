//! GitHub's GraphQL schema (`github/graphql/schema.graphql` in the conformance directory), for
//! checking the documents the service sends (and the fake GitHub receives) with
//! apollo-compiler.

use std::sync::OnceLock;

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::{Valid, WithErrors};
use apollo_compiler::{ExecutableDocument, Schema};

use super::dir;

/// Where GitHub's schema lives, relative to the conformance directory.
pub const GITHUB_GRAPHQL: &str = "github/graphql/schema.graphql";

/// GitHub's GraphQL schema, built once per test binary; `None` when the conformance directory
/// is missing (outside CI: see [`dir`]).
///
/// GitHub's SDL defines two fields of `EnterpriseOwnerInfo` twice; apollo-compiler keeps the
/// first definition of each and reports the repeats. Those are tolerated, nothing else is: any
/// other error panics (new data that does not build must not pass silently).
pub fn github_graphql() -> Option<&'static Valid<Schema>> {
    static SCHEMA: OnceLock<Option<Valid<Schema>>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = dir()?.join(GITHUB_GRAPHQL);
            let sdl = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            Some(match Schema::builder().parse(sdl, &path).build() {
                Ok(schema) => Valid::assume_valid(schema),
                Err(WithErrors { partial, errors }) => {
                    let unexpected: Vec<String> = errors
                        .iter()
                        .map(|d| d.to_json().message)
                        .filter(|m| !is_known_duplicate(m))
                        .collect();
                    assert!(
                        unexpected.is_empty() && errors.len() <= 2,
                        "GitHub's GraphQL schema {} does not build: {unexpected:#?}",
                        path.display()
                    );
                    Valid::assume_valid(partial)
                }
            })
        })
        .as_ref()
}

/// The two duplicate field definitions of GitHub's published SDL.
fn is_known_duplicate(message: &str) -> bool {
    message.contains("duplicate definitions")
        && message.contains("EnterpriseOwnerInfo")
        && (message.contains("`repositoryDeployKeySetting`")
            || message.contains("`repositoryDeployKeySettingOrganizations`"))
}

/// What is wrong with the GraphQL `document` (named `name` in messages) against GitHub's
/// schema: one line per error, with its line and column. Empty when valid, or without the
/// conformance directory outside CI.
pub fn validate_graphql(name: &str, document: &str) -> Vec<String> {
    let Some(schema) = github_graphql() else {
        return Vec::new();
    };
    match ExecutableDocument::parse_and_validate(schema, document, name) {
        Ok(_) => Vec::new(),
        Err(invalid) => invalid.errors.iter().map(|d| line(&d.to_json())).collect(),
    }
}

/// Like [`validate_graphql`], and the `variables` (a JSON object, or `null` for none) must be
/// what the operation `operation` (or the document's only one) declares: every required one
/// given, each of its type.
pub fn validate_graphql_request(
    name: &str,
    document: &str,
    operation: Option<&str>,
    variables: &serde_json::Value,
) -> Vec<String> {
    let Some(schema) = github_graphql() else {
        return Vec::new();
    };
    let document = match ExecutableDocument::parse_and_validate(schema, document, name) {
        Ok(document) => document,
        Err(invalid) => return invalid.errors.iter().map(|d| line(&d.to_json())).collect(),
    };
    let operation = match document.operations.get(operation) {
        Ok(operation) => operation,
        Err(e) => return vec![e.message().to_string()],
    };
    let values: JsonMap = match variables {
        serde_json::Value::Null => JsonMap::new(),
        other => match serde_json::from_value(other.clone()) {
            Ok(values) => values,
            Err(e) => return vec![format!("variables are not a JSON object: {e}")],
        },
    };
    match coerce_variable_values(schema, operation, &values) {
        Ok(_) => Vec::new(),
        Err(e) => vec![line(&e.to_graphql_error(&document.sources))],
    }
}

fn line(error: &apollo_compiler::response::GraphQLError) -> String {
    match error.locations.first() {
        Some(at) => format!("{} (line {}, column {})", error.message, at.line, at.column),
        None => error.message.clone(),
    }
}
