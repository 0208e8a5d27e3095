//! The plugin route over real HTTP: the answer's chunks arrive whole, with their length.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::SecretString;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use axum::body::Body;

use crate::http::{PluginState, router, serve};
use crate::metrics::Metrics;
use crate::plan::{PlanInput, plan};
use crate::snapshot::{Query, Snapshot, SnapshotStore};
use crate::testing::{facts, fleet, name, now, pr};

fn snapshot() -> Snapshot {
    let fleet = Arc::new(fleet());
    let (web, api) = (
        [facts(pr(1), None), facts(pr(2), None)],
        [facts(pr(3), None)],
    );
    let services = BTreeMap::from([
        (name("web"), &web[..]),
        (name("api"), &api[..]),
        (name("billing"), &[][..]),
    ]);
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services,
        now: now(),
    });
    let synced = ["web", "api", "billing"].iter().map(|s| name(s)).collect();
    Snapshot::build(fleet, plan, synced, 1, None)
}

/// Sends one request with `Connection: close` and returns the response's head (lower-cased)
/// and body, as read off the socket.
async fn exchange(address: std::net::SocketAddr, body: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let request = format!(
        "POST /api/v1/getparams.execute HTTP/1.1\r\nhost: test\r\nauthorization: Bearer secret\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    (head, raw[end + 4..].to_vec())
}

#[tokio::test]
async fn answers_go_out_whole_with_their_content_length() {
    let snapshot = snapshot();
    let expected = [
        (
            r#"{"applicationSetName":"previews","input":{}}"#,
            snapshot.answer(&Query::All).expect("complete"),
        ),
        (
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web"}}}"#,
            snapshot
                .answer(&Query::Service("web".into()))
                .expect("synced"),
        ),
    ];
    let state = PluginState {
        store: Arc::new(SnapshotStore::from_pointee(snapshot)),
        token: Arc::new(SecretString::from("secret")),
        metrics: Arc::new(Metrics::unregistered()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let cancel = CancellationToken::new();
    let limits = crate::http::Limits::PLUGIN;
    let served = serve(
        listener,
        router(state),
        limits,
        "plugin",
        None,
        cancel.clone(),
    );
    let server = tokio::spawn(served);
    for (request, answer) in expected {
        let (head, body) = exchange(address, request).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(
            head.contains(&format!("\r\ncontent-length: {}\r\n", answer.len())),
            "{head}"
        );
        assert!(!head.contains("transfer-encoding"), "{head}");
        assert_eq!(body, answer, "{request}");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert!(value["output"]["parameters"].is_array());
    }
    cancel.cancel();
    server.await.expect("joined").expect("served");
}

/// A request to the plugin with a valid token and `body`, declared `declared` bytes long.
fn post(body: Body, declared: Option<usize>) -> axum::http::Request<Body> {
    let mut builder = axum::http::Request::post(crate::http::PLUGIN_PATH)
        .header("authorization", "Bearer secret")
        .header("content-type", "application/json");
    if let Some(length) = declared {
        builder = builder.header("content-length", length);
    }
    builder.body(body).expect("request")
}

#[tokio::test]
async fn an_oversized_body_is_refused_and_closes_the_connection_only_when_left_unread() {
    use tower::ServiceExt as _;
    let state = PluginState {
        store: Arc::new(SnapshotStore::from_pointee(snapshot())),
        token: Arc::new(SecretString::from("secret")),
        metrics: Arc::new(Metrics::unregistered()),
    };
    let big = vec![b' '; crate::http::MAX_BODY_BYTES + 1];
    let broken = Body::from_stream(futures::stream::iter([
        Ok(axum::body::Bytes::from_static(b"{")),
        Err(std::io::Error::other("connection reset")),
    ]));
    let cases = [
        // Streamed past the cap: the rest is unread.
        (post(Body::from(big.clone()), None), 413, true),
        // Declared too large and small enough to drain: read to its end.
        (post(Body::from(big.clone()), Some(big.len())), 413, false),
        // Broken off: nothing is left to read.
        (post(broken, None), 400, false),
    ];
    for (request, status, closes) in cases {
        let response = router(state.clone())
            .oneshot(request)
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), status);
        let close = response
            .headers()
            .get("connection")
            .is_some_and(|v| v == "close");
        assert_eq!(close, closes, "{status}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let message = value["message"].as_str().expect("message");
        let expected = if status == 413 {
            "request body larger than 1048576 bytes"
        } else {
            "cannot read the request body: connection reset"
        };
        assert_eq!(message, expected);
    }
}
