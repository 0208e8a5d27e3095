//! The board's port as a browser or a script meets it, in process: the page, its live part
//! and its JSON from the demo synced through the real sync; the filter from the query (a
//! hand-edited value ignored, not an error); the Content Security Policy on every answer, a
//! refusal's too; nothing but `GET`; and the board on no other port's router.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use preview_tower::cost::meter::SharedMeter;
use preview_tower::demo::{self, DemoSource};
use preview_tower::http::{self, BoardState, Observe, PluginState};
use preview_tower::metrics::Metrics;
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;
use secrecy::SecretString;
use serde_json::Value;
use tower::ServiceExt;

async fn demo_board() -> (axum::Router, Arc<SnapshotStore>) {
    demo_board_observed(None).await
}

/// The demo's board; `in_flight`, when given, counts the boards being built at once (each
/// build asks for the Applications once, and takes a little while doing it) and keeps the
/// most seen.
async fn demo_board_observed(
    in_flight: Option<Arc<(AtomicUsize, AtomicUsize)>>,
) -> (axum::Router, Arc<SnapshotStore>) {
    let fleet = Arc::new(demo::fleet().expect("demo fleet"));
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let index = demo::applications(&fleet);
    Syncer::new(
        Arc::clone(&fleet),
        Arc::new(DemoSource::new().expect("demo source")),
        Arc::clone(&store),
        Arc::new(Metrics::unregistered()),
    )
    .with_applications(Arc::clone(&index))
    .refresh_all()
    .await
    .expect("demo sync");
    let observe: Observe = Arc::new(move || {
        let Some(counts) = &in_flight else {
            return index.observed();
        };
        let now = counts.0.fetch_add(1, Ordering::SeqCst) + 1;
        counts.1.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(30));
        counts.0.fetch_sub(1, Ordering::SeqCst);
        index.observed()
    });
    let router = http::board_router(BoardState {
        fleet,
        store: Arc::clone(&store),
        observe,
        meter: SharedMeter::default(),
        jira_url: Some("https://acme.atlassian.net".parse().expect("URL")),
        jira_projects: vec![],
        applications_url: None,
    });
    (router, store)
}

async fn get(router: &axum::Router, method: Method, uri: &str) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let csp = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, csp, String::from_utf8_lossy(&bytes).into_owned())
}

fn services(json: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(json).expect("JSON");
    value["previews"]
        .as_array()
        .expect("previews")
        .iter()
        .map(|r| r["service"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_board_answers_reads_only_with_its_policy_on_every_answer() {
    let (board, _) = demo_board().await;
    let (status, csp, page) = get(&board, Method::GET, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(page.contains("Preview environments"));
    assert!(
        page.contains(r#"href="https://acme.atlassian.net/browse/SHOP-142""#),
        "Jira keys are linked when Jira's address is known"
    );
    let (status, _, fragment) = get(&board, Method::GET, "/fragment?service=api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!fragment.contains("<html") && fragment.contains("data-service=\"api\""));
    for (method, uri, expected) in [
        (Method::POST, "/", StatusCode::METHOD_NOT_ALLOWED),
        (
            Method::DELETE,
            "/api/v1/previews",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::GET,
            "/api/v1/getparams.execute",
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/metrics", StatusCode::NOT_FOUND),
    ] {
        let (status, csp, _) = get(&board, method.clone(), uri).await;
        assert_eq!(status, expected, "{method} {uri}");
        assert!(
            !csp.is_empty(),
            "{method} {uri}: no Content Security Policy"
        );
    }
}

#[tokio::test]
async fn the_json_takes_the_pages_filter_and_ignores_what_it_cannot_read() {
    let (board, _) = demo_board().await;
    let (_, _, all) = get(&board, Method::GET, "/api/v1/previews").await;
    assert!(services(&all).len() > 2, "{all}");
    let (status, _, api) = get(
        &board,
        Method::GET,
        "/api/v1/previews?service=api&sort=bogus",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let api = services(&api);
    assert!(!api.is_empty() && api.iter().all(|s| s == "api"), "{api:?}");
    let (_, _, none) = get(&board, Method::GET, "/api/v1/previews?service=nope").await;
    assert!(services(&none).is_empty());
    let long = "x".repeat(5_000);
    let (status, _, page) = get(&board, Method::GET, &format!("/?q={long}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains(&"x".repeat(101)),
        "a filter value is cut at 100 characters"
    );
}

#[tokio::test]
async fn no_other_port_serves_the_board() {
    let (_, store) = demo_board().await;
    let plugin = http::router(PluginState {
        store: Arc::clone(&store),
        token: Arc::new(SecretString::from("token")),
        metrics: Arc::new(Metrics::unregistered()),
    });
    for uri in ["/", "/api/v1/previews", "/fragment", "/assets/board.js"] {
        let (status, _, _) = get(&plugin, Method::GET, uri).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "the plugin's port serves {uri}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 16)]
async fn at_most_four_boards_are_built_at_once_whatever_the_route() {
    let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let (board, _) = demo_board_observed(Some(Arc::clone(&counts))).await;
    let mut requests = tokio::task::JoinSet::new();
    for uri in ["/", "/fragment", "/api/v1/previews"].repeat(8) {
        let board = board.clone();
        requests.spawn(async move { get(&board, Method::GET, uri).await.0 });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.expect("a request"), StatusCode::OK);
    }
    let most = counts.1.load(Ordering::SeqCst);
    assert!(most <= 4, "{most} boards were built at once");
    assert!(most >= 1);
}
