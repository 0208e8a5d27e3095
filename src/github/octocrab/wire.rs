//! GitHub's REST shapes as far as preview-tower reads them, and their translation into domain
//! types. Pure functions over bytes and headers: no I/O, no octocrab.
//!
//! Only the fields we use are declared (GitHub adds fields freely); a field we use that is
//! missing or of the wrong type makes the whole answer [`GitHubError::Malformed`].

pub(super) mod account;
pub(super) mod activity;
pub(super) mod checks;
pub(super) mod graphql;
pub(super) mod report;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use url::Url;

use crate::github::GitHubError;
use crate::naming::RepoName;
use crate::pull_request::{ConfigFile, PullRequest, is_full_sha};
use crate::repo_config::MAX_FILE_BYTES;

/// Characters left as they are in a path segment or query value: RFC 3986 unreserved.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// First page of the open pull requests of `repo`, 100 per page (GitHub's maximum).
pub(super) fn pulls_route(repo: &RepoName) -> String {
    // Owner and name are validated to `[A-Za-z0-9._-]`: nothing to encode.
    format!(
        "/repos/{}/{}/pulls?state=open&per_page=100",
        repo.owner(),
        repo.name()
    )
}

/// One pull request of `repo`.
pub(super) fn pull_route(repo: &RepoName, number: u64) -> String {
    format!("/repos/{}/{}/pulls/{number}", repo.owner(), repo.name())
}

/// `GET /repos/{o}/{r}/installation`: which installation of the App covers `repo`.
pub(super) fn installation_route(repo: &RepoName) -> String {
    format!("/repos/{}/{}/installation", repo.owner(), repo.name())
}

/// The contents of `path` (each segment percent-encoded; empty means the repository root) at
/// commit `sha`.
pub(super) fn contents_route(repo: &RepoName, path: &str, sha: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| utf8_percent_encode(segment, UNRESERVED).to_string())
        .collect();
    format!(
        "/repos/{}/{}/contents/{}?ref={}",
        repo.owner(),
        repo.name(),
        encoded.join("/"),
        utf8_percent_encode(sha, UNRESERVED)
    )
}

/// The `rel="next"` target of a `Link` header, as a route relative to the API host.
///
/// octocrab attaches installation tokens only to relative routes (or `api.github.com`), so an
/// absolute next link on GitHub Enterprise would go out unauthenticated: it is made relative
/// here, after checking that it points at the API we talk to.
pub(super) fn next_route(
    headers: &HeaderMap,
    api_url: &Url,
) -> Result<Option<String>, GitHubError> {
    let Some(link) = headers.get("link").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let next = link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
    });
    let Some(next) = next else { return Ok(None) };
    let url = api_url
        .join(next)
        .map_err(|e| GitHubError::Malformed(format!("unreadable Link header: {e}")))?;
    if url.origin() != api_url.origin() {
        return Err(GitHubError::Malformed(format!(
            "the next page link points outside {}",
            api_url.origin().ascii_serialization()
        )));
    }
    Ok(Some(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }))
}

#[derive(Deserialize)]
struct WirePull {
    number: u64,
    state: String,
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    draft: Option<bool>,
    user: Option<WireUser>,
    labels: Vec<WireLabel>,
    head: WireRef,
    base: WireRef,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct WireUser {
    login: String,
}

#[derive(Deserialize)]
struct WireLabel {
    name: String,
}

#[derive(Deserialize)]
struct WireRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    repo: Option<WireRepo>,
}

#[derive(Deserialize)]
struct WireRepo {
    full_name: String,
}

/// One page of `GET /repos/{o}/{r}/pulls`, open pull requests only.
pub(super) fn decode_pulls(body: &[u8]) -> Result<Vec<PullRequest>, GitHubError> {
    let page: Vec<WirePull> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable pull request list: {e}")))?;
    page.into_iter()
        .filter(|pull| pull.state == "open")
        .map(into_pull_request)
        .collect()
}

/// `GET /repos/{o}/{r}/pulls/{n}`: the PR when open, `None` when closed or merged.
pub(super) fn decode_pull(body: &[u8]) -> Result<Option<PullRequest>, GitHubError> {
    let pull: WirePull = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable pull request: {e}")))?;
    match pull.state.as_str() {
        "open" => into_pull_request(pull).map(Some),
        _ => Ok(None),
    }
}

fn into_pull_request(pull: WirePull) -> Result<PullRequest, GitHubError> {
    if !is_full_sha(&pull.head.sha) {
        return Err(GitHubError::Malformed(format!(
            "pull request #{} has head SHA {:?}, not 40 lowercase hex characters",
            pull.number, pull.head.sha
        )));
    }
    // A deleted fork leaves `head.repo` null: still a fork.
    let from_fork = match (&pull.head.repo, &pull.base.repo) {
        (Some(head), Some(base)) => !head.full_name.eq_ignore_ascii_case(&base.full_name),
        _ => true,
    };
    Ok(PullRequest {
        number: pull.number,
        title: pull.title,
        body: pull.body.unwrap_or_default(),
        branch: pull.head.name,
        target_branch: pull.base.name,
        head_sha: pull.head.sha,
        // A deleted account shows as null: GitHub displays such authors as `ghost`.
        author: pull.user.map_or_else(|| "ghost".to_owned(), |u| u.login),
        labels: pull.labels.into_iter().map(|l| l.name).collect(),
        draft: pull.draft.unwrap_or(false),
        from_fork,
        updated_at: pull.updated_at,
    })
}

