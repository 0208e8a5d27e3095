//! POST, PUT, PATCH and DELETE as the API server answers them: optimistic concurrency on
//! `metadata.resourceVersion` (409 Conflict), names and namespaces that must agree with the
//! URL, status kept on main-resource writes of kinds with a status subresource, and every
//! stored object validated first. A body the server would refuse as malformed or invalid is
//! also recorded as a conformance violation: the client under test sent it.

use std::collections::HashMap;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::failure::{self, Failure, Outcome};
use super::kind::Kind;
use super::model::{Key, PatchRecord, State};
use super::validate;
use crate::support::fake_server::Conformance as _;

const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const APPLY: &str = "application/apply-patch+yaml";
const STRATEGIC: &str = "application/strategic-merge-patch+json";

/// Records a refusal caused by what the client sent, and passes it on.
fn refused(state: &mut State, what: &str, failure: Failure) -> Failure {
    let line = format!(
        "{what}: {} {}: {}",
        failure.code, failure.reason, failure.message
    );
    state.record(line);
    failure
}

/// The body as JSON (or YAML, which server-side apply accepts).
fn decode(state: &mut State, what: &str, body: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .or_else(|_| serde_saphyr::from_slice(body))
        .map_err(|e| {
            refused(
                state,
                what,
                Failure::bad_request(format!("invalid body: {e}")),
            )
        })
}

/// Validates, recording a refusal as a violation.
fn checked(state: &mut State, kind: Kind, object: &Value, what: &str) -> Result<(), Failure> {
    validate::check(kind, object).map_err(|f| refused(state, what, f))
}

/// The namespace and name of the body must be those of the URL (the namespace may be left
/// out, and is then the URL's).
fn place(state: &mut State, key: &Key, object: &mut Value, what: &str) -> Result<(), Failure> {
    validate::check_type(key.kind, object).map_err(|f| refused(state, what, f))?;
    let metadata = &mut object["metadata"];
    if !metadata.is_object() {
        *metadata = json!({});
    }
    match metadata["namespace"].as_str() {
        None | Some("") => metadata["namespace"] = json!(key.namespace),
        Some(ns) if ns == key.namespace => {}
        Some(_) => {
            let message = "the namespace of the provided object does not match the namespace sent on the request";
            return Err(refused(state, what, Failure::bad_request(message)));
        }
    }
    match metadata["name"].as_str() {
        Some(name) if name == key.name => Ok(()),
        found => {
            let message = format!(
                "the name of the object ({}) does not match the name on the URL ({})",
                found.unwrap_or_default(),
                key.name
            );
            Err(refused(state, what, Failure::bad_request(message)))
        }
    }
}

