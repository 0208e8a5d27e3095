//! `GET ...?watch=true`: a chunked stream of newline-delimited `{"type", "object"}` events,
//! as the API server streams them.
//!
//! From `resourceVersion=N` the stream replays the history after N, then follows live
//! changes; from `""` or `"0"` (or with `sendInitialEvents=true`) it starts with a synthetic
//! ADDED per current object. N older than the compaction gets one ERROR event carrying a
//! `410 Expired` `Status`, then the end of the stream (HTTP 200 all along, as the server's
//! watch cache does). Selectors apply per event: an object that stops matching is DELETED for
//! the watch, one that starts matching is ADDED. BOOKMARKs go only to watches that asked with
//! `allowWatchBookmarks=true`. `timeoutSeconds` ends the stream cleanly; a dropped watch
//! ends it abruptly, mid-body.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::failure::Failure;
use super::kind::Kind;
use super::model::{Change, EventType, Notice, State};
use super::read::too_old;
use super::selector::Selector;
use super::serve::Shared;

/// The API server's default when the client names no timeout (its minimum request timeout).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Which objects a watch sees.
struct Filter {
    kind: Kind,
    namespace: Option<String>,
    selector: Selector,
}

impl Filter {
    fn selects(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| object["metadata"]["namespace"] == ns)
            && self.selector.matches(object)
    }

    /// The event this watch sees for `change`, if any.
    fn view(&self, change: &Change) -> Option<(EventType, Value)> {
        if change.kind != self.kind {
            return None;
        }
        let now = self.selects(&change.object);
        if change.event != EventType::Modified {
            return now.then(|| (change.event, change.object.clone()));
        }
        let before = change.prev.as_ref().is_some_and(|p| self.selects(p));
        match (before, now) {
            (true, true) => Some((EventType::Modified, change.object.clone())),
            (false, true) => Some((EventType::Added, change.object.clone())),
            (true, false) => {
                let mut gone = change.prev.clone()?;
                gone["metadata"]["resourceVersion"] = json!(change.rv.to_string());
                Some((EventType::Deleted, gone))
            }
            (false, false) => None,
        }
    }
}

/// Counts an open watch for as long as it lives.
struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open_watches.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a held watch request for as long as it waits.
struct Held<'a>(&'a AtomicUsize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Returns once new watches are no longer held (see `FakeKube::hold_watches`), or the fake
/// drops; a request waiting here is counted in `held_watches`.
pub async fn wait_while_held(shared: &Shared) {
    let mut hold = shared.hold.subscribe();
    if !*hold.borrow_and_update() {
        return;
    }
    shared.held_watches.fetch_add(1, Ordering::SeqCst);
    let _held = Held(&shared.held_watches);
    tokio::select! {
        _ = hold.wait_for(|held| !*held) => {}
        () = shared.shutdown.cancelled() => {}
    }
}

/// One open watch: lines to send, then notices to turn into lines.
struct Watch {
    pending: VecDeque<Bytes>,
    notices: broadcast::Receiver<Notice>,
    filter: Filter,
    bookmarks: bool,
    deadline: Instant,
    ended: bool,
    open: Open,
}

/// The parameters of a watch request.
struct Params {
    from: Option<u64>,
    bookmarks: bool,
    initial_events: bool,
    timeout: Duration,
}

fn params(query: &HashMap<String, String>) -> Result<Params, Failure> {
    let param = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let flag = |name: &str| param(name).is_some_and(|v| v == "true" || v == "1");
    let from = match param("resourceVersion") {
        None | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| Failure::bad_request(format!("invalid resource version {rv:?}")))?,
        ),
    };
    let initial_events = flag("sendInitialEvents");
    if initial_events
        && (param("resourceVersionMatch") != Some("NotOlderThan") || !flag("allowWatchBookmarks"))
    {
        return Err(Failure::bad_request(
            "sendInitialEvents is forbidden for watch unless resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true",
        ));
    }
    let timeout = match param("timeoutSeconds") {
        None => DEFAULT_TIMEOUT,
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| Failure::bad_request(format!("invalid timeoutSeconds {t:?}")))?,
        ),
    };
    Ok(Params {
        from,
        bookmarks: flag("allowWatchBookmarks"),
        initial_events,
        timeout,
    })
}

