//! A stateful fake of the Kubernetes API server that speaks real HTTP on `127.0.0.1:0`, for
//! testing kube-rs code (`kube::Api`, `kube::runtime::watcher`) without a cluster.
//!
//! It serves three kinds under their real paths: Argo CD `Application`s and
//! `ApplicationSet`s (`argoproj.io/v1alpha1`) and `Lease`s (`coordination.k8s.io/v1`), each
//! with get, list, watch, create, replace, patch and delete as the API server answers them:
//! one global `resourceVersion`, server-filled metadata (`uid`, `creationTimestamp`,
//! `generation`), label and field selectors, `limit`/`continue` pages from a consistent
//! snapshot, watches that replay history from a resource version then stream live changes
//! (with BOOKMARKs, `410 Expired` after [`FakeKube::compact`], `timeoutSeconds`), 409 on a
//! stale `resourceVersion`, finalizers holding a deleted object, and `Status` objects for
//! every failure. Other paths answer a 404 `Status`, other verbs a 405.
//!
//! Everything stored is checked as the server checks it: custom resources against their CRD's
//! `openAPIV3Schema` from the conformance directory, leases by decoding them as
//! `k8s_openapi` `Lease`s. A hook given an invalid object panics at once; a client that sends
//! one gets the server's 4xx, and the test fails when the fake drops (see
//! [`FakeKube::take_violations`] for tests that send one on purpose).
//!
//! ```ignore
//! let kube = FakeKube::start().await;
//! kube.put_application(application("web-pr-7", &[("preview-tower.io/preview", "true")]));
//! kube.patch_status("web-pr-7", status("Synced", &sha, "Healthy", Some("Succeeded"), None));
//! let apps: Api<DynamicObject> = Api::namespaced_with(kube.client(), "argocd", &app_resource());
//! kube.drop_watches(); // the watcher reconnects from its last resourceVersion
//! kube.hold_watches(); // new watches wait until `release_watches`, so that changes made
//! kube.drop_watches(); // meanwhile come from the history (or a 410 after `compact`)
//! kube.release_watches();
//! ```
//!
//! Known differences: unknown fields are kept (the server prunes them), `managedFields` are
//! not written, and server-side apply is a merge patch.

mod builders;
mod failure;
mod kind;
mod model;
mod read;
mod selector;
mod serve;
mod validate;
mod watch;
mod write;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use url::Url;

pub use builders::{
    ARGOCD_NAMESPACE, RESOURCES_FINALIZER, application, applicationset, status, with_external_urls,
};
use kind::Kind;
use model::{Key, State};
pub use model::{PatchRecord, RequestRecord};
use serve::Shared;

use super::fake_server::FakeServer;

/// How often open watches that asked for them get a BOOKMARK unprompted (the API server sends
/// one about every minute); [`FakeKube::bookmark`] sends one now.
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

/// The fake server. Dropping it stops the server, ends every open watch, and panics if a
/// client sent something the server refuses as malformed or invalid.
pub struct FakeKube {
    server: FakeServer<Shared>,
    url: Url,
}

impl FakeKube {
    /// Starts a server on a free local port, in the current Tokio runtime.
    pub async fn start() -> Self {
        let routes = axum::Router::new().fallback(serve::handle);
        let mut server = FakeServer::start(routes, |_| Shared {
            state: Mutex::new(State::default()),
            open_watches: AtomicUsize::new(0),
            hold: tokio::sync::watch::Sender::new(false),
            held_watches: AtomicUsize::new(0),
            shutdown: CancellationToken::new(),
        })
        .await;
        let ticking = Arc::clone(server.shared());
        server.spawn(async move {
            let mut every = tokio::time::interval(BOOKMARK_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                ticking.state().bookmark();
            }
        });
        let url = Url::parse(&format!("http://{}", server.addr())).expect("base URL");
        Self { server, url }
    }

    /// The API server goes away: new connections are closed at once, until
    /// [`FakeKube::go_online`]. (Open watches stay: see [`FakeKube::drop_watches`].)
    pub fn go_offline(&self) {
        self.server.go_offline();
    }

    /// The API server answers again.
    pub fn go_online(&self) {
        self.server.go_online();
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        self.server.with(f)
    }

    /// What the handlers share.
    fn shared(&self) -> &Shared {
        self.server.shared()
    }

    /// The API server URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// A kube client for the fake, over plain HTTP, with `argocd` as its default namespace.
    pub fn client(&self) -> kube::Client {
        // An error means a provider is already installed, which is all we need.
        preview_tower::tls::install_crypto_provider();
        let uri: http::Uri = self
            .url
            .as_str()
            .trim_end_matches('/')
            .parse()
            .expect("the fake's URL is a URI");
        let mut config = kube::Config::new(uri);
        config.default_namespace = ARGOCD_NAMESPACE.to_owned();
        kube::Client::try_from(config).expect("a kube client for the fake")
    }

