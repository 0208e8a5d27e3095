//! `X-Hub-Signature-256`: the HMAC-SHA256 of the raw body under the webhook secret, as
//! `sha256=` and 64 hex digits. The comparison is aws-lc-rs's `hmac::verify`, constant time.

use aws_lc_rs::hmac;

/// The header GitHub signs deliveries with (lower case, as `http` names headers).
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Why a delivery's signature was refused. The messages name the header and the likely fix,
/// never the secret or the expected value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header: the webhook has no secret, or the sender is not GitHub.
    #[error("missing X-Hub-Signature-256 header: give the webhook a secret")]
    Missing,
    /// A header that is not `sha256=` followed by 64 hex digits.
    #[error("malformed X-Hub-Signature-256 header: expected `sha256=` and 64 hex digits")]
    Malformed,
    /// A well-formed signature of some other body or secret.
    #[error(
        "X-Hub-Signature-256 does not match the body: the webhook's secret differs from preview-tower's"
    )]
    Mismatch,
}

impl SignatureError {
    /// A short, bounded label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Mismatch => "mismatch",
        }
    }
}

/// Checks that `header` (the `X-Hub-Signature-256` value) is the HMAC-SHA256 of `body` under
/// `secret`. `body` must be the bytes as received: re-serialized JSON would not match.
///
/// An empty `secret` never verifies (anyone can compute a MAC under the empty key): refuse an
/// empty secret at start-up rather than rely on this.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let tag = signature_tag(header)?;
    if secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag).map_err(|_| SignatureError::Mismatch)
}

/// The 32 bytes of a well-formed `X-Hub-Signature-256` value: what can be checked before the
/// body is read, so that a delivery without a signature costs no read.
pub fn signature_tag(header: Option<&str>) -> Result<[u8; 32], SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    decode_tag(hex).ok_or(SignatureError::Malformed)
}

/// The header value GitHub would send for `body` under `secret`: `sha256=` and lowercase hex.
/// For tests, replayers and the benchmark; the receiver only ever verifies.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, body);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in tag.as_ref() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 64 hex digits (either case) as 32 bytes.
fn decode_tag(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut tag = [0u8; 32];
    for (out, pair) in tag.iter_mut().zip(bytes.chunks_exact(2)) {
        *out = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(tag)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello, World!";
    /// GitHub's documented test vector.
    const VECTOR: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_test_vector_verifies() {
        assert_eq!(verify_signature(SECRET, BODY, Some(VECTOR)), Ok(()));
        assert_eq!(sign(SECRET, BODY), VECTOR);
    }

    #[test]
    fn uppercase_hex_and_surrounding_space_verify() {
        let upper = format!(
            " sha256={} ",
            VECTOR["sha256=".len()..].to_ascii_uppercase()
        );
        assert_eq!(verify_signature(SECRET, BODY, Some(&upper)), Ok(()));
    }

    #[test]
    fn missing_header_is_missing() {
        assert_eq!(
            verify_signature(SECRET, BODY, None),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn wrong_secret_is_a_mismatch() {
        let forged = sign(b"not the secret", BODY);
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&forged)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_body_changed_by_one_byte_is_a_mismatch() {
        let mut changed = BODY.to_vec();
        changed[0] ^= 0x01;
        assert_eq!(
            verify_signature(SECRET, &changed, Some(VECTOR)),
            Err(SignatureError::Mismatch)
        );
        let mut longer = BODY.to_vec();
        longer.push(b'\n');
        assert_eq!(
            verify_signature(SECRET, &longer, Some(VECTOR)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_malformed() {
        let digits = &VECTOR["sha256=".len()..];
        for header in [
            "",
            digits,
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
            "sha256=",
            &format!("sha256={}", &digits[..62]),
            &format!("sha256={digits}00"),
            &format!("sha256={}zz", &digits[..62]),
            &format!("SHA256={digits}"),
            &format!("sha256={}é", &digits[..62]),
        ] {
            assert_eq!(
                verify_signature(SECRET, BODY, Some(header)),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }

    #[test]
    fn an_empty_secret_never_verifies() {
        let signed = sign(b"", BODY);
        assert_eq!(
            verify_signature(b"", BODY, Some(&signed)),
            Err(SignatureError::Mismatch)
        );
    }
}
