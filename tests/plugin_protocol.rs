//! The plugin endpoint through the real router, as Argo CD's ApplicationSet controller calls it:
//! every request body of the vendor's wire fixtures, authentication, bad input, limits, and the
//! 503 before the first sync. The snapshot comes from the embedded demo through the real sync.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tower::ServiceExt;

use preview_tower::demo::{self, DemoSource};
use preview_tower::http::{self, PLUGIN_PATH, PluginState};
use preview_tower::metrics::Metrics;
use preview_tower::params::KEYS;
use preview_tower::snapshot::{Snapshot, SnapshotStore};
use preview_tower::sync::Syncer;

const TOKEN: &str = "s3cret-plugin-token";
/// Every service's previews, asked by the demo fleet's ApplicationSet.
const ALL: &str = r#"{"applicationSetName":"previews"}"#;

async fn demo_state(synced: bool) -> PluginState {
    let fleet = Arc::new(demo::fleet().expect("demo fleet"));
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let metrics = Arc::new(Metrics::unregistered());
    if synced {
        // The demo's Applications, as `serve --demo` reads them (web PR 105 has none: queued).
        let applications = demo::applications(&fleet);
        let syncer = Syncer::new(
            fleet,
            Arc::new(DemoSource::new().expect("demo source")),
            Arc::clone(&store),
            Arc::clone(&metrics),
        )
        .with_applications(applications);
        syncer.refresh_all().await.expect("demo sync");
    }
    PluginState {
        store,
        token: Arc::new(SecretString::from(TOKEN)),
        metrics,
    }
}

fn request(body: impl Into<Body>, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::post(PLUGIN_PATH)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "argocd-applicationset");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(body.into()).expect("request")
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

fn sets(value: &Value) -> &Vec<Value> {
    value["output"]["parameters"]
        .as_array()
        .expect("output.parameters is a list")
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PREVIEW_TOWER_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"));
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!("conformance data missing at {}", dir.display());
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("WARNING: {message}: skipping vendor fixture checks");
    None
}

#[tokio::test]
async fn every_demo_preview_gets_a_complete_set_with_dns_names() {
    let router = demo_router(true).await;
    let (status, body) = call(
        &router,
        request(
            r#"{"applicationSetName":"previews","input":{"parameters":{}}}"#,
            Some(TOKEN),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sets = sets(&body);
    let names: Vec<&str> = sets
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "preview-web-pr-101",
            "preview-web-pr-102",
            "preview-web-pr-104",
            "preview-api-pr-42",
            "preview-api-pr-43",
            "preview-billing-pr-8"
        ]
    );
    for set in sets {
        for key in KEYS {
            assert!(
                set.get(key.name).is_some(),
                "{} lacks {}",
                set["name"],
                key.name
            );
        }
        for key in ["name", "namespace"] {
            let value = set[key].as_str().expect("string");
            assert!(
                value.len() <= 63
                    && value
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{value}"
            );
        }
        assert!(
            set["host"]
                .as_str()
                .expect("host")
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63)
        );
    }
    let web = &sets[0];
    assert_eq!(web["dependencies"]["api"]["route"], "pr-42");
    assert_eq!(
        web["env"]["API_URL"],
        "https://api-pr-42.preview.example.com"
    );
    let search = &sets[1];
    assert_eq!(search["dependencies"]["api"]["route"], "staging");
}

#[tokio::test]
async fn every_vendor_request_fixture_gets_a_documented_answer() {
    let Some(dir) = conformance_dir() else { return };
    let router = demo_router(true).await;
    let fixtures = dir.join("argocd/fixtures/plugin-wire");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.starts_with("request-") {
            continue;
        }
        seen += 1;
        let mut body: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("JSON");
        // The vendor's ApplicationSets are not the demo fleet's: refused, naming those answered.
        if body["applicationSetName"] != "previews" {
            let (status, value) = call(&router, request(body.to_string(), Some(TOKEN))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {value}");
            let message = value["message"].as_str().expect("message");
            assert!(
                message.contains("previews, previews-web"),
                "{name}: {message}"
            );
            body["applicationSetName"] = "previews".into();
        }
        let (status, value) = call(&router, request(body.to_string(), Some(TOKEN))).await;
        if name.contains("matrix") {
            // The pullRequest generator's keys without `service`: PR numbers are per repository,
            // so the plugin cannot tell which PR is meant. Argo CD changes nothing on a 4xx and
            // shows the message in the ApplicationSet's condition.
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
            assert!(
                value["message"]
                    .as_str()
                    .expect("message")
                    .contains("service"),
                "{name}"
            );
        } else {
            assert_eq!(status, StatusCode::OK, "{name}: {value}");
            assert_eq!(sets(&value).len(), 6, "{name}");
        }
    }
    assert!(
        seen >= 5,
        "only {seen} request fixtures in {}",
        fixtures.display()
    );
}

