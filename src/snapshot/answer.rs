//! Answer bodies as shared buffers: one per service, and answers made of slices of them.
//!
//! Every service's answer is one buffer, `{"output":{"parameters":[...]}}`; a preview's full set
//! is a slice of it, and the all-services answer is a list of slices of every service's buffer
//! with the bytes between them. Nothing here copies a set that another buffer already holds,
//! except into a service's new buffer when that service changed.

use std::sync::Arc;

use axum::body::Bytes;

/// What every answer starts with.
pub(super) const HEAD: &[u8] = br#"{"output":{"parameters":["#;
/// What every answer ends with.
pub(super) const TAIL: &[u8] = b"]}}";
const COMMA: &[u8] = b",";

/// An answer body: chunks that share the snapshot's buffers, sent one after the other.
///
/// Cloning it costs a reference count, whatever its size. Its length is known up front, so it
/// goes out with a `Content-Length`.
#[derive(Clone, Debug)]
pub struct Answer {
    chunks: Chunks,
    len: usize,
}

#[derive(Clone, Debug)]
enum Chunks {
    One(Bytes),
    Many(Arc<[Bytes]>),
}

impl Answer {
    pub(super) fn one(body: Bytes) -> Self {
        Self {
            len: body.len(),
            chunks: Chunks::One(body),
        }
    }

    /// An answer made of `chunks`, in order.
    pub fn from_chunks(chunks: impl Into<Arc<[Bytes]>>) -> Self {
        let chunks = chunks.into();
        Self {
            len: chunks.iter().map(Bytes::len).sum(),
            chunks: Chunks::Many(chunks),
        }
    }

    /// The body's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the body is empty (an answer never is).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunks, in order; empty chunks may occur.
    pub fn chunks(&self) -> &[Bytes] {
        match &self.chunks {
            Chunks::One(body) => std::slice::from_ref(body),
            Chunks::Many(chunks) => chunks,
        }
    }

    /// The body in one buffer: free for a one-chunk answer, a copy otherwise.
    pub fn to_bytes(&self) -> Bytes {
        match &self.chunks {
            Chunks::One(body) => body.clone(),
            Chunks::Many(chunks) => Bytes::from(chunks.concat()),
        }
    }
}

/// `{"output":{"parameters":[...]}}` around already serialized sets, in a buffer of exactly
/// its size.
pub(super) fn body<'a>(sets: impl IntoIterator<Item = &'a [u8]> + Clone) -> Bytes {
    let (count, bytes) = sets
        .clone()
        .into_iter()
        .fold((0, 0), |(n, len), set| (n + 1, len + set.len()));
    let mut out = Vec::with_capacity(HEAD.len() + bytes + count.max(1) - 1 + TAIL.len());
    out.extend_from_slice(HEAD);
    for (i, set) in sets.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(COMMA);
        }
        out.extend_from_slice(set);
    }
    out.extend_from_slice(TAIL);
    Bytes::from(out)
}

/// Where each set lies in a [`body`] of sets of these lengths.
pub(super) fn set_ranges(
    lengths: impl IntoIterator<Item = usize>,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let mut at = HEAD.len();
    lengths.into_iter().map(move |len| {
        let range = at..at + len;
        at += len + COMMA.len();
        range
    })
}

/// Whether `sets` are, in order, the very slices of `body` that [`body`] would have put there:
/// then a body built from them would be `body` again, byte for byte, and `body` can be reused.
/// Compares addresses only: equal addresses in a live buffer are the same bytes.
pub(super) fn spans_exactly(body: &Bytes, sets: &[&Bytes]) -> bool {
    let base = body.as_ptr() as usize;
    let lengths = sets.iter().map(|set| set.len());
    let mut end = HEAD.len();
    for (set, range) in sets.iter().zip(set_ranges(lengths)) {
        if set.as_ptr() as usize != base + range.start {
            return false;
        }
        end = range.end;
    }
    end + TAIL.len() == body.len()
}

/// The chunks of the answer that lists the sets of every body in `bodies`, in order: the
/// head, each non-empty body's sets (a slice of it) with commas between them, and the tail.
pub(super) fn joined<'a>(bodies: impl IntoIterator<Item = &'a Bytes>) -> Arc<[Bytes]> {
    let mut chunks = vec![Bytes::from_static(HEAD)];
    for body in bodies {
        let sets = body.slice(HEAD.len()..body.len() - TAIL.len());
        if sets.is_empty() {
            continue;
        }
        if chunks.len() > 1 {
            chunks.push(Bytes::from_static(COMMA));
        }
        chunks.push(sets);
    }
    chunks.push(Bytes::from_static(TAIL));
    chunks.into()
}
