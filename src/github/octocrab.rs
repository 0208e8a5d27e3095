//! [`GitHubSource`]: the [`super::PullRequestSource`] (see `pulls`) backed by GitHub's REST API
//! through octocrab, for github.com and GitHub Enterprise Server alike (the base URL is
//! injectable).
//!
//! It owns the HTTP clients, GitHub App installation lookup, and the `ETag`s of pull-request
//! list pages with the pull requests they decoded to (a `304 Not Modified` costs no rate limit
//! and no decoding). It must not retry, back off or
//! cache answers beyond those `ETag`s: [`crate::sync`] decides when to call again.
//! octocrab is built without its `retry` feature for that reason: one request, one attempt.
//! The one exception is octocrab's own: with an App, a `401` clears the installation token
//! and the request is sent once more with a fresh one.
//!
//! It is also the [`super::PreviewReporter`] (see `reporter`) and the [`super::Collaborators`]
//! (see `collaborators`): the same clients and errors.

mod activity;
mod bulk;
mod checks;
mod collaborators;
mod own;
mod pulls;
mod reporter;
mod transport;
mod wire;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ::octocrab::Octocrab;
use ::octocrab::models::{AppId, InstallationId};
use url::Url;

use super::GitHubError;
use super::auth::{self, Credentials};
use crate::naming::RepoName;
pub use bulk::{GraphqlMode, graphql_url};
use pulls::ListPage;
#[doc(hidden)]
pub use wire::graphql::example_documents;

/// Most pages read for one pull-request list (100 per page): a guard against link loops.
const MAX_PAGES: usize = 100;
/// Most pull-request list pages read at once (each about a megabyte of JSON at 100 PRs).
const LIST_READS: usize = 4;

/// Reads pull requests and files from GitHub over REST.
///
/// Cheap to share behind an `Arc`; concurrent calls are fine. Every request has the timeout
/// given to [`GitHubSource::new`] as its connect timeout, its write timeout and the deadline of each whole exchange.
pub struct GitHubSource {
    api_url: Url,
    /// Each exchange's deadline and the rate-limit record its answers update.
    exchange: transport::Exchange,
    auth: Auth,
    /// Per repository, the last pages of its pull-request list by route, with their `ETag`s.
    list_pages: Mutex<HashMap<RepoName, HashMap<String, ListPage>>>,
    /// Bounds the list pages read at once (see [`LIST_READS`]).
    list_reads: tokio::sync::Semaphore,
    /// The reporter's list pages (deployments, statuses, comments) with their `ETag`s.
    reads: reporter::PageCache,
    /// The build checks' answers and the pages of pull-request commits, with their `ETag`s.
    checks: checks::ChecksCache,
    /// preview-tower's own login, once read (see `own`): who its comments and deployments
    /// are by.
    own_login: tokio::sync::OnceCell<String>,
    /// The pull requests' timeline pages (activity), decoded, with their `ETag`s.
    timelines: activity::TimelineCache,
    /// The bulk reads' GraphQL client (`None`: every fact is read over REST).
    graphql: Option<bulk::Graphql>,
}

enum Auth {
    /// The token is kept for the GraphQL client, which sends it itself (see `bulk`).
    Token {
        client: Arc<Octocrab>,
        token: secrecy::SecretString,
    },
    /// `installations` is keyed by lower-cased owner. Clients are shared through `Arc`
    /// because cloning an `Octocrab` copies its token cache instead of sharing it.
    App {
        app: Box<Octocrab>,
        installations: Mutex<HashMap<String, Arc<Installation>>>,
    },
}

/// An owner's installation client, made once by the first call that needs it.
type Installation = tokio::sync::OnceCell<Arc<Octocrab>>;

/// A page with the `ETag` it came with and its `rel="next"` route (the reporter's reads).
#[derive(Clone)]
struct CachedPage {
    etag: String,
    body: bytes::Bytes,
    next: Option<String>,
}