    /// A kubeconfig for the fake (plain HTTP, a bearer token it ignores, `argocd` as the
    /// default namespace), for a process that finds its cluster through `KUBECONFIG` as
    /// `kube::Client::try_default` does.
    pub fn kubeconfig(&self) -> String {
        let server = self.url.as_str().trim_end_matches('/');
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {server}\n\
             users:\n- name: fake\n  user:\n    token: fake-kube-token\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: {ARGOCD_NAMESPACE}\n\
             current-context: fake\n"
        )
    }

    /// Stores a valid object of `kind` as a client's create or replace would (namespace
    /// `argocd` when it has none); panics with the server's refusal when invalid.
    fn put_checked(&self, kind: Kind, mut value: Value) -> Value {
        if value["metadata"]["namespace"].as_str().is_none() {
            value["metadata"]["namespace"] = json!(ARGOCD_NAMESPACE);
        }
        if let Err(failure) = validate::check(kind, &value) {
            panic!(
                "fake Kubernetes: the test stores an invalid {}: {}",
                kind.name(),
                failure.message
            );
        }
        self.with(|s| s.store(kind, value))
    }

    /// Changes the only Application named `name`, then stores it checked.
    fn edit_application(&self, name: &str, edit: impl FnOnce(&mut Value)) -> Value {
        let mut object = self.with(|s| {
            let key = s.key_by_name(Kind::Application, name);
            s.objects[&key].clone()
        });
        edit(&mut object);
        self.put_checked(Kind::Application, object)
    }

    /// Creates or replaces an Application (by namespace and name; `argocd` when it has no
    /// namespace): ADDED or MODIFIED, a new resource version. Server-owned metadata is
    /// filled in. Panics if it breaks the CRD schema. Returns it as stored.
    pub fn put_application(&self, value: Value) -> Value {
        self.put_checked(Kind::Application, value)
    }

    /// Like [`FakeKube::put_application`], without any check: for "one odd object must not
    /// stop the watch" tests (`status.health.status: 42`). It still needs a name.
    pub fn put_malformed_application(&self, mut value: Value) -> Value {
        if value["metadata"]["namespace"].as_str().is_none() {
            value["metadata"]["namespace"] = json!(ARGOCD_NAMESPACE);
        }
        self.with(|s| s.store(Kind::Application, value))
    }

    /// Merges `status` (RFC 7386) into the `.status` of the Application named `name`:
    /// MODIFIED. Panics when there is no such Application or the result is invalid.
    pub fn patch_status(&self, name: &str, status: Value) -> Value {
        self.edit_application(name, |object| {
            json_patch::merge(&mut object["status"], &status);
        })
    }

    /// Deletes the Application named `name` as `kubectl delete` does: with finalizers (the
    /// builder's has Argo CD's) it gets a `deletionTimestamp` and a new generation and stays
    /// (MODIFIED); without, it is removed (DELETED). Returns it as it now is.
    pub fn mark_deleting(&self, name: &str) -> Value {
        self.with(|s| {
            let key = s.key_by_name(Kind::Application, name);
            s.begin_deletion(&key).expect("the Application exists")
        })
    }

    /// Removes the Application named `name` whatever its finalizers (as when Argo CD has
    /// finished deleting its resources): DELETED. Returns its last state.
    pub fn delete_application(&self, name: &str) -> Value {
        self.with(|s| {
            let key = s.key_by_name(Kind::Application, name);
            s.remove(&key).expect("the Application exists")
        })
    }

    /// The Application named `name`, as stored.
    pub fn application(&self, name: &str) -> Option<Value> {
        self.object(Kind::Application, name)
    }

    /// Every Application, in namespace and name order.
    pub fn applications(&self) -> Vec<Value> {
        self.with(|s| {
            s.objects
                .iter()
                .filter(|(k, _)| k.kind == Kind::Application)
                .map(|(_, v)| v.clone())
                .collect()
        })
    }

    /// Creates or replaces an ApplicationSet (as [`FakeKube::put_application`] does).
    pub fn put_applicationset(&self, value: Value) -> Value {
        self.put_checked(Kind::ApplicationSet, value)
    }

    /// The ApplicationSet named `name`, as stored.
    pub fn applicationset(&self, name: &str) -> Option<Value> {
        self.object(Kind::ApplicationSet, name)
    }

    /// Every PATCH of an ApplicationSet received, in order, whatever it was answered.
    pub fn applicationset_patches(&self) -> Vec<PatchRecord> {
        self.with(|s| s.patches.clone())
    }

    fn object(&self, kind: Kind, name: &str) -> Option<Value> {
        self.with(|s| {
            s.objects
                .iter()
                .find(|(k, _)| k.kind == kind && k.name == name)
                .map(|(_, v)| v.clone())
        })
    }

    /// Creates or replaces a Lease (another holder, say). Returns it as stored.
    pub fn put_lease(&self, lease: &Lease) -> Lease {
        let value = serde_json::to_value(lease).expect("a Lease serializes");
        let stored = self.put_checked(Kind::Lease, value);
        serde_json::from_value(stored).expect("a stored Lease decodes")
    }

    /// The Lease `namespace/name`, as stored.
    pub fn lease(&self, namespace: &str, name: &str) -> Option<Lease> {
        let key = Key {
            kind: Kind::Lease,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        let value = self.with(|s| s.objects.get(&key).cloned())?;
        Some(serde_json::from_value(value).expect("a stored Lease decodes"))
    }

    /// The current global resource version (the last change's).
    pub fn resource_version(&self) -> u64 {
        self.with(|s| s.rv)
    }

    /// Ends every open watch abruptly (mid-body, no final chunk), as a lost connection or an
    /// API server restart does. Clients reconnect from their last resource version.
    pub fn drop_watches(&self) {
        self.with(|s| s.drop_watches());
    }

    /// Ends every open watch cleanly (the final chunk sent), as the server does when
    /// `timeoutSeconds` has passed. Clients reconnect from their last resource version, which
    /// is that of the last BOOKMARK when one came after the last event.
    pub fn end_watches(&self) {
        self.with(|s| s.end_watches());
    }

    /// Forgets the change history (as etcd compaction does): a watch from an older resource
    /// version then gets an ERROR event with `410 Expired`, and so does a `continue` token.
    pub fn compact(&self) {
        self.with(State::compact);
    }

    /// Sends a BOOKMARK at the current resource version to every open watch that asked for
    /// bookmarks.
    pub fn bookmark(&self) {
        self.with(|s| s.bookmark());
    }

    /// How many watches are open right now.
    pub fn open_watches(&self) -> usize {
        self.shared().open_watches.load(Ordering::SeqCst)
    }

    /// Waits (up to 10 s, then panics) until at least `n` watches are open.
    pub async fn wait_for_watches(&self, n: usize) {
        wait_until(n, "watch(es) open", || self.open_watches()).await;
    }

    /// From now on, new watch requests wait unanswered (open watches go on) until
    /// [`FakeKube::release_watches`]: a client whose watch was cut cannot resume until the
    /// test has made its changes. For tests whose client runs beside them (a multi-thread
    /// runtime), where "no `.await` in between" orders nothing: kube-rs resumes a cut watch
    /// at once, without a backoff.
    pub fn hold_watches(&self) {
        self.shared().hold.send_replace(true);
    }

    /// Answers the held watch requests, and new ones as they come.
    pub fn release_watches(&self) {
        self.shared().hold.send_replace(false);
    }

    /// How many watch requests are held right now (see [`FakeKube::hold_watches`]).
    pub fn held_watches(&self) -> usize {
        self.shared().held_watches.load(Ordering::SeqCst)
    }

    /// Waits (up to 10 s, then panics) until at least `n` watch requests are held.
    pub async fn wait_for_held_watches(&self, n: usize) {
        wait_until(n, "watch request(s) held", || self.held_watches()).await;
    }

    /// Every request answered so far, in order (a watch is logged when it starts).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.with(|s| s.log.clone())
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.with(|s| s.log.clear());
    }

    /// What clients sent that the server refused as malformed or invalid, so far.
    pub fn violations(&self) -> Vec<String> {
        self.server.violations()
    }

    /// Like [`FakeKube::violations`], and forgets them: for tests that send bad requests on
    /// purpose.
    pub fn take_violations(&self) -> Vec<String> {
        self.server.take_violations()
    }

    /// Panics when a client sent something the server refuses as malformed or invalid.
    pub fn assert_conformant(&self) {
        self.server.assert_conformant();
    }
}

/// Waits (up to 10 s, then panics) until `count` is at least `n`.
async fn wait_until(n: usize, what: &str, count: impl Fn() -> usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "fake Kubernetes: {} {what}, waited for {n}",
            count()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl Drop for FakeKube {
    /// Ends every open watch; the server then stops, and checks what it received.
    fn drop(&mut self) {
        self.shared().shutdown.cancel();
    }
}
