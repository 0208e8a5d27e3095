//! Vendor JSON Schemas from the shared conformance directory, for checking what fakes serve
//! and what clients send.
//!
//! The directory is `$PREVIEW_TOWER_CONFORMANCE_DIR`, else `../shared/conformance` beside the
//! crate. When it is missing, validation is skipped after a loud warning, and the test panics
//! if `CI` is set: CI must never pass without the vendor's word.
//!
//! ```ignore
//! let violations = conformance::validate("github/schemas/pulls.list.response-200.schema.json", &body);
//! assert!(violations.is_empty(), "{violations:#?}");
//! let violations = conformance::validate_crd("argocd/crds/application-crd.yaml", "v1alpha1", &app);
//! let violations = conformance::validate_webhook("pull_request", "opened", &payload);
//! let errors = conformance::validate_graphql("HeadFacts", &document);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::Value;

mod graphql;
pub use graphql::{GITHUB_GRAPHQL, github_graphql, validate_graphql, validate_graphql_request};

/// One way an instance breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The schema file, relative to the conformance directory.
    pub schema: String,
    /// JSON pointer into the instance (`/0/head/repo`).
    pub instance_path: String,
    /// The validator's message.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at `{}`: {}",
            self.schema, self.instance_path, self.message
        )
    }
}

/// The conformance directory, or `None` (after warning, or panicking under `CI`) if missing.
pub fn dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("PREVIEW_TOWER_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance")
            });
        if dir.is_dir() {
            return Some(dir);
        }
        let banner = "!".repeat(78);
        eprintln!(
            "{banner}\n!! conformance directory {} is missing: vendor schemas NOT checked.\n\
             !! Set PREVIEW_TOWER_CONFORMANCE_DIR to the shared `conformance` folder.\n{banner}",
            dir.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!(
                "conformance directory {} is missing and CI is set",
                dir.display()
            );
        }
        None
    })
    .clone()
}

/// Checks `instance` against the schema at `schema` (relative to the conformance directory,
/// e.g. `github/schemas/common.basic-error.schema.json`). Empty when valid, or when the
/// directory is missing outside CI. A missing or broken schema file panics: that is a bug in
/// the test, not in the instance.
pub fn validate(schema: &str, instance: &Value) -> Vec<Violation> {
    let Some(validator) = validator(schema) else {
        return Vec::new();
    };
    validator
        .iter_errors(instance)
        .map(|error| Violation {
            schema: schema.to_owned(),
            instance_path: error.instance_path().to_string(),
            message: error.to_string(),
        })
        .collect()
}

/// Checks `instance` against the definition `def` (under `$defs`) of the schema file `schema`:
/// for a vendor shape the conformance set has no file of its own for, but that another
/// answer's schema defines (GitHub's `integration`, its `author-association`). Like
/// [`validate`] otherwise; a definition the file lacks panics.
pub fn validate_def(schema: &str, def: &str, instance: &Value) -> Vec<Violation> {
    static CACHE: Cache = OnceLock::new();
    let key = format!("{schema}#/$defs/{def}");
    let compiled = cached_as(&CACHE, &key, schema, |document| {
        assert!(
            document["$defs"].get(def).is_some(),
            "schema {schema} has no definition {def}"
        );
        let pointer = serde_json::json!({
            "$defs": document["$defs"],
            "$ref": format!("#/$defs/{def}"),
        });
        jsonschema::draft202012::new(&pointer)
    });
    let Some(validator) = compiled else {
        return Vec::new();
    };
    validator
        .iter_errors(instance)
        .map(|error| Violation {
            schema: key.clone(),
            instance_path: error.instance_path().to_string(),
            message: error.to_string(),
        })
        .collect()
}

