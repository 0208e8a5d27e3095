//! GET of one object and of lists: selectors, `resourceVersion` / `resourceVersionMatch`, and
//! `limit` / `continue` pagination from a consistent snapshot, as the API server pages.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::failure::{Failure, Outcome};
use super::kind::Kind;
use super::model::{Key, Snapshot, State};
use super::selector::Selector;

/// GET of one object.
pub fn get(state: &State, key: &Key) -> Outcome {
    match state.objects.get(key) {
        Some(object) => Ok((StatusCode::OK, object.clone())),
        None => Err(Failure::not_found(key.kind, &key.name)),
    }
}

/// GET of a collection (`namespace: None` for every namespace).
pub fn list(
    state: &mut State,
    kind: Kind,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
) -> Outcome {
    let param = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let selector = Selector::parse(param("labelSelector"), param("fieldSelector"))
        .map_err(Failure::bad_request)?;
    let limit = match param("limit") {
        None => 0,
        Some(limit) => limit
            .parse::<usize>()
            .map_err(|_| Failure::bad_request(format!("invalid limit {limit:?}")))?,
    };
    let (rv, items, offset, snapshot) = match param("continue") {
        Some(token) => {
            if param("resourceVersion").is_some_and(|rv| rv != "0") {
                return Err(Failure::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            continued(state, token)?
        }
        None => {
            let rv = list_resource_version(
                state,
                param("resourceVersion"),
                param("resourceVersionMatch"),
            )?;
            let items = selected(state, rv, kind, namespace, &selector);
            (rv, items, 0, None)
        }
    };
    let at = Position {
        rv,
        offset,
        limit,
        snapshot,
    };
    Ok((StatusCode::OK, page(state, kind, items, at, &selector)))
}

/// The objects a fresh list at resource version `rv` selects, in key order.
fn selected(
    state: &State,
    rv: u64,
    kind: Kind,
    namespace: Option<&str>,
    selector: &Selector,
) -> Vec<Value> {
    objects_at(state, rv)
        .into_iter()
        .filter(|(k, v)| {
            k.kind == kind && namespace.is_none_or(|ns| k.namespace == ns) && selector.matches(v)
        })
        .map(|(_, v)| v)
        .collect()
}

/// The resource version a fresh list is served at.
fn list_resource_version(
    state: &State,
    rv: Option<&str>,
    exact: Option<&str>,
) -> Result<u64, Failure> {
    let requested = match rv {
        None => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| Failure::bad_request(format!("invalid resource version {rv:?}")))?,
        ),
    };
    match (exact, requested) {
        (None | Some("NotOlderThan"), _) => Ok(state.rv),
        (Some("Exact"), Some(rv)) if rv != 0 => {
            if rv < state.compacted {
                Err(too_old(rv, state.compacted))
            } else if rv > state.rv {
                Err(Failure::bad_request(format!(
                    "Too large resource version: {rv}, current: {}",
                    state.rv
                )))
            } else {
                Ok(rv)
            }
        }
        (Some(other), _) => Err(Failure::bad_request(format!(
            "resourceVersionMatch {other:?} needs a resourceVersion it can apply to"
        ))),
    }
}

/// The `410 Expired` of a resource version older than the compaction.
pub fn too_old(rv: u64, compacted: u64) -> Failure {
    Failure::expired(format!("too old resource version: {rv} ({compacted})"))
}

/// Every object as it was at resource version `rv` (not older than the compaction), rebuilt
/// by undoing the history after it.
fn objects_at(state: &State, rv: u64) -> BTreeMap<Key, Value> {
    let mut objects = state.objects.clone();
    for change in state.history.iter().rev().take_while(|c| c.rv > rv) {
        let Some(key) = Key::of(change.kind, &change.object) else {
            continue;
        };
        match &change.prev {
            Some(prev) => objects.insert(key, prev.clone()),
            None => objects.remove(&key),
        };
    }
    objects
}

/// A `continue` token: which snapshot, from which position.
#[derive(serde::Serialize, serde::Deserialize)]
struct Token {
    v: String,
    rv: u64,
    snapshot: u64,
    start: usize,
}

type Continued = (u64, Vec<Value>, usize, Option<u64>);

fn continued(state: &State, token: &str) -> Result<Continued, Failure> {
    let invalid = |why: &str| Failure::bad_request(format!("continue key is not valid: {why}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid("not base64"))?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| invalid("not a token"))?;
    let Some(snapshot) = state.snapshots.get(&token.snapshot) else {
        return Err(Failure::expired(
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter, or use the continue \
             token in this response to retrieve the remainder of the results. Continuing with \
             the provided token results in an inconsistent list - objects that were created, \
             modified, or deleted between the time the first chunk was returned and now may \
             show up in the list.",
        ));
    };
    Ok((
        snapshot.rv,
        snapshot.items.clone(),
        token.start,
        Some(token.snapshot),
    ))
}

/// Where a page starts: the list's resource version, the first item, how many (0: all), and
/// the snapshot it continues.
struct Position {
    rv: u64,
    offset: usize,
    limit: usize,
    snapshot: Option<u64>,
}

/// The list answer: `items[offset..offset+limit]`, with a `continue` token when more remain.
fn page(
    state: &mut State,
    kind: Kind,
    items: Vec<Value>,
    at: Position,
    selector: &Selector,
) -> Value {
    let Position {
        rv,
        offset,
        limit,
        snapshot,
    } = at;
    let end = if limit == 0 {
        items.len()
    } else {
        (offset + limit).min(items.len())
    };
    let page: Vec<Value> = items.get(offset..end).unwrap_or_default().to_vec();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if end < items.len() {
        let remaining = items.len() - end;
        let id = snapshot.unwrap_or_else(|| {
            let id = state.next_snapshot;
            state.next_snapshot += 1;
            state.snapshots.insert(id, Snapshot { rv, items });
            id
        });
        let token = Token {
            v: "meta.k8s.io/v1".to_owned(),
            rv,
            snapshot: id,
            start: end,
        };
        let token = serde_json::to_vec(&token).expect("a token serializes");
        metadata["continue"] = json!(URL_SAFE_NO_PAD.encode(token));
        if selector.is_empty() {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    json!({
        "apiVersion": kind.api_version(),
        "kind": kind.list_kind(),
        "metadata": metadata,
        "items": page,
    })
}
