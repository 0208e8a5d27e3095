//! The plugin's answer as a response body: the snapshot's chunks sent one after the other,
//! with their exact total length, so that the response has a `Content-Length` and no chunked
//! transfer encoding.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::snapshot::Answer;

/// An [`Answer`] being sent.
pub(super) struct AnswerBody {
    answer: Answer,
    /// The next chunk to send.
    next: usize,
    /// Bytes not sent yet.
    remaining: u64,
}

impl AnswerBody {
    pub(super) fn new(answer: Answer) -> Self {
        Self {
            remaining: answer.len() as u64,
            answer,
            next: 0,
        }
    }
}

impl Body for AnswerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        while let Some(chunk) = this.answer.chunks().get(this.next) {
            this.next += 1;
            if !chunk.is_empty() {
                this.remaining -= chunk.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(chunk.clone()))));
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn the_size_hint_is_exact_until_the_last_frame() {
        let answer = Answer::from_chunks(vec![
            Bytes::from_static(b"{\"a\":"),
            Bytes::new(),
            Bytes::from_static(b"[1,2]"),
            Bytes::from_static(b"}"),
        ]);
        let mut body = AnswerBody::new(answer);
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.expect("infallible").into_data().expect("data");
            seen.extend_from_slice(&data);
            assert_eq!(
                body.size_hint().exact(),
                Some(11 - seen.len() as u64),
                "after {seen:?}"
            );
        }
        assert_eq!(seen, b"{\"a\":[1,2]}");
        assert!(body.is_end_stream());
    }
}