/// Starts a watch of `kind` in `namespace` (every namespace when `None`).
pub fn start(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
) -> Result<Response, Failure> {
    let param = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let selector = Selector::parse(param("labelSelector"), param("fieldSelector"))
        .map_err(Failure::bad_request)?;
    let params = params(query)?;
    let filter = Filter {
        kind,
        namespace: namespace.map(str::to_owned),
        selector,
    };
    shared.open_watches.fetch_add(1, Ordering::SeqCst);
    let open = Open(Arc::clone(shared));
    let watch = {
        // Subscribing under the lock that writers hold: nothing falls between the replay and
        // the live notices.
        let state = shared.state();
        let notices = state.notices.subscribe();
        let (pending, ended) = first_lines(&state, &filter, &params);
        Watch {
            pending,
            notices,
            filter,
            bookmarks: params.bookmarks,
            deadline: Instant::now() + params.timeout,
            ended,
            open,
        }
    };
    let stream = futures::stream::unfold(watch, Watch::next);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// What the stream starts with, and whether that is all.
fn first_lines(state: &State, filter: &Filter, params: &Params) -> (VecDeque<Bytes>, bool) {
    let mut lines = VecDeque::new();
    match params.from {
        Some(rv) if rv < state.compacted && !params.initial_events => {
            let status = too_old(rv, state.compacted).to_json();
            lines.push_back(line("ERROR", &status));
            return (lines, true);
        }
        Some(rv) if !params.initial_events => {
            for change in state.history.iter().filter(|c| c.rv > rv) {
                if let Some((event, object)) = filter.view(change) {
                    lines.push_back(line(event.as_str(), &object));
                }
            }
        }
        _ => {
            let current = state
                .objects
                .iter()
                .filter(|(k, v)| k.kind == filter.kind && filter.selects(v));
            for (_, object) in current {
                lines.push_back(line("ADDED", object));
            }
            if params.initial_events {
                let mut mark = bookmark(filter.kind, state.rv);
                mark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
                lines.push_back(line("BOOKMARK", &mark));
            }
        }
    }
    (lines, false)
}

impl Watch {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some((Ok(line), self));
            }
            if self.ended {
                return None;
            }
            let shutdown = self.open.0.shutdown.clone();
            let notice = tokio::select! {
                biased;
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep_until(self.deadline) => return None,
                notice = self.notices.recv() => notice,
            };
            match notice {
                Ok(Notice::Change(change)) => {
                    if let Some((event, object)) = self.filter.view(&change) {
                        self.pending.push_back(line(event.as_str(), &object));
                    }
                }
                Ok(Notice::Bookmark(rv)) if self.bookmarks => {
                    self.pending
                        .push_back(line("BOOKMARK", &bookmark(self.filter.kind, rv)));
                }
                Ok(Notice::Bookmark(_)) => {}
                Ok(Notice::End) => return None,
                Ok(Notice::Drop) => {
                    self.ended = true;
                    let error = std::io::Error::other("fake Kubernetes dropped the watch");
                    return Some((Err(error), self));
                }
                // Too slow a reader is closed, as the API server closes it.
                Err(_) => return None,
            }
        }
    }
}

/// A BOOKMARK object: only `apiVersion`, `kind` and `metadata.resourceVersion`.
fn bookmark(kind: Kind, rv: u64) -> Value {
    json!({
        "apiVersion": kind.api_version(),
        "kind": kind.name(),
        "metadata": {"resourceVersion": rv.to_string()},
    })
}

/// One event, as one line.
fn line(event: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": event, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}
