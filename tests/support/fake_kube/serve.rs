//! The fake's HTTP side: one handler that routes `/apis/{group}/{version}/...` paths to the
//! kinds served, answers failures as `Status` objects, and logs every request.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State as Extracted;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::failure::Failure;
use super::kind::Kind;
use super::model::{Key, RequestRecord, State};
use super::{read, watch, write};
use crate::support::fake_server::{Stateful, lock};

/// What the server and the test share.
pub struct Shared {
    pub state: Mutex<State>,
    /// Watches open right now.
    pub open_watches: AtomicUsize,
    /// While `true`, new watch requests wait unanswered (see `FakeKube::hold_watches`).
    pub hold: tokio::sync::watch::Sender<bool>,
    /// Watch requests waiting right now.
    pub held_watches: AtomicUsize,
    /// Cancelled when the fake drops: every open watch ends.
    pub shutdown: CancellationToken,
}

impl Shared {
    /// The state, locked (a test that panicked while holding it leaves it usable).
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

impl Stateful for Shared {
    type State = State;

    fn state_lock(&self) -> &Mutex<State> {
        &self.state
    }
}

/// What a path names.
enum Target {
    /// `.../namespaces/{ns}/{plural}`, or `/{plural}` across namespaces.
    Collection {
        kind: Kind,
        namespace: Option<String>,
    },
    /// `.../namespaces/{ns}/{plural}/{name}`.
    Item(Key),
}

fn route(path: &str) -> Option<Target> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["apis", group, version, plural] => Some(Target::Collection {
            kind: Kind::resolve(group, version, plural)?,
            namespace: None,
        }),
        ["apis", group, version, "namespaces", ns, plural] => Some(Target::Collection {
            kind: Kind::resolve(group, version, plural)?,
            namespace: Some((*ns).to_owned()),
        }),
        ["apis", group, version, "namespaces", ns, plural, name] => Some(Target::Item(Key {
            kind: Kind::resolve(group, version, plural)?,
            namespace: (*ns).to_owned(),
            name: (*name).to_owned(),
        })),
        _ => None,
    }
}

/// The one handler: every request goes through here.
pub async fn handle(
    Extracted(shared): Extracted<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let response = match route(uri.path()) {
        None => Err(Failure::no_such_resource()),
        Some(target) => {
            if method == Method::GET && watching(&query) {
                watch::wait_while_held(&shared).await;
            }
            dispatch(
                &shared,
                &method,
                target,
                &query,
                content_type,
                &body,
                arrived,
            )
        }
    };
    let response = response.unwrap_or_else(|failure| {
        (failure.status_code(), json_body(&failure.to_json())).into_response()
    });
    shared.state().log.push(RequestRecord {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |p| p.to_string()),
        status: response.status().as_u16(),
    });
    response
}

fn dispatch(
    shared: &Arc<Shared>,
    method: &Method,
    target: Target,
    query: &HashMap<String, String>,
    content_type: &str,
    body: &[u8],
    arrived: Instant,
) -> Result<Response, Failure> {
    let watching = watching(query);
    let mut state = shared.state();
    let (status, value) = match (method.as_str(), target) {
        ("GET", Target::Collection { kind, namespace }) if watching => {
            drop(state);
            return watch::start(shared, kind, namespace.as_deref(), query);
        }
        ("GET", Target::Collection { kind, namespace }) => {
            read::list(&mut state, kind, namespace.as_deref(), query)?
        }
        (
            "POST",
            Target::Collection {
                kind,
                namespace: Some(namespace),
            },
        ) => write::create(&mut state, kind, &namespace, body)?,
        ("GET", Target::Item(key)) => read::get(&state, &key)?,
        ("PUT", Target::Item(key)) => write::replace(&mut state, &key, body)?,
        ("PATCH", Target::Item(key)) => {
            write::patch(&mut state, &key, content_type, query, body, arrived)?
        }
        ("DELETE", Target::Item(key)) => write::delete(&mut state, &key, body)?,
        _ => return Err(Failure::method_not_allowed()),
    };
    Ok(answer(status, &value))
}

/// Whether the request asks for a watch (`?watch=true`).
fn watching(query: &HashMap<String, String>) -> bool {
    query.get("watch").is_some_and(|w| w == "true" || w == "1")
}

fn answer(status: StatusCode, value: &Value) -> Response {
    (status, json_body(value)).into_response()
}

fn json_body(value: &Value) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
}