impl GitHubSource {
    /// A source talking to the REST API at `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` for Enterprise Server). Must be called inside a Tokio runtime.
    ///
    /// Fails with [`GitHubError::Auth`] on invalid credentials and [`GitHubError::Transport`]
    /// on an unusable URL.
    pub fn new(
        api_url: Url,
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<Self, GitHubError> {
        crate::tls::install_crypto_provider();
        if !matches!(api_url.scheme(), "http" | "https") || api_url.host().is_none() {
            return Err(GitHubError::Transport(format!(
                "the GitHub API URL {api_url} is not an http(s) URL"
            )));
        }
        // octocrab spawns its request buffer on the current runtime, and panics without one.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(GitHubError::Transport(
                "the GitHub client must be built inside a Tokio runtime".to_owned(),
            ));
        }
        let builder = Octocrab::builder()
            .base_uri(api_url.as_str())
            .map_err(|e| GitHubError::Transport(format!("invalid GitHub API URL {api_url}: {e}")))?
            .set_connect_timeout(Some(timeout))
            // No read timeout: hyper-timeout's starts counting while a kept-alive connection
            // sits idle in the pool, and a new request does not restart it, so a request on a
            // connection idle for about the timeout failed. Every exchange has an overall
            // deadline instead (`transport::within`).
            .set_write_timeout(Some(timeout));
        let build_error = |e: ::octocrab::Error| {
            GitHubError::Transport(format!("cannot build the GitHub client: {e}"))
        };
        // Normalised, not only checked: octocrab panics on a token that is no header value.
        let credentials = credentials
            .normalized()
            .map_err(|e| GitHubError::Auth(e.to_string()))?;
        let graphql = Some(bulk::Graphql::new(&graphql_url(&api_url), timeout)?);
        let auth = match credentials {
            Credentials::Token(token) => Auth::Token {
                client: Arc::new(
                    builder
                        .personal_token(token.clone())
                        .build()
                        .map_err(build_error)?,
                ),
                token,
            },
            Credentials::App {
                app_id,
                private_key,
            } => {
                let key = auth::encoding_key(&private_key)
                    .map_err(|e| GitHubError::Auth(e.to_string()))?;
                Auth::App {
                    app: Box::new(
                        builder
                            .app(AppId(app_id), key)
                            .build()
                            .map_err(build_error)?,
                    ),
                    installations: Mutex::new(HashMap::new()),
                }
            }
        };
        Ok(Self {
            api_url,
            exchange: transport::Exchange {
                timeout,
                rate: Arc::default(),
            },
            auth,
            list_pages: Mutex::new(HashMap::new()),
            list_reads: tokio::sync::Semaphore::new(LIST_READS),
            reads: reporter::PageCache::default(),
            checks: checks::ChecksCache::default(),
            own_login: tokio::sync::OnceCell::new(),
            timelines: activity::TimelineCache::default(),
            graphql,
        })
    }

    /// Whether and where facts are read in bulk through GitHub's GraphQL API (by default at
    /// the endpoint [`graphql_url`] derives from the REST base URL).
    pub fn with_graphql(mut self, mode: GraphqlMode) -> Result<Self, GitHubError> {
        self.graphql = match mode {
            GraphqlMode::Off => None,
            GraphqlMode::On(url) => {
                let url = url.unwrap_or_else(|| graphql_url(&self.api_url));
                Some(bulk::Graphql::new(&url, self.exchange.timeout)?)
            }
        };
        Ok(self)
    }

    /// This client's rate-limit record: what GitHub's answers said of the budget, and how many
    /// answers there were. The sync holds polling off with it; `serve` registers its gauges.
    pub fn rate_limits(&self) -> Arc<crate::github::rate::RateLimits> {
        Arc::clone(&self.exchange.rate)
    }

    /// The client that may read `repo`: the token client, or the App's installation client
    /// for the repository's owner, looked up and given its first token once, then kept.
    /// Concurrent first calls for one owner (the first refreshes of its repositories) wait for
    /// the same lookup instead of each looking up the installation and minting a token.
    async fn client(&self, repo: &RepoName) -> Result<Arc<Octocrab>, GitHubError> {
        let (app, installations) = match &self.auth {
            Auth::Token { client, .. } => return Ok(Arc::clone(client)),
            Auth::App { app, installations } => (app, installations),
        };
        let owner = repo.owner().to_ascii_lowercase();
        let installation = Arc::clone(lock(installations).entry(owner).or_default());
        installation
            .get_or_try_init(|| self.installation_client(app, repo))
            .await
            .map(Arc::clone)
    }

    /// Looks up the installation of `repo`'s owner and mints its first token (cached in the
    /// client, which renews it when it expires), under the exchange's deadline.
    async fn installation_client(
        &self,
        app: &Octocrab,
        repo: &RepoName,
    ) -> Result<Arc<Octocrab>, GitHubError> {
        let route = wire::installation_route(repo);
        let answer = transport::get(app, &route, None, &self.exchange).await?;
        if !answer.status.is_success() {
            return Err(installation_error(repo, &answer));
        }
        #[derive(serde::Deserialize)]
        struct Found {
            id: u64,
        }
        let found: Found = serde_json::from_slice(&answer.body).map_err(|e| {
            GitHubError::Auth(format!("unreadable GitHub App installation of {repo}: {e}"))
        })?;
        let minted = tokio::time::timeout(
            self.exchange.timeout,
            app.installation_and_token(InstallationId(found.id)),
        )
        .await
        .map_err(|_elapsed| GitHubError::Timeout)?;
        let (client, _token) = minted.map_err(|e| transport::from_octocrab(&e))?;
        Ok(Arc::new(client))
    }

    /// Logs the outcome of one operation, and forgets the installation of `repo` when its
    /// token could not be had (it may have been removed and installed again).
    fn finish<T>(
        &self,
        repo: &RepoName,
        operation: &str,
        started: Instant,
        result: &Result<T, GitHubError>,
    ) {
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(_) => tracing::debug!(%repo, operation, outcome = "ok", duration_ms, "GitHub call"),
            Err(error) => {
                tracing::debug!(%repo, operation, outcome = error.kind(), %error, duration_ms, "GitHub call failed");
                if let (GitHubError::Auth(_), Auth::App { installations, .. }) = (error, &self.auth)
                {
                    lock(installations).remove(&repo.owner().to_ascii_lowercase());
                }
            }
        }
    }
}

/// A failed installation lookup: rate limits and server errors keep their meaning, anything
/// else means the App cannot act on this repository.
fn installation_error(repo: &RepoName, answer: &transport::Answer) -> GitHubError {
    match transport::status_error(answer) {
        GitHubError::Unauthorized(message) => {
            GitHubError::Auth(format!("GitHub rejected the App's JWT: {message}"))
        }
        GitHubError::Upstream { status, message } if status < 500 => GitHubError::Auth(format!(
            "the GitHub App is not installed on {repo} ({status}: {message})"
        )),
        other => other,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold caches only: a panic elsewhere cannot leave them inconsistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for GitHubSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            Auth::Token { .. } => "token",
            Auth::App { .. } => "app",
        };
        f.debug_struct("GitHubSource")
            .field("api_url", &self.api_url.as_str())
            .field("auth", &auth)
            .field("timeout", &self.exchange.timeout)
            .finish_non_exhaustive()
    }
}
