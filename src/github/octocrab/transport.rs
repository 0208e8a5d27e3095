//! One request to GitHub through octocrab (a GET, or a POST/PATCH with a JSON body), and how
//! its failures become [`GitHubError`]s.
//!
//! octocrab's raw calls (`_get_with_headers`, `build_request` + `execute`) are used on purpose:
//! they hand back the status, the headers (rate limits, `ETag`, `Link`) and the bytes, so this
//! module decides what each answer means, and a `202` is never mistaken for a created object.
//! It must not retry: octocrab is built without its `retry` feature and [`crate::sync`] backs off.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::octocrab::Octocrab;
use http::header::{ACCEPT, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use crate::github::GitHubError;
use crate::github::rate::RateLimits;

/// What every exchange with GitHub shares: its deadline and where its rate-limit headers go.
#[derive(Clone, Debug)]
pub(super) struct Exchange {
    /// The deadline of each whole exchange (and the connect and write timeouts).
    pub timeout: Duration,
    /// The client's rate-limit record.
    pub rate: Arc<RateLimits>,
}

/// GitHub's answer to one request, body read in full.
pub(super) struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: bytes::Bytes,
}

impl Answer {
    /// The value of header `name` as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// GETs `route` (a path with query, relative to the API base URL) within the exchange's deadline, sending
/// `If-None-Match: etag` when given. Non-2xx answers come back as `Ok`: the caller knows
/// what a 404 means for its operation.
pub(super) async fn get(
    crab: &Octocrab,
    route: &str,
    etag: Option<&str>,
    exchange: &Exchange,
) -> Result<Answer, GitHubError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    if let Some(value) = etag.and_then(|etag| HeaderValue::from_str(etag).ok()) {
        headers.insert(IF_NONE_MATCH, value);
    }
    within(exchange, crab._get_with_headers(route, Some(headers))).await
}

/// Sends `body` as JSON to `route` with `method` (`POST` or `PATCH`) within the deadline. Like
/// [`get`], non-2xx answers come back as `Ok`. The body is serialized here, by serde, exactly
/// as given: no builder adds or drops fields.
pub(super) async fn write<B: serde::Serialize + ?Sized>(
    crab: &Octocrab,
    method: Method,
    route: &str,
    body: &B,
    exchange: &Exchange,
) -> Result<Answer, GitHubError> {
    let builder = http::Request::builder()
        .method(method)
        .uri(route)
        .header(ACCEPT, "application/vnd.github+json");
    let request = crab
        .build_request(builder, Some(body))
        .map_err(|e| GitHubError::Transport(format!("cannot build the request: {e}")))?;
    within(exchange, crab.execute(request)).await
}

/// POSTs a GraphQL request `body` to `route` (a path on `crab`'s base: the GraphQL
/// endpoint's) with `Authorization: Bearer <bearer>` set here, within the deadline. `crab`
/// has no credentials of its own: octocrab sends its own only to the REST base, and GitHub
/// Enterprise Server's GraphQL endpoint is not under it. `Ok(None)`: the answer was longer
/// than `cap` bytes (not read further). Like [`get`], non-2xx answers come back as `Ok`.
pub(super) async fn post_graphql(
    crab: &Octocrab,
    route: &str,
    bearer: &secrecy::SecretString,
    body: &serde_json::Value,
    cap: usize,
    exchange: &Exchange,
) -> Result<Option<Answer>, GitHubError> {
    use secrecy::ExposeSecret as _;
    let mut authorization = HeaderValue::from_str(&format!("Bearer {}", bearer.expose_secret()))
        .map_err(|_| GitHubError::Auth("the GitHub token is not a header value".to_owned()))?;
    authorization.set_sensitive(true);
    let builder = http::Request::builder()
        .method(Method::POST)
        .uri(route)
        .header(ACCEPT, "application/json")
        .header(http::header::AUTHORIZATION, authorization);
    let request = crab
        .build_request(builder, Some(body))
        .map_err(|e| GitHubError::Transport(format!("cannot build the request: {e}")))?;
    let rate = &exchange.rate;
    let answer = async {
        let response = crab.execute(request).await;
        let (parts, body) = response.map_err(|e| from_octocrab(&e))?.into_parts();
        rate.observe(&parts.headers);
        let over = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|length| length > cap);
        if over {
            return Ok(None);
        }
        match http_body_util::Limited::new(body, cap).collect().await {
            Ok(collected) => Ok(Some(Answer {
                status: parts.status,
                headers: parts.headers,
                body: collected.to_bytes(),
            })),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => Ok(None),
            Err(error) => Err(GitHubError::Transport(clean(&error.to_string()))),
        }
    };
    tokio::time::timeout(exchange.timeout, answer)
        .await
        .unwrap_or(Err(GitHubError::Timeout))
}

