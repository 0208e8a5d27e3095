//! Connection discipline of `http::serve`, over real TCP on loopback: a half-sent request and
//! an idle connection are closed, a listener at its connection cap refuses the next one with a
//! `503` at once and serves again when a slot frees, and another listener is not touched by
//! it. Short limits are set so that the test waits seconds, not minutes; the deadlines are
//! generous bounds, never timing assertions.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use preview_tower::http::{self, Limits};
use preview_tower::metrics::{ListenerLabel, Metrics};

const TEST_LIMITS: Limits = Limits {
    max_connections: 2,
    header_timeout: Duration::from_millis(500),
    idle_timeout: Duration::from_secs(1),
    max_streams: 16,
};
/// A bound for a loaded machine.
const DEADLINE: Duration = Duration::from_secs(15);

struct Served {
    address: SocketAddr,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(limits: Limits, name: &'static str, metrics: &Arc<Metrics>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/ping", get(|| async { "pong" }))
        .route("/large", get(|| async { "x".repeat(8 * 1024 * 1024) }));
    let cancel = CancellationToken::new();
    let served = http::serve(
        listener,
        router,
        limits,
        name,
        Some(Arc::clone(metrics)),
        cancel.clone(),
    );
    Served {
        address,
        cancel,
        task: tokio::spawn(served),
    }
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "still open after {} s", DEADLINE.as_secs());
    String::from_utf8_lossy(&out).into_owned()
}

async fn ping(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    until_closed(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_and_an_idle_connection_are_closed() {
    let metrics = Arc::new(Metrics::unregistered());
    let served = serve(TEST_LIMITS, "plugin", &metrics).await;
    // Headers that never end (slowloris).
    let mut slow = TcpStream::connect(served.address).await.unwrap();
    slow.write_all(b"GET /ping HTTP/1.1\r\nhost: x\r\nx-a: ")
        .await
        .unwrap();
    until_closed(&mut slow).await;
    // One request, then nothing on a keep-alive connection.
    let mut idle = TcpStream::connect(served.address).await.unwrap();
    idle.write_all(b"GET /ping HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A connection that sends nothing at all.
    let mut silent = TcpStream::connect(served.address).await.unwrap();
    until_closed(&mut silent).await;
    served.cancel.cancel();
    served.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_at_its_cap_refuses_at_once_and_the_others_do_not_feel_it() {
    let metrics = Arc::new(Metrics::unregistered());
    let limits = Limits {
        header_timeout: Duration::from_secs(3),
        idle_timeout: Duration::from_secs(3),
        ..TEST_LIMITS
    };
    let attacked = serve(limits, "webhook", &metrics).await;
    let other = serve(limits, "plugin", &metrics).await;
    // Two connections that send nothing take every slot.
    let mut held = Vec::new();
    for _ in 0..limits.max_connections {
        held.push(TcpStream::connect(attacked.address).await.unwrap());
    }
    let label = |listener| ListenerLabel { listener };
    let open = || {
        metrics
            .http
            .connections
            .get_or_create(&label("webhook"))
            .get()
    };
    for _ in 0..200 {
        if open() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open(), 2);
    // The next one is refused at once, with a 503.
    let refused = ping(attacked.address).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("too many connections"), "{refused}");
    let refusals = metrics
        .http
        .connections_refused
        .get_or_create(&label("webhook"))
        .get();
    assert_eq!(refusals, 1);
    // Another listener answers meanwhile.
    assert!(ping(other.address).await.starts_with("HTTP/1.1 200"));
    // The held ones time out; the listener serves again.
    for mut stream in held {
        until_closed(&mut stream).await;
    }
    assert!(ping(attacked.address).await.starts_with("HTTP/1.1 200"));
    for served in [attacked, other] {
        served.cancel.cancel();
        served.task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_connection_that_holds_on() {
    let metrics = Arc::new(Metrics::unregistered());
    let limits = Limits {
        header_timeout: Duration::from_secs(120),
        idle_timeout: Duration::from_secs(120),
        ..TEST_LIMITS
    };
    let served = serve(limits, "admin", &metrics).await;
    let mut holding = TcpStream::connect(served.address).await.unwrap();
    holding
        .write_all(b"GET /ping HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    served.cancel.cancel();
    // Bounded by the shutdown grace (10 s), never by the client.
    let stopped = tokio::time::timeout(Duration::from_secs(30), served.task).await;
    assert!(stopped.is_ok(), "serve still running after SIGTERM's grace");
}

/// The connections `name` has open now.
fn open(metrics: &Metrics, name: &'static str) -> i64 {
    metrics
        .http
        .connections
        .get_or_create(&ListenerLabel { listener: name })
        .get()
}

async fn until_none_open(metrics: &Metrics, name: &'static str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while open(metrics, name) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still open after {} s",
            DEADLINE.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_its_answers_is_dropped() {
    let metrics = Arc::new(Metrics::unregistered());
    let served = serve(TEST_LIMITS, "webhook", &metrics).await;
    let mut greedy = TcpStream::connect(served.address).await.unwrap();
    // Two requests for large answers, never read: the server's writes stall on a full socket.
    let requests = b"GET /large HTTP/1.1\r\nhost: x\r\n\r\n".repeat(2);
    greedy.write_all(&requests).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(open(&metrics, "webhook"), 1);
    until_none_open(&metrics, "webhook").await;
    drop(greedy);
    served.cancel.cancel();
    served.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_starts_no_request_is_dropped_however_it_trickles() {
    let metrics = Arc::new(Metrics::unregistered());
    let served = serve(TEST_LIMITS, "webhook", &metrics).await;
    let mut trickle = TcpStream::connect(served.address).await.unwrap();
    // HTTP/2's preface, a byte at a time: bytes move, but no request ever starts.
    let writer = tokio::spawn(async move {
        for byte in b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
            if trickle.write_all(&[*byte]).await.is_err() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        Some(trickle)
    });
    until_none_open(&metrics, "webhook").await;
    drop(writer.await);
    served.cancel.cancel();
    served.task.await.unwrap().unwrap();
}