/// POST to a collection.
pub fn create(state: &mut State, kind: Kind, namespace: &str, body: &[u8]) -> Outcome {
    let what = format!("POST {}", kind.resource());
    let mut object = decode(state, &what, body)?;
    validate::check_type(kind, &object).map_err(|f| refused(state, &what, f))?;
    let metadata = &mut object["metadata"];
    if metadata["name"].as_str().is_none_or(str::is_empty)
        && let Some(prefix) = metadata["generateName"].as_str()
    {
        let suffix: String = (0..5)
            .map(|_| char::from(b"bcdfghjklmnpqrstvwxz2456789"[rand::random_range(0..27)]))
            .collect();
        metadata["name"] = json!(format!("{prefix}{suffix}"));
    }
    if metadata["resourceVersion"]
        .as_str()
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(Failure::internal(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let name = metadata["name"].as_str().unwrap_or_default().to_owned();
    let key = Key {
        kind,
        namespace: namespace.to_owned(),
        name,
    };
    if key.name.is_empty() {
        let problem = "metadata.name: Required value: name or generateName is required";
        let failure = Failure::invalid(kind, "", &[problem.to_owned()]);
        return Err(refused(state, &what, failure));
    }
    place(state, &key, &mut object, &what)?;
    if state.objects.contains_key(&key) {
        return Err(Failure::already_exists(kind, &key.name));
    }
    if kind.has_status_subresource()
        && let Some(map) = object.as_object_mut()
    {
        map.remove("status");
    }
    checked(state, kind, &object, &what)?;
    Ok((StatusCode::CREATED, state.store(kind, object)))
}

/// PUT of one object: 409 when `metadata.resourceVersion` is not the stored one.
pub fn replace(state: &mut State, key: &Key, body: &[u8]) -> Outcome {
    let what = format!("PUT {} {}", key.kind.resource(), key.name);
    let mut object = decode(state, &what, body)?;
    place(state, key, &mut object, &what)?;
    let Some(old) = state.objects.get(key).cloned() else {
        return Err(Failure::not_found(key.kind, &key.name));
    };
    match object["metadata"]["resourceVersion"].as_str() {
        Some(rv) if !rv.is_empty() && old["metadata"]["resourceVersion"] != rv => {
            return Err(Failure::stale(key.kind, &key.name));
        }
        // Leases allow unconditional updates; custom resources do not.
        None | Some("") if key.kind != Kind::Lease => {
            let problem =
                "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update";
            return Err(refused(
                state,
                &what,
                Failure::invalid(key.kind, &key.name, &[problem.to_owned()]),
            ));
        }
        _ => {}
    }
    keep_status(key.kind, &old, &mut object);
    checked(state, key.kind, &object, &what)?;
    Ok((StatusCode::OK, state.store(key.kind, object)))
}

fn keep_status(kind: Kind, old: &Value, new: &mut Value) {
    if kind.has_status_subresource() {
        match old.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
}

/// PATCH of one object. ApplicationSet patches are logged, whatever the answer.
pub fn patch(
    state: &mut State,
    key: &Key,
    content_type: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    arrived: Instant,
) -> Outcome {
    let content_type = content_type.split(';').next().unwrap_or_default().trim();
    let outcome = patch_object(state, key, content_type, query, body);
    if key.kind == Kind::ApplicationSet {
        let status = outcome
            .as_ref()
            .map_or_else(|f| f.code, |(s, _)| s.as_u16());
        let patch =
            serde_json::from_slice(body).unwrap_or_else(|_| json!(String::from_utf8_lossy(body)));
        state.patches.push(PatchRecord {
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            content_type: content_type.to_owned(),
            patch,
            status,
            arrived,
        });
    }
    outcome
}

fn patch_object(
    state: &mut State,
    key: &Key,
    content_type: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Outcome {
    let what = format!(
        "PATCH ({content_type}) {} {}",
        key.kind.resource(),
        key.name
    );
    accept(key, content_type, query).map_err(|f| refused(state, &what, f))?;
    let patch = decode(state, &what, body)?;
    let (old, created) = match state.objects.get(key) {
        Some(old) => (old.clone(), false),
        // Server-side apply creates what is missing.
        None if content_type == APPLY => (json!({"metadata": {}}), true),
        None => return Err(Failure::not_found(key.kind, &key.name)),
    };
    let mut object = old.clone();
    apply(&mut object, key, content_type, patch).map_err(|f| match f.code {
        // A patch that does not parse is the client's bug; one that does not apply (a failed
        // `test`, a missing path) may be a race.
        400 => refused(state, &what, f),
        _ => f,
    })?;
    if created {
        return create(
            state,
            key.kind,
            &key.namespace,
            &serde_json::to_vec(&object).unwrap_or_default(),
        );
    }
    if object["metadata"]["resourceVersion"] != old["metadata"]["resourceVersion"] {
        return Err(Failure::stale(key.kind, &key.name));
    }
    place(state, key, &mut object, &what)?;
    keep_status(key.kind, &old, &mut object);
    checked(state, key.kind, &object, &what)?;
    Ok((StatusCode::OK, state.store(key.kind, object)))
}

/// Refuses a patch type the kind does not take, and an apply without a field manager.
fn accept(key: &Key, content_type: &str, query: &HashMap<String, String>) -> Result<(), Failure> {
    let accepted: &[&str] = match key.kind {
        Kind::Lease => &[JSON_PATCH, MERGE, STRATEGIC, APPLY],
        _ => &[JSON_PATCH, MERGE, APPLY],
    };
    if !accepted.contains(&content_type) {
        return Err(Failure::unsupported_media_type(content_type, accepted));
    }
    if content_type == APPLY && query.get("fieldManager").is_none_or(String::is_empty) {
        let problem = "fieldManager: Required value: is required for apply patch";
        return Err(Failure::invalid(key.kind, &key.name, &[problem.to_owned()]));
    }
    Ok(())
}

/// Applies `patch` of `content_type` to `object`.
fn apply(object: &mut Value, key: &Key, content_type: &str, patch: Value) -> Result<(), Failure> {
    if content_type != JSON_PATCH {
        json_patch::merge(object, &patch);
        return Ok(());
    }
    let operations: json_patch::Patch =
        serde_json::from_value(patch).map_err(|e| Failure::bad_request(e.to_string()))?;
    json_patch::patch(object, &operations).map_err(|e| {
        let problem = format!("the JSON patch could not be applied: {e}");
        Failure::invalid(key.kind, &key.name, &[problem])
    })
}

/// DELETE of one object, with optional `preconditions` (`uid`, `resourceVersion`).
pub fn delete(state: &mut State, key: &Key, body: &[u8]) -> Outcome {
    let Some(old) = state.objects.get(key).cloned() else {
        return Err(Failure::not_found(key.kind, &key.name));
    };
    let options: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    for (field, name) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        let wanted = &options["preconditions"][field];
        let found = &old["metadata"][field];
        if !wanted.is_null() && wanted != found {
            let why = format!(
                "Precondition failed: {name} in precondition: {}, {name} in object meta: {}",
                wanted.as_str().unwrap_or_default(),
                found.as_str().unwrap_or_default()
            );
            return Err(Failure::conflict(key.kind, &key.name, &why));
        }
    }
    let object = state
        .begin_deletion(key)
        .ok_or_else(|| Failure::not_found(key.kind, &key.name))?;
    let still_there = state.objects.contains_key(key);
    if still_there || key.kind.returns_deleted_object() {
        Ok((StatusCode::OK, object))
    } else {
        let status = failure::deleted(key.kind, &key.name, &object["metadata"]["uid"]);
        Ok((StatusCode::OK, status))
    }
}