/// Runs one exchange and reads the whole body under one deadline: octocrab's connect and
/// write timeouts apply per socket operation (and no read timeout is set, see
/// `GitHubSource::new`), so without it a server that trickles bytes would never be left.
async fn within(
    exchange: &Exchange,
    response: impl Future<Output = octocrab::Result<http::Response<ResponseBody>>>,
) -> Result<Answer, GitHubError> {
    let rate = &exchange.rate;
    let answer = async {
        let (parts, body) = response.await?.into_parts();
        rate.observe(&parts.headers);
        let body = body.collect().await?.to_bytes();
        Ok::<_, octocrab::Error>(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    };
    match tokio::time::timeout(exchange.timeout, answer).await {
        Err(_elapsed) => Err(GitHubError::Timeout),
        Ok(Err(error)) => Err(from_octocrab(&error)),
        Ok(Ok(answer)) => Ok(answer),
    }
}

/// octocrab's response body type.
type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, octocrab::Error>;

/// Maps an octocrab error from a raw request. The raw calls never map HTTP statuses, so a
/// `GitHub` error here can only come from the installation-token exchange octocrab does
/// before the request itself.
pub(super) fn from_octocrab(error: &octocrab::Error) -> GitHubError {
    match error {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code;
            match rate_limited(status, source.headers.as_ref(), &source.message) {
                Some(limited) => limited,
                None => GitHubError::Auth(format!(
                    "GitHub refused to issue an installation token ({status}): {}",
                    clean(&source.message)
                )),
            }
        }
        octocrab::Error::JWT { source, .. } => {
            GitHubError::Auth(format!("cannot sign the GitHub App JWT: {source}"))
        }
        octocrab::Error::Json { .. } | octocrab::Error::Serde { .. } => {
            GitHubError::Auth(format!("unreadable installation token answer: {error}"))
        }
        _ if timed_out(error) => GitHubError::Timeout,
        _ => GitHubError::Transport(chain(error)),
    }
}

/// Maps a non-2xx answer whose meaning does not depend on the operation.
pub(super) fn status_error(answer: &Answer) -> GitHubError {
    let message = message(answer);
    if let Some(limited) = rate_limited(answer.status, Some(&answer.headers), &message) {
        return limited;
    }
    match answer.status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => GitHubError::Unauthorized(message),
        status => GitHubError::Upstream {
            status: status.as_u16(),
            message,
        },
    }
}

/// GitHub's `message` from an error body, or a short, printable summary of the body.
pub(super) fn message(answer: &Answer) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    let text = match serde_json::from_slice::<ErrorBody>(&answer.body) {
        Ok(body) => body.message,
        Err(_) => String::from_utf8_lossy(&answer.body).into_owned(),
    };
    let text = clean(&text);
    if text.is_empty() {
        answer
            .status
            .canonical_reason()
            .unwrap_or("no message")
            .to_owned()
    } else {
        text
    }
}

/// Primary limit: 403/429 with `x-ratelimit-remaining: 0`, come back at `x-ratelimit-reset`.
/// Secondary limit: 403/429 with `retry-after`, or a message that says so; any 429.
fn rate_limited(
    status: StatusCode,
    headers: Option<&HeaderMap>,
    message: &str,
) -> Option<GitHubError> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let seconds = |name| headers.and_then(|h| header(h, name)?.trim().parse::<u64>().ok());
    let retry_after = seconds("retry-after").map(Duration::from_secs);
    let exhausted = headers.and_then(|h| header(h, "x-ratelimit-remaining")) == Some("0");
    let until_reset = seconds("x-ratelimit-reset").map(|reset| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Duration::from_secs(reset.saturating_sub(now))
    });
    let says_so = message.to_ascii_lowercase().contains("rate limit");
    if retry_after.is_some() || exhausted || says_so || status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = retry_after.or(if exhausted { until_reset } else { None });
        Some(GitHubError::RateLimited { retry_after })
    } else {
        None
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok()
}

/// Whether any error in the chain is an I/O timeout (hyper-timeout's connect or read timeout).
fn timed_out(error: &octocrab::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(cause) = current {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        current = cause.source();
    }
    false
}

/// The error and its causes on one line, skipping causes already quoted by their parent.
fn chain(error: &octocrab::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut current = error.source();
    while let Some(cause) = current {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    clean(&parts.join(": "))
}

/// At most 300 printable characters on one line.
fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        Answer {
            status: StatusCode::from_u16(status).expect("status"),
            headers: map,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn forbidden_without_rate_limit_signs_is_unauthorized() {
        let a = answer(
            403,
            &[("x-ratelimit-remaining", "4999")],
            r#"{"message":"Nope"}"#,
        );
        assert!(matches!(status_error(&a), GitHubError::Unauthorized(m) if m == "Nope"));
    }

    #[test]
    fn exhausted_primary_limit_waits_for_the_reset() {
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            + 120;
        let a = answer(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset.to_string()),
            ],
            r#"{"message":"API rate limit exceeded"}"#,
        );
        let wait = status_error(&a).retry_after().expect("retry after");
        assert!(
            wait <= Duration::from_secs(120) && wait >= Duration::from_secs(100),
            "{wait:?}"
        );
    }

    #[test]
    fn retry_after_wins_and_any_429_is_a_limit() {
        let a = answer(429, &[("retry-after", "7")], "");
        assert_eq!(status_error(&a).retry_after(), Some(Duration::from_secs(7)));
        let bare = answer(429, &[], "");
        assert!(matches!(
            status_error(&bare),
            GitHubError::RateLimited { retry_after: None }
        ));
    }

    #[test]
    fn other_statuses_keep_their_code_and_a_short_message() {
        let long = "x".repeat(1000);
        let a = answer(502, &[], &long);
        match status_error(&a) {
            GitHubError::Upstream { status, message } => {
                assert_eq!(status, 502);
                assert!(message.chars().count() <= 301);
            }
            other => panic!("{other:?}"),
        }
        let empty = answer(500, &[], "");
        assert!(
            matches!(status_error(&empty), GitHubError::Upstream { message, .. } if message == "Internal Server Error")
        );
    }
}
