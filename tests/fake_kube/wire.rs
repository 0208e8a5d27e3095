//! What the fake puts on the wire where kube-rs hides it: watch lines, BOOKMARK and ERROR
//! objects, the end of a timed-out watch, `Status` bodies for unknown paths and verbs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::PREVIEW;
use crate::support::fake_kube::{FakeKube, application};

const APPS: &str = "apis/argoproj.io/v1alpha1/namespaces/argocd/applications";

/// A watch response read line by line.
struct Lines {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Lines {
    async fn open(kube: &FakeKube, query: &str) -> Self {
        let url = kube.url().join(&format!("{APPS}?{query}")).unwrap();
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, or `None` when the stream ends (within 10 s).
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("a watch line within 10 s")
                .unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }
}

#[tokio::test]
async fn watch_lines_carry_events_bookmarks_and_expiry() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    let mut watch = Lines::open(&kube, "watch=1&resourceVersion=0&allowWatchBookmarks=true").await;
    let added = watch.next().await.unwrap();
    assert_eq!(added["type"], "ADDED");
    assert_eq!(added["object"]["metadata"]["name"], "web-1");

    kube.bookmark();
    let bookmark = watch.next().await.unwrap();
    assert_eq!(
        bookmark,
        json!({"type": "BOOKMARK", "object": {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"resourceVersion": kube.resource_version().to_string()},
        }})
    );
    let before = kube.resource_version();
    kube.put_application(application("web-2", &[PREVIEW]));
    assert_eq!(watch.next().await.unwrap()["type"], "ADDED");
    kube.compact();

    let mut expired = Lines::open(&kube, &format!("watch=true&resourceVersion={before}")).await;
    let error = expired.next().await.unwrap();
    assert_eq!(error["type"], "ERROR");
    let status = &error["object"];
    assert_eq!(
        (&status["kind"], &status["apiVersion"], &status["status"]),
        (&json!("Status"), &json!("v1"), &json!("Failure"))
    );
    assert_eq!(
        (&status["code"], &status["reason"]),
        (&json!(410), &json!("Expired"))
    );
    assert!(
        expired.next().await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn a_watch_ends_at_its_timeout_and_without_bookmarks_unless_asked() {
    let kube = FakeKube::start().await;
    let rv = kube.resource_version();
    let mut watch = Lines::open(
        &kube,
        &format!("watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    kube.bookmark();
    kube.put_application(application("web-1", &[PREVIEW]));
    assert_eq!(watch.next().await.unwrap()["type"], "ADDED");
    assert!(
        watch.next().await.is_none(),
        "the stream ends at timeoutSeconds"
    );
    assert_eq!(kube.open_watches(), 0);
}

#[tokio::test]
async fn unknown_paths_and_verbs_answer_a_status() {
    let kube = FakeKube::start().await;
    let http = reqwest::Client::new();
    let url = |path: &str| kube.url().join(path).unwrap();

    let missing = http
        .get(url("apis/apps/v1/namespaces/argocd/deployments"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let status: Value = missing.json().await.unwrap();
    assert_eq!(
        (&status["kind"], &status["reason"], &status["code"]),
        (&json!("Status"), &json!("NotFound"), &json!(404))
    );

    let post = http
        .post(url(&format!("{APPS}/web-1")))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    let status: Value = post.json().await.unwrap();
    assert_eq!(
        (&status["reason"], &status["status"]),
        (&json!("MethodNotAllowed"), &json!("Failure"))
    );
}
