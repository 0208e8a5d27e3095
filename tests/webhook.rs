//! The GitHub webhook receiver through the real routes, as GitHub delivers: signed payloads
//! built from the vendor's webhook schemas, forgeries, replays, pings, ignored events, size
//! limits, and the listeners kept apart (the plugin's router never serves the webhook, nor the
//! webhook's the plugin). What is refused before the body is read, and the byte budget, are in
//! `webhook/intake.rs`; the `Collaborators` adapter against the fake GitHub is in
//! `webhook/collaborators.rs`.
#![allow(clippy::unwrap_used)]

#[path = "webhook/collaborators.rs"]
mod collaborators;
#[path = "webhook/comments.rs"]
mod comments;
#[path = "webhook/forgery.rs"]
mod forgery;
#[path = "webhook/intake.rs"]
mod intake;
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tower::ServiceExt;

use preview_tower::github::webhook::WebhookSink;
use preview_tower::github::webhook::{Conclusion, Delivered, Event, PullRequestAction, sign};
use preview_tower::http::webhook::ByteBudget;
use preview_tower::http::{DeliveryLog, WEBHOOK_PATH, WebhookState, webhook_routes};
use preview_tower::metrics::{Metrics, WebhookLabels};
use preview_tower::naming::RepoName;
use support::webhook_payload;

const SECRET: &str = "whsec-0123456789-TOPSECRET";
const REPO: &str = "acme/web";
const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

/// Keeps every event it is given.
#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl WebhookSink for Recorder {
    fn deliver(&self, event: Event) -> Delivered {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
        Delivered::Accepted
    }
}

