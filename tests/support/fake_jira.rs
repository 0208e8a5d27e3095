//! A stateful fake of Jira's comment API that speaks real HTTP on `127.0.0.1:0`, as Jira Cloud
//! (REST v3, ADF bodies, basic auth with [`EMAIL`] and [`TOKEN`]) or Jira Data Center (REST
//! v2, string bodies, bearer [`TOKEN`]).
//!
//! It serves `GET` and `POST /rest/api/{3|2}/issue/{key}/comment` for the issues added with
//! [`FakeJira::add_issue`]: pages honour `startAt`, `maxResults` (capped at 100 on Cloud, 50
//! on Data Center) and `orderBy=created|+created|-created`; comments carry `id`, `self`,
//! `author`, `body`, `created` and `updated` as Jira's do. Unknown issues answer `404`, bad
//! credentials `401`, both with Jira's `{"errorMessages": [...], "errors": {}}` body.
//!
//! Every request body is checked: on Cloud against the `addComment` request schema and its
//! `body` against the ADF schema (draft-04); on Data Center it must be `{"body": "<string>"}`.
//! Every page and created comment served is checked against the `getComments` /
//! `addComment` response schemas (and ADF on Cloud). A violation answers `400` like Jira and
//! fails the test when the fake drops, unless taken with [`FakeJira::take_violations`].
//!
//! ```ignore
//! let jira = FakeJira::start(Edition::Cloud).await;
//! jira.add_issue("ABC-1");
//! jira.rate_limit_next(17);
//! let rest = JiraRest::new(config(&jira))?;
//! ```

mod check;
mod model;
mod serve;

use std::sync::Mutex;
use std::time::Duration;

use preview_tower::jira::rest::Edition;
use url::Url;

use super::fake_server::FakeServer;
use model::State;
pub use model::{EMAIL, FakeComment, Fault, RequestRecord, TOKEN};

/// The fake server. Dropping it stops the server, and panics if anything broke the vendor's
/// schemas.
pub struct FakeJira {
    server: FakeServer<Mutex<State>>,
    url: Url,
    edition: Edition,
}

impl FakeJira {
    /// Starts a server on a free local port, in the current Tokio runtime.
    pub async fn start(edition: Edition) -> Self {
        let routes = axum::Router::new().fallback(serve::handle);
        let server = FakeServer::start(routes, |addr| {
            Mutex::new(State::new(edition, format!("http://{addr}")))
        })
        .await;
        let url = Url::parse(&format!("http://{}", server.addr())).expect("base URL");
        Self {
            server,
            url,
            edition,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        self.server.with(f)
    }

    /// The site's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// The edition it plays.
    pub fn edition(&self) -> Edition {
        self.edition
    }

    /// Adds an issue without comments (ids count up from 10000).
    pub fn add_issue(&self, key: &str) {
        self.with(|s| {
            let id = 10_000 + s.issues.len() as u64;
            s.issues.insert(
                key.to_owned(),
                model::Issue {
                    id,
                    comments: Vec::new(),
                },
            );
        });
    }

    /// Adds a comment by another user, saying `text`, in the edition's body format.
    pub fn add_foreign_comment(&self, key: &str, text: &str) {
        let body = model::foreign_body(self.edition, text);
        self.with(|s| s.store(key, body, false).map(|_| ()))
            .unwrap_or_else(|| panic!("fake Jira: add_issue({key:?}) first"));
    }

    /// The comments on `key`, oldest first.
    pub fn comments(&self, key: &str) -> Vec<FakeComment> {
        self.with(|s| {
            s.issues
                .get(key)
                .map(|i| i.comments.iter().map(model::Stored::view).collect())
                .unwrap_or_default()
        })
    }

    /// The next `n` requests answer `status` with a Jira error body.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.with(|s| {
            s.faults
                .extend(std::iter::repeat_n(Fault::Status(status), n))
        });
    }

    /// The next request answers `429` with `Retry-After: seconds` (and `X-RateLimit-Reset`).
    pub fn rate_limit_next(&self, seconds: u64) {
        self.with(|s| {
            s.faults.push_back(Fault::RateLimited {
                retry_after: seconds,
            })
        });
    }

    /// The next request waits `delay` before it is answered.
    pub fn stall_next(&self, delay: Duration) {
        self.with(|s| s.faults.push_back(Fault::Stall(delay)));
    }

    /// The next request gets a `200` HTML login page.
    pub fn malformed_next(&self) {
        self.with(|s| s.faults.push_back(Fault::Malformed));
    }

    /// Every request answers `503` until [`FakeJira::up`].
    pub fn down(&self) {
        self.with(|s| s.down = true);
    }

    /// Back to normal after [`FakeJira::down`].
    pub fn up(&self) {
        self.with(|s| s.down = false);
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.with(|s| s.log.clone())
    }

    /// How many `method` requests were answered.
    pub fn count(&self, method: &str) -> usize {
        self.with(|s| s.log.iter().filter(|r| r.method == method).count())
    }

    /// Conformance violations seen so far (also printed as they happen).
    pub fn violations(&self) -> Vec<String> {
        self.server.violations()
    }

    /// Returns and forgets the violations, for tests that send bad requests on purpose.
    pub fn take_violations(&self) -> Vec<String> {
        self.server.take_violations()
    }
}
