//! The Jira REST adapter: [`JiraRest`] implements [`IssueNotifier`] over HTTP for Jira Cloud
//! (REST v3, ADF bodies, an account's email and API token as basic auth) and Jira Data Center
//! (REST v2, wiki-markup bodies, a personal access token as bearer auth).
//!
//! It makes exactly the calls it is asked for: no retries (the lifecycle worker backs off on
//! every [`JiraError`]) and no redirects (the credentials never travel to another host).
//! Every request carries the configured timeout. The token is exposed only where the
//! `Authorization` header is built, and never appears in `Debug` output or logs.

mod answer;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;

use super::{IssueNotifier, JiraError};
use crate::issues::{IssueKey, Note, render_adf, render_wiki, wiki_marker};
use answer::Reply;

/// Comments asked for per page (Jira Cloud's maximum; Data Center may answer fewer, which
/// the paging follows).
pub const PAGE_SIZE: u64 = 100;

/// Most comment pages [`JiraRest`] reads for one [`IssueNotifier::has_comment`]: 20 pages of
/// up to 100, newest first. On an issue with more comments than that, a marker older than
/// the newest 2000 comments is not seen and the note may be posted a second time, once.
pub const MAX_PAGES: u64 = 20;

/// Largest answer body read, in bytes; a bigger one is [`JiraError::Malformed`].
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Which Jira the adapter talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edition {
    /// Jira Cloud (`*.atlassian.net`): REST v3, comment bodies in ADF.
    Cloud,
    /// Jira Data Center / Server: REST v2, comment bodies in wiki markup.
    DataCenter,
}

impl Edition {
    /// The REST API version used for this edition: `3` for Cloud, `2` for Data Center.
    pub fn api_version(self) -> &'static str {
        match self {
            Edition::Cloud => "3",
            Edition::DataCenter => "2",
        }
    }
}