/// Panics with every violation listed when `instance` breaks `schema`.
pub fn assert_valid(schema: &str, instance: &Value) {
    let violations = validate(schema, instance);
    assert!(
        violations.is_empty(),
        "{} schema violation(s):\n{}",
        violations.len(),
        violations
            .iter()
            .map(|v| format!("  - {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

type Cache = OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>>;

/// The validator for the JSON schema file `schema` (relative to the conformance directory),
/// compiled by `compile` once per test binary and `cache`; `None` without the directory.
fn cached(
    cache: &'static Cache,
    schema: &str,
    compile: impl FnOnce(&Value) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>>,
) -> Option<Arc<jsonschema::Validator>> {
    cached_as(cache, schema, schema, compile)
}

/// [`cached`], kept under `key` (one file may give several validators).
fn cached_as(
    cache: &'static Cache,
    key: &str,
    schema: &str,
    compile: impl FnOnce(&Value) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>>,
) -> Option<Arc<jsonschema::Validator>> {
    let dir = dir()?;
    let cache = cache.get_or_init(Mutex::default);
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
    {
        return Some(Arc::clone(found));
    }
    let path = dir.join(schema);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read schema {}: {e}", path.display()));
    let document: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("schema {} is not JSON: {e}", path.display()));
    let compiled = compile(&document)
        .unwrap_or_else(|e| panic!("schema {} does not compile: {e}", path.display()));
    let compiled = Arc::new(compiled);
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key.to_owned(), Arc::clone(&compiled));
    Some(compiled)
}

/// The compiled validator for `schema`, compiled once per test binary.
fn validator(schema: &str) -> Option<Arc<jsonschema::Validator>> {
    static CACHE: Cache = OnceLock::new();
    cached(&CACHE, schema, |document| {
        jsonschema::draft202012::new(document)
    })
}

/// Checks `instance` against the `openAPIV3Schema` of version `version` of the
/// CustomResourceDefinition at `crd` (YAML, relative to the conformance directory), as the API
/// server enforces it (structural schema: the server prunes unknown fields rather than refusing
/// them, so unknown fields pass here too). Empty when valid, or when the directory is missing
/// outside CI. A missing or broken CRD file, or a missing version, panics.
pub fn validate_crd(crd: &str, version: &str, instance: &Value) -> Vec<Violation> {
    let Some(validator) = crd_validator(crd, version) else {
        return Vec::new();
    };
    validator
        .iter_errors(instance)
        .map(|error| Violation {
            schema: format!("{crd}#{version}"),
            instance_path: error.instance_path().to_string(),
            message: error.to_string(),
        })
        .collect()
}

/// The compiled `openAPIV3Schema` of a CRD version (draft 4, as OpenAPI v3.0 schemas are),
/// compiled once per test binary.
fn crd_validator(crd: &str, version: &str) -> Option<Arc<jsonschema::Validator>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let dir = dir()?;
    let key = format!("{crd}#{version}");
    // Held while compiling: parsing a large CRD twice in parallel would only waste time.
    let mut cache = CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = cache.get(&key) {
        return Some(Arc::clone(found));
    }
    let path = dir.join(crd);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read CRD {}: {e}", path.display()));
    let document: Value = serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("CRD {} is not YAML: {e}", path.display()));
    let schema = document["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["name"] == version))
        .map(|v| &v["schema"]["openAPIV3Schema"])
        .unwrap_or_else(|| panic!("CRD {} has no version {version}", path.display()));
    let compiled = jsonschema::draft4::new(schema)
        .unwrap_or_else(|e| panic!("CRD {} schema does not compile: {e}", path.display()));
    let compiled = Arc::new(compiled);
    cache.insert(key, Arc::clone(&compiled));
    Some(compiled)
}

/// Where octokit's webhook payload schemas live, relative to the conformance directory.
pub const WEBHOOK_SCHEMAS: &str = "github/webhooks/payload-schemas/api.github.com";

/// Checks `instance` against octokit's schema of webhook `event` with `action` (`ping` has the
/// single action `event`): `{WEBHOOK_SCHEMAS}/{event}/{action}.schema.json`, draft-07, its
/// `common/*.schema.json` references read from the same folder. Empty when valid, or when the
/// directory is missing outside CI. A missing or broken schema panics.
pub fn validate_webhook(event: &str, action: &str, instance: &Value) -> Vec<Violation> {
    let schema = format!("{WEBHOOK_SCHEMAS}/{event}/{action}.schema.json");
    let Some(validator) = webhook_validator(&schema) else {
        return Vec::new();
    };
    validator
        .iter_errors(instance)
        .map(|error| Violation {
            schema: schema.clone(),
            instance_path: error.instance_path().to_string(),
            message: error.to_string(),
        })
        .collect()
}

/// Reads `$ref`s such as `common/user.schema.json` from the webhook schema folder. The
/// schemas' `$id`s are relative (`pull_request$opened`), so every reference resolves against
/// the base `json-schema:///`: the URI's path is the file's path in the folder.
struct WebhookSchemaFiles(PathBuf);

impl jsonschema::Retrieve for WebhookSchemaFiles {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let relative = uri.path().as_str().trim_start_matches('/');
        let path = self.0.join(relative);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {} (for {uri}): {e}", path.display()))?;
        let mut document: Value = serde_json::from_str(&text)?;
        // The files' own `$id`s are relative too (`common/user.schema.json`), which the
        // registry cannot resolve: give each the absolute URI it was retrieved by.
        if let Some(object) = document.as_object_mut() {
            object.insert("$id".to_owned(), Value::from(uri.as_str()));
        }
        Ok(document)
    }
}

fn webhook_validator(schema: &str) -> Option<Arc<jsonschema::Validator>> {
    static CACHE: Cache = OnceLock::new();
    let files = WebhookSchemaFiles(dir()?.join(WEBHOOK_SCHEMAS));
    cached(&CACHE, schema, |document| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .with_base_uri("json-schema:///")
            .with_retriever(files)
            .build(document)
    })
}

/// Panics with every violation listed when `instance` breaks the schema of webhook `event`
/// with `action` (see [`validate_webhook`]).
pub fn assert_webhook_valid(event: &str, action: &str, instance: &Value) {
    let violations = validate_webhook(event, action, instance);
    assert!(
        violations.is_empty(),
        "{} webhook schema violation(s):\n{}",
        violations.len(),
        violations
            .iter()
            .map(|v| format!("  - {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
