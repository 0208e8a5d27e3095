//! [`parse_request`] on untrusted bodies: never a panic; a refusal is always a `400` with a
//! clear message; an answer is only for the fleet's ApplicationSet. Random input: arbitrary
//! bytes, near-valid envelopes, and valid shapes holding hostile values.

use axum::http::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::parse_request;
use crate::testing::fleet;
use crate::testing::untrusted::{self, hostile_bytes, hostile_number, hostile_text};

/// A value of any JSON type, strings and numbers hostile.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        hostile_text().prop_map(Value::from),
        hostile_number(),
        any::<bool>().prop_map(Value::from),
    ];
    let keys = prop::sample::select(vec![
        "applicationSetName",
        "input",
        "parameters",
        "service",
        "number",
        "branch",
        "head_sha",
        "web",
    ]);
    leaf.prop_recursive(3, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..5).prop_map(|map| {
                Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// The envelope Argo CD sends, each part valid or hostile.
fn envelope() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![Just(Value::from("previews")), hostile_value()];
    let service = prop_oneof![
        Just(Value::from("web")),
        Just(Value::from("api")),
        hostile_value()
    ];
    let number = prop_oneof![Just(Value::from("42")), hostile_number()];
    let branch = prop_oneof![Just(Value::Null), hostile_value()];
    (name, service, number, branch, any::<u8>()).prop_map(
        |(name, service, number, branch, shape)| {
            let parameters = match shape % 4 {
                0 => json!({}),
                1 => json!({"service": service}),
                2 => json!({"service": service, "number": number, "branch": branch}),
                _ => json!({"number": number, "branch": branch}),
            };
            let body = json!({"applicationSetName": name, "input": {"parameters": parameters}});
            serde_json::to_vec(&body).unwrap_or_default()
        },
    )
}

fn checked(body: &[u8]) -> Result<(), TestCaseError> {
    match parse_request(body, &fleet()) {
        Ok((appset, _)) => prop_assert_eq!(appset, "previews"),
        Err(error) => {
            prop_assert_eq!(error.status(), StatusCode::BAD_REQUEST);
            let message = error.to_string();
            prop_assert!(untrusted::is_clear(&message), "{:?}", message);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(untrusted::config())]

    #[test]
    fn arbitrary_bytes_are_refused_clearly(
        body in hostile_bytes(br#"{"applicationSetName":"previews","input":{"parameters":"#),
    ) {
        checked(&body)?;
    }

    #[test]
    fn any_json_is_answered_or_refused_clearly(value in hostile_value()) {
        checked(&serde_json::to_vec(&value).unwrap_or_default())?;
    }

    #[test]
    fn envelopes_with_hostile_values_are_answered_or_refused_clearly(body in envelope()) {
        checked(&body)?;
    }
}