#[derive(Deserialize)]
struct WireEntry {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    sha: String,
    size: Option<u64>,
    content: Option<String>,
    encoding: Option<String>,
    target: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireContents {
    Directory(Vec<WireEntry>),
    Entry(WireEntry),
}

fn decode_contents(body: &[u8]) -> Result<WireContents, GitHubError> {
    serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable contents answer: {e}")))
}

/// What `GET /repos/{o}/{r}/contents/{path}` (200) says about `path`.
pub(super) fn decode_file(body: &[u8], path: &str) -> Result<ConfigFile, GitHubError> {
    let entry = match decode_contents(body)? {
        WireContents::Directory(_) => return Ok(unreadable(path, "is a directory")),
        WireContents::Entry(entry) => entry,
    };
    match entry.kind.as_str() {
        "file" => decode_file_entry(entry, path),
        "symlink" => Ok(unreadable(
            path,
            &format!(
                "is a symbolic link to {:?}, which is not a file in the repository",
                entry.target.unwrap_or_default()
            ),
        )),
        "submodule" => Ok(unreadable(path, "is a git submodule")),
        "dir" => Ok(unreadable(path, "is a directory")),
        other => Err(GitHubError::Malformed(format!(
            "contents of {path} have unknown type {other:?}"
        ))),
    }
}

fn decode_file_entry(entry: WireEntry, path: &str) -> Result<ConfigFile, GitHubError> {
    let too_large = |size: u64| too_large(path, size);
    let size = entry.size.unwrap_or(0);
    if size > MAX_FILE_BYTES as u64 {
        return Ok(too_large(size));
    }
    if entry.encoding.as_deref() != Some("base64") {
        // GitHub answers `"encoding": "none"` with empty content for files over 1 MB.
        return Ok(too_large(size));
    }
    // GitHub wraps the base64 text every 60 characters.
    let packed: Vec<u8> = entry
        .content
        .unwrap_or_default()
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(packed)
        .map_err(|e| GitHubError::Malformed(format!("content of {path} is not base64: {e}")))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Ok(too_large(bytes.len() as u64));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(ConfigFile::Present(text)),
        Err(_) => Ok(unreadable(path, "is not UTF-8 text")),
    }
}

/// A file over [`MAX_FILE_BYTES`], in the words every read uses.
pub(super) fn too_large(path: &str, size: u64) -> ConfigFile {
    unreadable(
        path,
        &format!("is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit"),
    )
}

/// A path that is not a readable file, with why.
pub(super) fn unreadable(path: &str, why: &str) -> ConfigFile {
    ConfigFile::Unreadable(format!("{path} {why}"))
}

/// The `sha` of the entry called `name` in a directory listing; `None` when there is no such
/// entry, or when the parent is not a directory.
pub(super) fn entry_sha(body: &[u8], name: &str) -> Result<Option<String>, GitHubError> {
    Ok(match decode_contents(body)? {
        WireContents::Directory(entries) => entries
            .into_iter()
            .find(|entry| entry.name == name)
            .map(|entry| entry.sha),
        WireContents::Entry(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn repo() -> RepoName {
        "acme/web".parse().expect("repo")
    }

    #[test]
    fn content_paths_are_encoded_per_segment() {
        let route = contents_route(&repo(), "deploy/my app/ü?.yaml", "abc");
        assert_eq!(
            route,
            "/repos/acme/web/contents/deploy/my%20app/%C3%BC%3F.yaml?ref=abc"
        );
        assert_eq!(
            contents_route(&repo(), "", "abc"),
            "/repos/acme/web/contents/?ref=abc"
        );
    }

    #[test]
    fn next_links_become_relative_routes_on_the_same_host() {
        let api: Url = "https://ghe.example.com/api/v3".parse().expect("url");
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://ghe.example.com/api/v3/repos/acme/web/pulls?page=2>; rel=\"next\", \
                 <https://ghe.example.com/api/v3/repos/acme/web/pulls?page=5>; rel=\"last\"",
            ),
        );
        let next = next_route(&headers, &api).expect("link");
        assert_eq!(next.as_deref(), Some("/api/v3/repos/acme/web/pulls?page=2"));

        headers.insert(
            "link",
            HeaderValue::from_static("<https://evil.example/x>; rel=\"next\""),
        );
        assert!(matches!(
            next_route(&headers, &api),
            Err(GitHubError::Malformed(_))
        ));
        headers.insert(
            "link",
            HeaderValue::from_static("<https://ghe.example.com/p>; rel=\"prev\""),
        );
        assert_eq!(next_route(&headers, &api).expect("no next"), None);
    }

    #[test]
    fn wrapped_base64_decodes_and_limits_apply() {
        let body = r#"{"type":"file","name":"a","sha":"1","size":5,"encoding":"base64","content":"aGVs\nbG8=\n"}"#;
        assert_eq!(
            decode_file(body.as_bytes(), "a").expect("ok"),
            ConfigFile::Present("hello".into())
        );
        let big = format!(
            r#"{{"type":"file","name":"a","sha":"1","size":{},"encoding":"none","content":""}}"#,
            2_000_000
        );
        assert!(
            matches!(decode_file(big.as_bytes(), "a").expect("ok"), ConfigFile::Unreadable(m) if m.contains("limit"))
        );
    }
}