impl Recorder {
    fn events(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

struct Receiver {
    router: axum::Router,
    sink: Arc<Recorder>,
    deliveries: Arc<DeliveryLog>,
    budget: Arc<ByteBudget>,
    metrics: Arc<Metrics>,
}

impl Receiver {
    fn new() -> Self {
        Self::with_budget(ByteBudget::default())
    }

    fn with_budget(budget: ByteBudget) -> Self {
        let sink = Arc::new(Recorder::default());
        let deliveries = Arc::new(DeliveryLog::default());
        let metrics = Arc::new(Metrics::unregistered());
        let budget = Arc::new(budget);
        let router = webhook_routes(Self::state(&sink, &deliveries, &budget, &metrics));
        Self {
            router,
            sink,
            deliveries,
            budget,
            metrics,
        }
    }

    fn state(
        sink: &Arc<Recorder>,
        deliveries: &Arc<DeliveryLog>,
        budget: &Arc<ByteBudget>,
        metrics: &Arc<Metrics>,
    ) -> WebhookState {
        WebhookState {
            secret: Arc::new(SecretString::from(SECRET)),
            deliveries: Arc::clone(deliveries),
            budget: Arc::clone(budget),
            sink: Arc::clone(sink) as Arc<dyn WebhookSink>,
            metrics: Arc::clone(metrics),
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        call(&self.router, request).await
    }

    fn count(&self, event: &'static str, outcome: &'static str) -> u64 {
        let labels = WebhookLabels { event, outcome };
        self.metrics.webhook.deliveries.get_or_create(&labels).get()
    }
}

async fn call(router: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {bytes:?}"));
    (status, value)
}

/// A fresh GUID-like delivery id.
fn delivery_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "72d3162e-cc78-11e3-81ab-{:012x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A delivery as GitHub sends it: headers, signature over the exact bytes.
fn delivery(event: &str, id: &str, body: Vec<u8>) -> Request<Body> {
    let signature = sign(SECRET.as_bytes(), &body);
    request(event, id, body, Some(&signature))
}

/// A delivery with `signature` as its `X-Hub-Signature-256`, or none.
fn request(event: &str, id: &str, body: Vec<u8>, signature: Option<&str>) -> Request<Body> {
    let mut builder = Request::post(WEBHOOK_PATH)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "GitHub-Hookshot/5a5f0e1")
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .header("x-github-hook-id", "292430182")
        .header("x-github-hook-installation-target-type", "integration");
    if let Some(signature) = signature {
        builder = builder.header("x-hub-signature-256", signature);
    }
    builder.body(Body::from(body)).expect("request")
}

fn repo() -> RepoName {
    REPO.parse().unwrap()
}

/// `pull_request` with `action`, from the vendor schema, about PR #7 of acme/web.
fn pull_request(action: &str) -> Value {
    webhook_payload::build(
        "pull_request",
        action,
        &[
            ("/number", json!(7)),
            ("/pull_request/number", json!(7)),
            ("/repository/full_name", json!(REPO)),
            ("/repository/name", json!("web")),
        ],
    )
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[tokio::test]
async fn every_pull_request_action_that_matters_is_accepted_and_delivered() {
    let receiver = Receiver::new();
    let actions = [
        ("opened", PullRequestAction::Opened),
        ("reopened", PullRequestAction::Reopened),
        ("synchronize", PullRequestAction::Synchronize),
        ("labeled", PullRequestAction::Labeled),
        ("unlabeled", PullRequestAction::Unlabeled),
        ("closed", PullRequestAction::Closed),
        ("ready_for_review", PullRequestAction::ReadyForReview),
        ("converted_to_draft", PullRequestAction::ConvertedToDraft),
        ("edited", PullRequestAction::Edited),
    ];
    for (action, _) in &actions {
        let request = delivery("pull_request", &delivery_id(), bytes(&pull_request(action)));
        let (status, body) = receiver.send(request).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{action}: {body}");
        assert_eq!(body, json!({"status": "accepted"}), "{action}");
    }
    let expected: Vec<Event> = actions
        .into_iter()
        .map(|(_, action)| Event::PullRequest {
            repo: repo(),
            number: 7,
            action,
        })
        .collect();
    assert_eq!(receiver.sink.events(), expected);
    assert_eq!(receiver.count("pull_request", "accepted"), 9);
}

#[tokio::test]
async fn other_and_unknown_actions_and_events_are_ignored() {
    let receiver = Receiver::new();
    // Known to GitHub, of no use to a preview.
    let assigned = bytes(&pull_request("assigned"));
    // An action GitHub adds tomorrow: the payload otherwise as today.
    let mut future = pull_request("opened");
    future["action"] = json!("teleported");
    let push = bytes(&webhook_payload::build(
        "push",
        "event",
        &[("/repository/full_name", json!(REPO))],
    ));
    for (event, body) in [
        ("pull_request", assigned),
        ("pull_request", bytes(&future)),
        ("push", push),
        ("star", br#"{"action": "created"}"#.to_vec()),
    ] {
        let (status, answer) = receiver.send(delivery(event, &delivery_id(), body)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{event}: {answer}");
        assert_eq!(answer["status"], "ignored", "{event}: {answer}");
        assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    assert!(receiver.sink.events().is_empty());
    assert_eq!(receiver.count("pull_request", "ignored"), 2);
    assert_eq!(receiver.count("push", "ignored"), 1);
    assert_eq!(
        receiver.count("other", "ignored"),
        1,
        "unknown events share one label"
    );
    assert!(
        receiver.deliveries.is_empty(),
        "what is not acted on is not remembered"
    );
}

#[tokio::test]
async fn ping_is_answered_pong_and_nothing_else() {
    let receiver = Receiver::new();
    let ping = webhook_payload::build("ping", "event", &[("/zen", json!("Design for failure."))]);
    let (status, body) = receiver
        .send(delivery("ping", &delivery_id(), bytes(&ping)))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "pong"})));
    assert!(receiver.sink.events().is_empty());
    assert_eq!(receiver.count("ping", "pong"), 1);
}

#[tokio::test]
async fn finished_builds_are_delivered_with_their_commit_and_name() {
    let receiver = Receiver::new();
    // No schemas for these events in the conformance data: the documented fields only.
    let check_run = json!({"action": "completed", "repository": {"full_name": REPO},
        "check_run": {"id": 4, "name": "image", "head_sha": SHA, "status": "completed",
                      "conclusion": "success", "app": {"slug": "github-actions"}}});
    let workflow_run = json!({"action": "completed", "repository": {"full_name": REPO},
        "workflow_run": {"id": 5, "name": "Build image", "head_sha": SHA,
                         "status": "completed", "conclusion": "failure"}});
    let in_progress = json!({"action": "in_progress", "repository": {"full_name": REPO},
        "workflow_run": {"name": "Build image", "head_sha": SHA, "conclusion": null}});
    for (event, payload) in [
        ("check_run", check_run),
        ("workflow_run", workflow_run),
        ("workflow_run", in_progress),
    ] {
        let (status, _) = receiver
            .send(delivery(event, &delivery_id(), bytes(&payload)))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let built = |name: &str, conclusion| Event::BuildFinished {
        repo: repo(),
        head_sha: SHA.into(),
        name: name.into(),
        conclusion,
    };
    assert_eq!(
        receiver.sink.events(),
        [
            built("image", Conclusion::Success),
            built("Build image", Conclusion::Failure)
        ]
    );
    assert_eq!(receiver.count("workflow_run", "ignored"), 1);
}

#[tokio::test]
async fn a_replayed_delivery_is_answered_duplicate_and_not_acted_on() {
    let receiver = Receiver::new();
    let id = delivery_id();
    let body = bytes(&pull_request("synchronize"));
    let (first, _) = receiver
        .send(delivery("pull_request", &id, body.clone()))
        .await;
    let (again, answer) = receiver.send(delivery("pull_request", &id, body)).await;
    assert_eq!(first, StatusCode::ACCEPTED);
    assert_eq!(
        (again, answer),
        (StatusCode::OK, json!({"status": "duplicate"}))
    );
    assert_eq!(receiver.sink.events().len(), 1);
    assert_eq!(receiver.count("pull_request", "duplicate"), 1);
}

#[tokio::test]
async fn a_large_valid_delivery_is_accepted() {
    let receiver = Receiver::new();
    let mut payload = pull_request("edited");
    // A long description, as a PR template with logs pasted in would give.
    payload["pull_request"]["body"] = json!("log line\n".repeat(2 * 1024 * 1024));
    support::conformance::assert_webhook_valid("pull_request", "edited", &payload);
    let body = bytes(&payload);
    assert!(body.len() > 16 * 1024 * 1024);
    let (status, answer) = receiver
        .send(delivery("pull_request", &delivery_id(), body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(receiver.sink.events().len(), 1);
}

#[tokio::test]
async fn the_plugin_and_the_webhook_are_served_apart() {
    let receiver = Receiver::new();
    let fleet = Arc::new(preview_tower::demo::fleet().expect("demo fleet"));
    let store = preview_tower::snapshot::SnapshotStore::from_pointee(
        preview_tower::snapshot::Snapshot::unsynced(fleet),
    );
    let plugin = preview_tower::http::PluginState {
        store: Arc::new(store),
        token: Arc::new(SecretString::from("plugin-token")),
        metrics: Arc::clone(&receiver.metrics),
    };
    let plugin = preview_tower::http::router(plugin);
    let plugin_call = |path: &str| {
        Request::post(path)
            .header(header::AUTHORIZATION, "Bearer plugin-token")
            .body(Body::from(
                r#"{"applicationSetName": "previews", "input": {"parameters": {}}}"#,
            ))
            .unwrap()
    };
    // The webhook is not on the plugin's listener...
    let body = bytes(&pull_request("labeled"));
    let (status, _) = call(&plugin, delivery("pull_request", &delivery_id(), body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // ...the plugin answers at its path only, not under the webhook's (an Ingress prefix)...
    let (status, answer) = call(&plugin, plugin_call(preview_tower::http::PLUGIN_PATH)).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "unsynced: {answer}"
    );
    let under_webhook = format!("{WEBHOOK_PATH}{}", preview_tower::http::PLUGIN_PATH);
    let (status, _) = call(&plugin, plugin_call(&under_webhook)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // ...and the webhook's listener serves nothing else.
    let (status, _) = call(
        &receiver.router,
        plugin_call(preview_tower::http::PLUGIN_PATH),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let get = Request::get(WEBHOOK_PATH).body(Body::empty()).unwrap();
    let (status, answer) = receiver.send(get).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{answer}");
    assert!(receiver.sink.events().is_empty());
}

#[test]
fn test_payloads_are_held_to_the_vendor_schemas() {
    use support::conformance::{dir, validate_webhook};
    if dir().is_none() {
        return;
    }
    // What a hand-written test payload usually is: far from what GitHub sends.
    let sketch = json!({"action": "opened", "number": 7, "repository": {"full_name": REPO}});
    assert!(validate_webhook("pull_request", "opened", &sketch).len() > 3);
    // A violation deep inside a referenced schema (`common/repository.schema.json`) is seen.
    let mut wrong = pull_request("opened");
    wrong["repository"]["full_name"] = json!(7);
    let violations = validate_webhook("pull_request", "opened", &wrong);
    assert!(
        violations
            .iter()
            .any(|v| v.instance_path == "/repository/full_name"),
        "{violations:#?}"
    );
    assert!(validate_webhook("pull_request", "opened", &pull_request("opened")).is_empty());
}
