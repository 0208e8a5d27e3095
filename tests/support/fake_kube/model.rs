//! The fake's storage: objects by kind, namespace and name, one global resource version as
//! etcd keeps it, the history of changes that watches replay, and what the test asserts on
//! (request log, patches, conformance violations).
//!
//! Every write goes through [`State::store`], [`State::begin_deletion`] or [`State::remove`],
//! which fill in server-owned metadata and record the change exactly once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::kind::Kind;
use crate::support::fake_server::Conformance;

/// How many notices an open watch may fall behind before it is closed, as the API server
/// closes the watches of slow clients.
const WATCH_BACKLOG: usize = 4096;

/// A watch event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The `type` field of a watch event.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change to one object, as the watch history keeps it.
#[derive(Debug)]
pub struct Change {
    /// The resource version the change made.
    pub rv: u64,
    pub kind: Kind,
    pub event: EventType,
    /// The new state; for a deletion, the last state with the deletion's resource version.
    pub object: Value,
    /// The state before a modification or deletion (for selectors that stop or start
    /// matching, and for lists at an older resource version).
    pub prev: Option<Value>,
}

/// What open watches are told, in resource-version order.
#[derive(Clone, Debug)]
pub enum Notice {
    Change(Arc<Change>),
    /// Every change up to this resource version has been sent.
    Bookmark(u64),
    /// End every open watch cleanly, as a timeout does.
    End,
    /// End every open watch abruptly.
    Drop,
}

/// Where an object is stored.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl Key {
    /// The key of `object` (its `metadata.namespace` and `metadata.name`).
    pub fn of(kind: Kind, object: &Value) -> Option<Self> {
        let metadata = &object["metadata"];
        Some(Self {
            kind,
            namespace: metadata["namespace"].as_str()?.to_owned(),
            name: metadata["name"].as_str()?.to_owned(),
        })
    }
}

/// A list result kept for its `continue` token: later pages come from the same snapshot, as
/// the API server serves them from the first page's resource version.
#[derive(Debug)]
pub struct Snapshot {
    pub rv: u64,
    pub items: Vec<Value>,
}

/// One request answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `PATCH`...
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// The HTTP status answered (200 for a watch, whatever it streamed).
    pub status: u16,
}

impl RequestRecord {
    /// The value of query parameter `name`, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.path.split_once('?')?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Whether this was a watch (`watch=true` or `watch=1`).
    pub fn is_watch(&self) -> bool {
        self.query("watch").is_some_and(|w| w == "true" || w == "1")
    }
}

/// One PATCH of an ApplicationSet, as received.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchRecord {
    pub namespace: String,
    pub name: String,
    /// `application/merge-patch+json`, `application/json-patch+json`...
    pub content_type: String,
    /// The patch document.
    pub patch: Value,
    /// The HTTP status answered.
    pub status: u16,
    /// When the request arrived (its body read, before anything was checked or stored): for
    /// benchmarks timing what reaches the API server.
    pub arrived: Instant,
}

/// Everything the fake knows, behind one mutex.
pub struct State {
    /// The global resource version: the last change made.
    pub rv: u64,
    /// Watches from before this resource version get `410 Expired`.
    pub compacted: u64,
    pub objects: BTreeMap<Key, Value>,
    pub history: Vec<Arc<Change>>,
    pub snapshots: HashMap<u64, Snapshot>,
    pub next_snapshot: u64,
    pub notices: broadcast::Sender<Notice>,
    pub log: Vec<RequestRecord>,
    pub patches: Vec<PatchRecord>,
    pub violations: Vec<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            rv: 1,
            compacted: 0,
            objects: BTreeMap::new(),
            history: Vec::new(),
            snapshots: HashMap::new(),
            next_snapshot: 1,
            notices: broadcast::channel(WATCH_BACKLOG).0,
            log: Vec::new(),
            patches: Vec::new(),
            violations: Vec::new(),
        }
    }
}

impl Conformance for State {
    const NAME: &'static str = "fake Kubernetes";
    const BROKEN: &'static str = "received non-conformant requests";

    fn violations(&mut self) -> &mut Vec<String> {
        &mut self.violations
    }
}

