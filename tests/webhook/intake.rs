//! What the webhook receiver refuses before it reads a body, and what it remembers: a delivery
//! without a well-formed signature costs no read, a body is read only within the byte budget of
//! every delivery in memory at once (and a client that declares one and sends nothing holds
//! none of it), and a delivery seen again (same id, or the same body under a fresh id) is not
//! acted on twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};

use super::{Receiver, bytes, delivery, delivery_id, pull_request, request};
use preview_tower::http::webhook::ByteBudget;

/// A body that records whether anyone read from it.
fn watched(payload: Vec<u8>) -> (Body, Arc<AtomicBool>) {
    let read = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&read);
    let stream = futures::stream::once(async move {
        flag.store(true, Ordering::SeqCst);
        Ok::<_, std::io::Error>(Bytes::from(payload))
    });
    (Body::from_stream(stream), read)
}

fn with_body(request: Request<Body>, body: Body) -> Request<Body> {
    let (parts, _) = request.into_parts();
    Request::from_parts(parts, body)
}

#[tokio::test]
async fn a_delivery_without_a_well_formed_signature_is_refused_unread() {
    let receiver = Receiver::new();
    for signature in [None, Some("sha1=abc"), Some("sha256=not-hex")] {
        let payload = bytes(&pull_request("labeled"));
        let (body, read) = watched(payload.clone());
        let unsigned = request("pull_request", &delivery_id(), payload, signature);
        let (status, answer) = receiver.send(with_body(unsigned, body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{signature:?}: {answer}");
        assert!(
            !read.load(Ordering::SeqCst),
            "{signature:?}: the body was read"
        );
    }
    assert!(receiver.sink.events().is_empty());
}

#[tokio::test]
async fn bodies_beyond_the_budget_are_refused_until_it_frees() {
    let receiver = Receiver::with_budget(ByteBudget::new(1024 * 1024));
    // Deliveries being read hold the whole budget.
    let held = receiver
        .budget
        .try_reserve(1024 * 1024)
        .expect("the budget");
    let payload = bytes(&pull_request("labeled"));
    let signed = delivery("pull_request", &delivery_id(), payload.clone());
    let answer = tower::ServiceExt::oneshot(receiver.router.clone(), signed)
        .await
        .expect("infallible");
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers()[header::RETRY_AFTER], "5");
    assert_eq!(answer.headers()[header::CONNECTION], "close");
    assert_eq!(receiver.count("pull_request", "busy"), 1);
    assert!(receiver.sink.events().is_empty());
    // Given back: the same delivery goes through, and gives back what it took.
    drop(held);
    let (status, answer) = receiver
        .send(delivery("pull_request", &delivery_id(), payload))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(receiver.budget.available(), 1024 * 1024, "given back after");
}

#[tokio::test]
async fn a_body_declared_but_not_sent_holds_no_budget_and_times_out() {
    let receiver = Receiver::with_budget(ByteBudget::new(1024 * 1024));
    let payload = bytes(&pull_request("labeled"));
    let mut declared = delivery("pull_request", &delivery_id(), payload.clone());
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (20 * 1024 * 1024).into());
    let never = futures::stream::pending::<Result<Bytes, std::io::Error>>();
    let waiting = tokio::spawn(tower::ServiceExt::oneshot(
        receiver.router.clone(),
        with_body(declared, Body::from_stream(never)),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        receiver.budget.available(),
        1024 * 1024,
        "nothing held for bytes that did not come"
    );
    // A genuine delivery meanwhile is read and acted on.
    let (status, _) = receiver
        .send(delivery("pull_request", &delivery_id(), payload))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let answer = waiting.await.expect("joined").expect("infallible");
    assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
}

#[tokio::test]
async fn a_captured_body_sent_again_under_fresh_ids_is_acted_on_once() {
    let receiver = Receiver::new();
    let body = bytes(&pull_request("labeled"));
    let (status, _) = receiver
        .send(delivery("pull_request", &delivery_id(), body.clone()))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for _ in 0..200 {
        let (status, answer) = receiver
            .send(delivery("pull_request", &delivery_id(), body.clone()))
            .await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (StatusCode::OK, Some("duplicate"))
        );
    }
    assert_eq!(receiver.sink.events().len(), 1);
    assert_eq!(receiver.deliveries.len(), 1, "replays evict nothing");
}
