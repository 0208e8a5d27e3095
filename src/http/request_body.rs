//! Reading a request body whole, into one buffer, within limits: the one reader of the plugin
//! and the webhook receiver. Each caller gives its cap (bytes), optionally a deadline for the
//! body to arrive and a [`Reservation`] in a byte budget that grows as bytes arrive, and turns a
//! [`Refused`] into its own answer. The declared `Content-Length` only sizes the buffer (pages
//! are touched as bytes arrive); callers refuse an oversized declaration before reading.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};

use super::webhook::Reservation;

/// What a body is read within.
#[derive(Clone, Copy, Debug)]
pub(super) struct BodyLimits {
    /// Most bytes accepted.
    pub(super) cap: usize,
    /// How long the whole body may take to arrive; `None`: as long as the request may.
    pub(super) deadline: Option<Duration>,
}

/// Why a body was not read whole. All but [`Refused::Unreadable`] leave the rest of it unread
/// (the connection must then be closed).
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    /// More bytes than the cap arrived.
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// The byte budget is spent.
    #[error("too many request bodies being read")]
    OverBudget,
    /// The body did not arrive within the deadline.
    #[error("the body did not arrive within {} s", .0.as_secs())]
    Late(Duration),
    /// The body broke off (the client went away, a malformed chunk).
    #[error("cannot read the request body: {0}")]
    Unreadable(String),
}

/// The declared `Content-Length`, when it is a number.
pub(super) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The whole of `body` (declared `declared` bytes long), within `limits`, its bytes reserved
/// in `reservation` as they arrive when there is one.
pub(super) async fn read_body(
    mut body: Body,
    declared: Option<u64>,
    limits: BodyLimits,
    mut reservation: Option<&mut Reservation>,
) -> Result<Bytes, Refused> {
    use http_body_util::BodyExt as _;
    let capacity = declared.map_or(0, |length| usize::try_from(length).unwrap_or(0));
    let mut buffer = bytes::BytesMut::with_capacity(capacity.min(limits.cap));
    let read = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| Refused::Unreadable(error.to_string()))?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            if buffer.len() + data.len() > limits.cap {
                return Err(Refused::TooLarge(limits.cap));
            }
            if let Some(reservation) = reservation.as_deref_mut()
                && !reservation.grow(data.len())
            {
                return Err(Refused::OverBudget);
            }
            buffer.extend_from_slice(data);
        }
        Ok(())
    };
    match limits.deadline {
        Some(deadline) => match tokio::time::timeout(deadline, read).await {
            Ok(read) => read?,
            Err(_) => return Err(Refused::Late(deadline)),
        },
        None => read.await?,
    }
    Ok(buffer.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::webhook::ByteBudget;

    const LIMITS: BodyLimits = BodyLimits {
        cap: 8,
        deadline: None,
    };

    #[tokio::test]
    async fn a_body_up_to_the_cap_is_read_whole() {
        let read = read_body(Body::from("12345678"), Some(8), LIMITS, None).await;
        assert_eq!(read.expect("read").as_ref(), b"12345678");
    }

    #[tokio::test]
    async fn a_byte_past_the_cap_is_too_large() {
        let read = read_body(Body::from("123456789"), None, LIMITS, None).await;
        assert!(matches!(read, Err(Refused::TooLarge(8))), "{read:?}");
    }

    #[tokio::test]
    async fn bytes_past_the_budget_are_refused() {
        let budget = ByteBudget::new(4);
        let mut reservation = budget.reserve();
        let read = read_body(Body::from("12345"), None, LIMITS, Some(&mut reservation)).await;
        assert!(matches!(read, Err(Refused::OverBudget)), "{read:?}");
        let mut reservation = budget.reserve();
        let read = read_body(Body::from("1234"), None, LIMITS, Some(&mut reservation)).await;
        assert_eq!(read.expect("read").as_ref(), b"1234");
        assert_eq!(reservation.bytes(), 4, "held while the body is");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_does_not_arrive_in_time_is_late() {
        let body = Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
        let limits = BodyLimits {
            deadline: Some(Duration::from_secs(5)),
            ..LIMITS
        };
        let read = read_body(body, None, limits, None).await;
        let Err(refused @ Refused::Late(_)) = read else {
            panic!("{read:?}");
        };
        assert_eq!(refused.to_string(), "the body did not arrive within 5 s");
    }
}
