//! What the API server refuses to store: custom resources that break their CRD's
//! `openAPIV3Schema` (from the conformance directory), leases that do not decode as
//! `k8s_openapi` `Lease`s, names that are not DNS subdomains, and bodies of the wrong kind.

use k8s_openapi::api::coordination::v1::Lease;
use serde_json::Value;

use super::failure::Failure;
use super::kind::Kind;
use crate::support::conformance;

/// The CRD file of a custom resource kind, relative to the conformance directory.
fn crd(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Application => Some("argocd/crds/application-crd.yaml"),
        Kind::ApplicationSet => Some("argocd/crds/applicationset-crd.yaml"),
        Kind::Lease => None,
    }
}

/// The failure the API server answers for storing `object` as a `kind`, if any.
pub fn check(kind: Kind, object: &Value) -> Result<(), Failure> {
    check_type(kind, object)?;
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let mut problems = name_problems(name);
    if let Some(crd) = crd(kind) {
        problems.extend(
            conformance::validate_crd(crd, kind.version(), object)
                .into_iter()
                .map(|v| format!("{}: {}", dotted(&v.instance_path), v.message)),
        );
    } else if let Err(e) = serde_json::from_value::<Lease>(object.clone()) {
        return Err(Failure::bad_request(format!(
            "Lease in version \"v1\" cannot be handled as a Lease: {e}"
        )));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::invalid(kind, name, &problems))
    }
}

/// `apiVersion` and `kind` must be there, and be the URL's.
pub fn check_type(kind: Kind, object: &Value) -> Result<(), Failure> {
    if !object.is_object() {
        return Err(Failure::bad_request(format!(
            "the body of the request is not a JSON object: {object}"
        )));
    }
    let (Some(api_version), Some(found)) = (object["apiVersion"].as_str(), object["kind"].as_str())
    else {
        return Err(Failure::bad_request(format!(
            "Object 'Kind' is missing in '{object}'"
        )));
    };
    if !matches!(object["metadata"], Value::Object(_) | Value::Null) {
        return Err(Failure::bad_request(format!(
            "metadata is not an object: {}",
            object["metadata"]
        )));
    }
    if api_version != kind.api_version() || found != kind.name() {
        return Err(Failure::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            kind.api_version()
        )));
    }
    Ok(())
}

/// `metadata.name` must be a DNS subdomain (RFC 1123), as for every kind served here.
fn name_problems(name: &str) -> Vec<String> {
    if name.is_empty() {
        return vec!["metadata.name: Required value: name or generateName is required".to_owned()];
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && label.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        Vec::new()
    } else {
        vec![format!(
            "metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist \
             of lower case alphanumeric characters, '-' or '.', and must start and end with an \
             alphanumeric character"
        )]
    }
}

/// `/spec/destination` as the API server names fields: `spec.destination`.
fn dotted(pointer: &str) -> String {
    let path = pointer.trim_start_matches('/').replace('/', ".");
    if path.is_empty() {
        "<root>".to_owned()
    } else {
        path
    }
}
