//! What must change nothing: forged, unsigned, unreadable or oversized deliveries. Each is
//! refused before any event exists, and leaves no trace in the delivery log (the genuine
//! delivery with the same id is still accepted afterwards).

use axum::http::StatusCode;
use serde_json::json;

use super::{Receiver, bytes, delivery, delivery_id, pull_request, request};
use preview_tower::github::webhook::sign;
use preview_tower::http::MAX_WEBHOOK_BODY_BYTES;

#[tokio::test]
async fn forged_deliveries_are_refused_and_change_nothing() {
    let receiver = Receiver::new();
    let id = delivery_id();
    let body = bytes(&pull_request("labeled"));
    let mut changed = body.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x20;
    let genuine = sign(super::SECRET.as_bytes(), &body);
    let forgeries = [
        (
            "wrong secret",
            body.clone(),
            Some(sign(b"guessed-secret", &body)),
            "does not match",
        ),
        (
            "one byte changed",
            changed,
            Some(genuine.clone()),
            "does not match",
        ),
        ("no signature", body.clone(), None, "missing"),
        (
            "sha1 signature",
            body.clone(),
            Some("sha1=0123456789abcdef0123456789abcdef01234567".into()),
            "malformed",
        ),
    ];
    for (what, forged, signature, says) in forgeries {
        let (status, answer) = receiver
            .send(request("pull_request", &id, forged, signature.as_deref()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message}");
        assert!(
            !message.contains(super::SECRET),
            "{what}: the secret leaked"
        );
    }
    assert!(receiver.sink.events().is_empty());
    assert!(receiver.deliveries.is_empty(), "forgeries are not recorded");
    assert_eq!(receiver.count("pull_request", "unauthorized"), 4);

    let (status, _) = receiver.send(delivery("pull_request", &id, body)).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "the genuine delivery still goes through"
    );
    assert_eq!(receiver.sink.events().len(), 1);
}

#[tokio::test]
async fn a_forged_ping_gets_no_pong() {
    let receiver = Receiver::new();
    let body = br#"{"zen": "x", "hook_id": 1}"#.to_vec();
    let (status, _) = receiver
        .send(request("ping", &delivery_id(), body, None))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signed_deliveries_without_the_event_or_delivery_header_are_bad_requests() {
    let receiver = Receiver::new();
    let body = bytes(&pull_request("opened"));
    let mut no_event = delivery("pull_request", &delivery_id(), body.clone());
    no_event.headers_mut().remove("x-github-event");
    let (status, answer) = receiver.send(no_event).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("X-GitHub-Event")
    );

    let mut no_id = delivery("pull_request", &delivery_id(), body);
    no_id.headers_mut().remove("x-github-delivery");
    let (status, answer) = receiver.send(no_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("X-GitHub-Delivery")
    );
    assert!(receiver.sink.events().is_empty());
}

#[tokio::test]
async fn signed_but_unreadable_bodies_are_bad_requests_with_the_reason() {
    let receiver = Receiver::new();
    let cases = [
        (b"{not json".to_vec(), "unreadable `pull_request` payload"),
        (
            br#"{"action": "opened", "number": 7}"#.to_vec(),
            "`repository.full_name` is missing",
        ),
        (
            bytes(
                &json!({"action": "opened", "number": "7", "repository": {"full_name": "acme/web"}}),
            ),
            "invalid type",
        ),
        (
            b"payload=%7B%22action%22%3A%22opened%22%7D".to_vec(),
            "application/json",
        ),
    ];
    for (body, says) in cases {
        let (status, answer) = receiver
            .send(delivery("pull_request", &delivery_id(), body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }
    assert!(receiver.sink.events().is_empty());
    assert!(
        receiver.deliveries.is_empty(),
        "an unreadable delivery may be redelivered"
    );
    assert_eq!(receiver.count("pull_request", "invalid"), 4);
}

#[tokio::test]
async fn a_body_over_githubs_cap_is_refused_unread() {
    let receiver = Receiver::new();
    let body = vec![b' '; MAX_WEBHOOK_BODY_BYTES + 1];
    let (status, answer) = receiver
        .send(delivery("pull_request", &delivery_id(), body))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(receiver.sink.events().is_empty());
    assert!(receiver.deliveries.is_empty());
}