/// How the adapter authenticates. `Debug` shows the email but never a token.
#[derive(Clone, Debug)]
pub enum JiraAuth {
    /// Jira Cloud: `Authorization: Basic base64(email:token)` with an Atlassian API token.
    Basic {
        /// The account's email address.
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// Jira Data Center: `Authorization: Bearer <personal access token>`.
    Bearer {
        /// The personal access token.
        token: SecretString,
    },
}

/// Everything [`JiraRest::new`] needs. `Debug` is safe to log.
#[derive(Clone, Debug)]
pub struct JiraConfig {
    /// The site, e.g. `https://acme.atlassian.net` or `https://jira.acme.com/jira`; the REST
    /// paths are appended to it.
    pub base_url: Url,
    /// Cloud or Data Center.
    pub edition: Edition,
    /// Credentials.
    pub auth: JiraAuth,
    /// Deadline for each request, connecting included.
    pub timeout: Duration,
}

/// Jira comments over REST. Cheap to share behind an `Arc`; concurrent calls are fine.
pub struct JiraRest {
    client: reqwest::Client,
    base_url: Url,
    edition: Edition,
    auth: JiraAuth,
}

impl fmt::Debug for JiraRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraRest")
            .field("base_url", &self.base_url.as_str())
            .field("edition", &self.edition)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl JiraRest {
    /// An adapter for `config`. Fails with [`JiraError::Transport`] when the base URL is not
    /// `http(s)` or the HTTP client cannot be built.
    pub fn new(config: JiraConfig) -> Result<Self, JiraError> {
        let mut base_url = config.base_url;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(JiraError::Transport(format!(
                "Jira base URL {base_url} must be an http(s) URL"
            )));
        }
        base_url.set_query(None);
        base_url.set_fragment(None);
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("preview-tower/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JiraError::Transport(answer::error_chain(&e)))?;
        Ok(Self {
            client,
            base_url,
            edition: config.edition,
            auth: config.auth,
        })
    }

    /// `{base}/rest/api/{2|3}/issue/{key}/comment`, the key percent-encoded as a path segment.
    fn comments_url(&self, issue: &IssueKey) -> Url {
        let mut url = self.base_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend([
                "rest",
                "api",
                self.edition.api_version(),
                "issue",
                issue.as_str(),
                "comment",
            ]);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let request = self
            .client
            .request(method, url)
            .header(http::header::ACCEPT, "application/json");
        match &self.auth {
            JiraAuth::Basic { email, token } => {
                request.basic_auth(email, Some(token.expose_secret()))
            }
            JiraAuth::Bearer { token } => request.bearer_auth(token.expose_secret()),
        }
    }

    /// Sends `request` and reads the answer (at most [`MAX_BODY_BYTES`]).
    async fn send(&self, request: RequestBuilder) -> Result<Reply, JiraError> {
        let mut response = request.send().await.map_err(answer::send_error)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(answer::send_error)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(JiraError::Malformed(format!(
                    "answer larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Reads comment pages, newest first, until one carries the note's marker.
    async fn find(&self, issue: &IssueKey, note: &Note) -> Result<bool, JiraError> {
        let markers = [note.marker(), wiki_marker(note)];
        let mut start_at = 0;
        for _ in 0..MAX_PAGES {
            let mut url = self.comments_url(issue);
            url.query_pairs_mut()
                .append_pair("startAt", &start_at.to_string())
                .append_pair("maxResults", &PAGE_SIZE.to_string())
                .append_pair("orderBy", "-created");
            let page = self.send(self.request(Method::GET, url)).await?.page()?;
            if page
                .comments
                .iter()
                .any(|c| answer::mentions(&c.body, &markers))
            {
                return Ok(true);
            }
            start_at += page.comments.len() as u64;
            if page.comments.is_empty() || page.total.is_some_and(|total| start_at >= total) {
                return Ok(false);
            }
        }
        tracing::warn!(
            issue = %issue,
            pages = MAX_PAGES,
            "stopped reading Jira comments at the page limit; assuming the note is absent"
        );
        Ok(false)
    }

    async fn post(&self, issue: &IssueKey, note: &Note) -> Result<(), JiraError> {
        let body = match self.edition {
            Edition::Cloud => json!({ "body": render_adf(note) }),
            Edition::DataCenter => json!({ "body": render_wiki(note) }),
        };
        let request = self
            .request(Method::POST, self.comments_url(issue))
            .json(&body);
        self.send(request).await?.created()
    }

    fn log<T>(&self, op: &'static str, issue: &IssueKey, result: &Result<T, JiraError>, ok: &str) {
        match result {
            Ok(_) => {
                tracing::debug!(op, issue = %issue, edition = ?self.edition, outcome = ok, "jira call")
            }
            Err(error) => tracing::debug!(
                op,
                issue = %issue,
                edition = ?self.edition,
                outcome = error.kind(),
                error = %error,
                "jira call"
            ),
        }
    }
}

#[async_trait]
impl IssueNotifier for JiraRest {
    async fn has_comment(&self, issue: &IssueKey, note: &Note) -> Result<bool, JiraError> {
        let result = self.find(issue, note).await;
        let outcome = match result {
            Ok(true) => "found",
            _ => "absent",
        };
        self.log("has_comment", issue, &result, outcome);
        result
    }

    async fn comment(&self, issue: &IssueKey, note: &Note) -> Result<(), JiraError> {
        let result = self.post(issue, note).await;
        self.log("comment", issue, &result, "created");
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rest(base: &str, edition: Edition) -> JiraRest {
        JiraRest::new(JiraConfig {
            base_url: base.parse().unwrap(),
            edition,
            auth: JiraAuth::Bearer {
                token: SecretString::from("t0ken"),
            },
            timeout: Duration::from_secs(1),
        })
        .unwrap()
    }

    #[test]
    fn comment_urls_sit_under_the_base_path_in_the_editions_version() {
        let key: IssueKey = "ABC-12".parse().unwrap();
        let cases = [
            (
                "https://acme.atlassian.net",
                Edition::Cloud,
                "https://acme.atlassian.net/rest/api/3/issue/ABC-12/comment",
            ),
            (
                "https://jira.acme.com/jira/",
                Edition::DataCenter,
                "https://jira.acme.com/jira/rest/api/2/issue/ABC-12/comment",
            ),
            (
                "https://jira.acme.com/jira?x=1#top",
                Edition::DataCenter,
                "https://jira.acme.com/jira/rest/api/2/issue/ABC-12/comment",
            ),
        ];
        for (base, edition, want) in cases {
            assert_eq!(rest(base, edition).comments_url(&key).as_str(), want);
        }
    }
}