/// Now, as the API server writes timestamps (RFC 3339, seconds, `Z`).
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl State {
    /// Stores `object` (create or replace; the caller has checked it), filling in what the
    /// server owns: `apiVersion`, `kind`, `uid`, `creationTimestamp`, `resourceVersion`,
    /// `generation` and a pending deletion. A write that changes nothing keeps the resource
    /// version and records no event; one that removes the last finalizer of an object being
    /// deleted deletes it. Returns the stored object.
    pub fn store(&mut self, kind: Kind, mut object: Value) -> Value {
        let key = Key::of(kind, &object).expect("an object to store has a namespace and name");
        let old = self.objects.get(&key).cloned();
        fill_metadata(kind, &mut object, old.as_ref());
        if let Some(old) = old {
            if is_deleting(&object) && finalizers(&object).is_empty() {
                return self.remove(&key).unwrap_or(old);
            }
            if without_rv(&old) == without_rv(&object) {
                return old;
            }
            return self.commit(key, object, Some(old));
        }
        self.commit(key, object, None)
    }

    /// Marks the object as being deleted, as a DELETE does: with finalizers, it gets a
    /// `deletionTimestamp` (and a new generation) and stays; without, it is removed. Returns
    /// the object as it now is (or was, when removed); `None` when missing.
    pub fn begin_deletion(&mut self, key: &Key) -> Option<Value> {
        let old = self.objects.get(key)?.clone();
        if is_deleting(&old) {
            return Some(old);
        }
        if finalizers(&old).is_empty() {
            return self.remove(key);
        }
        let mut object = old.clone();
        object["metadata"]["deletionTimestamp"] = json!(now());
        object["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        if let Some(generation) = old["metadata"]["generation"].as_i64() {
            object["metadata"]["generation"] = json!(generation + 1);
        }
        Some(self.commit(key.clone(), object, Some(old)))
    }

    /// Removes the object now (finalizers or not). Returns its last state, with the
    /// deletion's resource version, as a DELETED event carries it.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let prev = self.objects.remove(key)?;
        self.rv += 1;
        let mut object = prev.clone();
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record_change(key.kind, EventType::Deleted, object.clone(), Some(prev));
        Some(object)
    }

    fn commit(&mut self, key: Key, mut object: Value, prev: Option<Value>) -> Value {
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(key.clone(), object.clone());
        let event = match prev {
            Some(_) => EventType::Modified,
            None => EventType::Added,
        };
        self.record_change(key.kind, event, object.clone(), prev);
        object
    }

    fn record_change(&mut self, kind: Kind, event: EventType, object: Value, prev: Option<Value>) {
        let change = Arc::new(Change {
            rv: self.rv,
            kind,
            event,
            object,
            prev,
        });
        self.history.push(Arc::clone(&change));
        // An error only means that no watch is open.
        let _ = self.notices.send(Notice::Change(change));
    }

    /// Forgets the history and every list snapshot, as etcd compaction does.
    pub fn compact(&mut self) {
        self.history.clear();
        self.snapshots.clear();
        self.compacted = self.rv;
    }

    /// Tells every open watch that asked for bookmarks that it is up to date.
    pub fn bookmark(&self) {
        let _ = self.notices.send(Notice::Bookmark(self.rv));
    }

    /// Ends every open watch cleanly.
    pub fn end_watches(&self) {
        let _ = self.notices.send(Notice::End);
    }

    /// Ends every open watch abruptly.
    pub fn drop_watches(&self) {
        let _ = self.notices.send(Notice::Drop);
    }

    /// The only object of `kind` named `name`, in any namespace. Panics when there are
    /// none or several: hooks name objects unambiguously.
    pub fn key_by_name(&self, kind: Kind, name: &str) -> Key {
        let mut found = self
            .objects
            .keys()
            .filter(|k| k.kind == kind && k.name == name);
        let key = found
            .next()
            .unwrap_or_else(|| panic!("fake Kubernetes: no {} named {name}", kind.name()));
        assert!(
            found.next().is_none(),
            "fake Kubernetes: several {}s named {name}",
            kind.name()
        );
        key.clone()
    }
}

/// Sets the fields the server owns, keeping those of `old` that the client cannot change.
fn fill_metadata(kind: Kind, object: &mut Value, old: Option<&Value>) {
    object["apiVersion"] = json!(kind.api_version());
    object["kind"] = json!(kind.name());
    let kept = |field: &str, fresh: Value| old.map_or(fresh, |o| o["metadata"][field].clone());
    let uid = kept("uid", json!(uid()));
    let created = kept("creationTimestamp", json!(now()));
    let deletion = kept("deletionTimestamp", Value::Null);
    let grace = kept("deletionGracePeriodSeconds", Value::Null);
    let generation = kind.has_generation().then(|| match old {
        None => 1,
        Some(old) => {
            let before = old["metadata"]["generation"].as_i64().unwrap_or(1);
            before + i64::from(spec_changed(kind, old, object))
        }
    });
    let metadata = object["metadata"]
        .as_object_mut()
        .expect("an object to store has metadata");
    metadata.insert("uid".into(), uid);
    metadata.insert("creationTimestamp".into(), created);
    metadata.insert("resourceVersion".into(), json!("0"));
    for (field, value) in [
        ("deletionTimestamp", deletion),
        ("deletionGracePeriodSeconds", grace),
    ] {
        match value {
            Value::Null => metadata.remove(field),
            value => metadata.insert(field.into(), value),
        };
    }
    match generation {
        Some(generation) => metadata.insert("generation".into(), json!(generation)),
        None => metadata.remove("generation"),
    };
}

/// Whether a write changes what bumps `generation`: everything but metadata, and but status
/// when the kind has a status subresource.
fn spec_changed(kind: Kind, old: &Value, new: &Value) -> bool {
    let content = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("metadata");
            if kind.has_status_subresource() {
                map.remove("status");
            }
        }
        v
    };
    content(old) != content(new)
}

fn without_rv(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object["metadata"].as_object_mut() {
        metadata.remove("resourceVersion");
    }
    object
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(object: &Value) -> bool {
    object["metadata"]["deletionTimestamp"].is_string()
}

fn finalizers(object: &Value) -> Vec<Value> {
    object["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A random version 4 UUID, as `metadata.uid` is.
fn uid() -> String {
    let bits: u128 = rand::random();
    let hex = format!(
        "{:032x}",
        (bits & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