#[tokio::test]
async fn one_service_and_matrix_mode_answer_their_sets() {
    let router = demo_router(true).await;
    let (status, body) = call(
        &router,
        request(
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"api"}}}"#,
            Some(TOKEN),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sets(&body).len(), 2);
    let matrix = json!({"applicationSetName": "previews", "input": {"parameters": {
        "service": "api", "number": "42", "branch": "feature/payments-v2",
        "head_sha": "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d", "static_flag": true}}});
    let (status, body) = call(&router, request(matrix.to_string(), Some(TOKEN))).await;
    assert_eq!(status, StatusCode::OK);
    let one = sets(&body);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["name"], "preview-api-pr-42");
    assert!(
        one[0].get("branch").is_none(),
        "matrix sets leave PR keys to the PR generator"
    );
    let excluded = json!({"applicationSetName": "previews", "input": {"parameters": {"service": "api", "number": 44}}});
    let (status, body) = call(&router, request(excluded.to_string(), Some(TOKEN))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sets(&body).is_empty(), "unlabelled PR 44 gets no preview");
}

#[tokio::test]
async fn bad_requests_are_refused_precisely_and_the_service_keeps_answering() {
    let router = demo_router(true).await;
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (request("{}", None), StatusCode::UNAUTHORIZED, "bearer"),
        (
            request("{}", Some("wrong")),
            StatusCode::FORBIDDEN,
            "bearer",
        ),
        (
            request("{not json", Some(TOKEN)),
            StatusCode::BAD_REQUEST,
            "not a plugin request",
        ),
        (
            request(vec![b' '; 2 * 1024 * 1024], Some(TOKEN)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
        (
            request(
                r#"{"applicationSetName":"previews","input":{"parameters":{"service":"nope"}}}"#,
                Some(TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            "known services: web, api, billing",
        ),
    ];
    for (request, expected, fragment) in cases {
        let (status, body) = call(&router, request).await;
        assert_eq!(status, expected, "{body}");
        let message = body["message"].as_str().expect("message");
        assert!(message.contains(fragment), "{message}");
        let (status, _) = call(&router, self::request(ALL, Some(TOKEN))).await;
        assert_eq!(status, StatusCode::OK, "still answering after a {expected}");
    }
}

#[tokio::test]
async fn nothing_is_answered_before_the_first_sync() {
    let router = demo_router(false).await;
    let (status, body) = call(&router, request(ALL, Some(TOKEN))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("not synced")
    );
    let (status, _) = call(
        &router,
        request(
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web"}}}"#,
            Some(TOKEN),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// The demo's plugin router, synced or not.
async fn demo_router(synced: bool) -> axum::Router {
    http::router(demo_state(synced).await)
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_served_and_no_other_prefix() {
    let base = vec!["/plugins/preview-tower".to_owned()];
    let router = http::router_with_base_paths(demo_state(true).await, &base);
    let request = Request::post(format!("/plugins/preview-tower{PLUGIN_PATH}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from(ALL))
        .expect("request");
    let (status, body) = call(&router, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sets(&body).len(), 6);
    for elsewhere in [
        "/elsewhere".to_owned(),
        format!("/other-prefix{PLUGIN_PATH}"),
        format!("/api/v1/webhooks/github{PLUGIN_PATH}"),
    ] {
        let request = Request::post(&elsewhere)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::from("{}"))
            .expect("request");
        let (status, _) = call(&router, request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{elsewhere}");
    }
    // Without base paths, only the plugin path itself.
    let router = demo_router(true).await;
    let request = Request::post(format!("/plugins/preview-tower{PLUGIN_PATH}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from("{}"))
        .expect("request");
    assert_eq!(call(&router, request).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_base_path_given_twice_is_served_once() {
    // `--plugin-base-path /p --plugin-base-path /p` once made axum panic at start-up.
    let base = vec!["/p".to_owned(), "/p".to_owned()];
    let router = http::router_with_base_paths(demo_state(true).await, &base);
    let request = Request::post(format!("/p{PLUGIN_PATH}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from(ALL))
        .expect("request");
    assert_eq!(call(&router, request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn only_the_applicationsets_the_fleet_lists_are_answered() {
    let router = demo_router(true).await;
    for name in ["previews", "previews-web"] {
        let body = json!({"applicationSetName": name, "input": {"parameters": {}}});
        let (status, value) = call(&router, request(body.to_string(), Some(TOKEN))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {value}");
        assert_eq!(sets(&value).len(), 6, "{name}");
    }
    let refused = [
        json!({"applicationSetName": "no-such-appset", "input": {"parameters": {}}}),
        json!({"applicationSetName": "", "input": {"parameters": {}}}),
        json!({"input": {"parameters": {"service": "web"}}}),
        json!({"applicationSetName": "Previews\n`x`", "input": {}}),
    ];
    for body in refused {
        let (status, value) = call(&router, request(body.to_string(), Some(TOKEN))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {value}");
        let message = value["message"].as_str().expect("message");
        assert!(
            message.contains("ApplicationSet") && message.contains("previews, previews-web"),
            "names the ApplicationSets answered: {message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }
}
