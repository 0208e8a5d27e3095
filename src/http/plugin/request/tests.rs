//! Requests to queries, malformed requests, tokens.

use axum::http::{HeaderMap, StatusCode, header};

use super::*;
use crate::http::ApiError;
use crate::snapshot::Query;
use crate::testing::fleet;

#[test]
fn requests_map_to_queries() {
    let cases: &[(&str, Query)] = &[
        (
            r#"{"applicationSetName":"previews","input":{}}"#,
            Query::All,
        ),
        (
            r#"{"applicationSetName":"previews","input":{"parameters":{}}}"#,
            Query::All,
        ),
        (r#"{"applicationSetName":"previews"}"#, Query::All),
        (
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web","other":[1,{"x":null}]}}}"#,
            Query::Service("web".into()),
        ),
        (
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web","number":"42","branch":"b"}}}"#,
            Query::Matrix {
                service: "web".into(),
                number: 42,
                branch: Some("b".into()),
            },
        ),
        (
            r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web","number":7}}}"#,
            Query::Matrix {
                service: "web".into(),
                number: 7,
                branch: None,
            },
        ),
    ];
    let fleet = fleet();
    for (body, expected) in cases {
        assert_eq!(
            parse_request(body.as_bytes(), &fleet)
                .map(|(_, q)| q)
                .ok()
                .as_ref(),
            Some(expected),
            "{body}"
        );
    }
}

#[test]
fn malformed_requests_are_rejected_with_a_reason() {
    let fleet = fleet();
    for body in [
        "not json",
        r#"{"applicationSetName":"previews","input":{"parameters":{"service":3}}}"#,
        r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web","number":"4x"}}}"#,
        r#"{"applicationSetName":"previews","input":{"parameters":{"service":"web","number":-1}}}"#,
        r#"{"applicationSetName":"previews","input":{"parameters":{"number":"4"}}}"#,
        r#"{"applicationSetName":"previews","input":{"parameters":{"branch":"feature-branch-1"}}}"#,
        r#"{"applicationSetName":"previews","input":"x"}"#,
        r#"{"applicationSetName":7,"input":{}}"#,
        r#"{"applicationSetName":"elsewhere","input":{}}"#,
        r#"{"input":{}}"#,
        "[]",
    ] {
        let error = parse_request(body.as_bytes(), &fleet)
            .map(|(_, q)| q)
            .expect_err(body);
        assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{body}");
    }
}

#[test]
fn tokens_are_checked() {
    let mut headers = HeaderMap::new();
    assert!(matches!(
        authorize(&headers, "t0k"),
        Err(ApiError::Unauthorized)
    ));
    headers.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
    assert!(matches!(
        authorize(&headers, "t0k"),
        Err(ApiError::Unauthorized)
    ));
    headers.insert(
        header::AUTHORIZATION,
        "Bearer nope".parse().expect("header"),
    );
    assert!(matches!(
        authorize(&headers, "t0k"),
        Err(ApiError::Forbidden)
    ));
    headers.insert(header::AUTHORIZATION, "Bearer t0k".parse().expect("header"));
    assert!(authorize(&headers, "t0k\n").is_ok());
    headers.insert(header::AUTHORIZATION, "bearer t0k".parse().expect("header"));
    assert!(
        authorize(&headers, "t0k").is_ok(),
        "the scheme is case-insensitive"
    );
    headers.insert(header::AUTHORIZATION, "Bearer".parse().expect("header"));
    assert!(matches!(
        authorize(&headers, "t0k"),
        Err(ApiError::Unauthorized)
    ));
}

#[test]
fn serde_s_message_is_cut_and_kept_on_one_line() {
    let long = "\n".repeat(5_000);
    let body = serde_json::json!({"applicationSetName": "previews", "input": long});
    let Err(error) = parse_request(body.to_string().as_bytes(), &fleet()) else {
        panic!("answered");
    };
    let message = error.to_string();
    assert!(message.starts_with("request body is not a plugin request: invalid type"));
    assert!(message.ends_with('…'), "{message}");
    assert!(message.chars().count() < 300, "{message}");
}
