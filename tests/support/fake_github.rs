//! A stateful fake of GitHub's REST API that speaks real HTTP on `127.0.0.1:0`.
//!
//! It answers as GitHub does for what preview-tower reads: pull-request lists (paginated at
//! `per_page` with a `Link` header pointing at `/repositories/{id}/pulls`, as GitHub's do),
//! the contents API, the check runs of a commit and the commits of a pull request (see
//! `checks`: no vendor schema for those), and the GitHub App flow (installation lookup with a
//! JWT whose signature is checked, installation tokens, `GET /app` with the JWT for the App's
//! slug). And for what preview-tower writes, as the account the credential stands for (an
//! installation token's App bot `<slug>[bot]`, any other token's `GET /user` login):
//! deployments and their statuses (newest first, filtered by `task`, `environment`, `sha`,
//! `ref`), comments on pull requests (oldest first), all paginated like the pulls, with
//! GitHub's rules that no schema states (unknown ref, auto-merge 202, pending-checks 409,
//! 140-character status descriptions) and an optional write-spacing rule answered with a
//! secondary rate limit.
//! And who may give `/preview` commands: collaborator permissions (`set_permission`).
//! And what people did on a pull request: its issue timeline (see `timeline`: pushes, label
//! changes, comments and reviews recorded by the helpers; no vendor schema for it).
//! And GitHub's GraphQL API (`POST /graphql`, `/api/graphql` beside Enterprise's `/api/v3`) for
//! the documents the service sends, from the same world, with its own budget and fault shapes
//! (see `graphql`: each document validated against GitHub's schema, executed generically).
//! Every answer carries `x-ratelimit-*` headers; `GET` 200s carry an `ETag` and
//! `If-None-Match` gets `304` without using rate limit. Errors are GitHub-shaped JSON. Every
//! JSON body served, and every request body received, is validated against the vendor
//! schemas (a request field the schema does not name counts too); a violation fails the test
//! when the fake drops.
//!
//! ```ignore
//! let github = FakeGitHub::start().await;
//! github.add_repo("acme/web");
//! github.open_pull("acme/web", FakePull::new(7).labels(&["preview"]).draft());
//! github.put_file("acme/web", &sha, ".preview.yaml", "ttl: 2d\n");
//! github.fail(FaultRule::new(Fault::Status(500)).endpoint(Endpoint::Pulls).times(1));
//! github.enforce_write_spacing(Duration::from_secs(1));
//! // ... then `github.deployments("acme/web")`, `github.comments("acme/web", 7)`.
//! let source = GitHubSource::new(github.url(), credentials, timeout)?;
//! ```
//!
//! Authentication: repository endpoints need a bearer token. Any token is accepted (see
//! [`FakeGitHub::accept_only_tokens`]) except a JWT, an unknown `ghs_` token, or an
//! installation token used outside its owner. Without credentials the (private) repositories
//! answer 404, as GitHub's do.

mod checks;
mod collaborators;
mod comments;
mod deployments;
mod endpoints;
mod fault;
mod graphql;
mod hooks;
mod model;
mod render;
mod reporting;
mod serve;
mod timeline;
mod trees;

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::Utc;
use url::Url;

pub use checks::FakeCheckRun;
pub use graphql::{Cost, graphql_cost};
use model::State;
pub use model::{AuthSeen, Endpoint, FakePull, Fault, FaultRule, Node, RequestRecord, sha1_hex};
pub use reporting::{FakeComment, FakeDeployment, FakeStatus};
pub use timeline::{LABELLER, Recorded};

use super::fake_server::FakeServer;

/// The fake server. Dropping it stops the server, and panics if any served body broke its
/// vendor schema.
pub struct FakeGitHub {
    server: FakeServer<Mutex<State>>,
    url: Url,
}

impl FakeGitHub {
    /// Starts a server on a free local port, in the current Tokio runtime.
    pub async fn start() -> Self {
        Self::start_at("").await
    }

    /// Like [`FakeGitHub::start`], with the API under `/api/v3` as on GitHub Enterprise Server.
    pub async fn start_enterprise() -> Self {
        Self::start_at("/api/v3").await
    }

    async fn start_at(prefix: &str) -> Self {
        let routes = axum::Router::new().fallback(serve::handle);
        let server = FakeServer::start(routes, |addr| {
            Mutex::new(State {
                base_url: format!("http://{addr}{prefix}"),
                prefix: prefix.to_owned(),
                reset_at: Utc::now().timestamp() + 3600,
                ..State::default()
            })
        })
        .await;
        let url = Url::parse(&format!("http://{}{prefix}", server.addr())).expect("base URL");
        Self { server, url }
    }

    /// GitHub goes away: new connections are closed at once (a transport error), until
    /// [`FakeGitHub::go_online`].
    pub fn go_offline(&self) {
        self.server.go_offline();
    }

    /// GitHub answers again.
    pub fn go_online(&self) {
        self.server.go_online();
    }

    /// The installation has `requests` requests left in its hour, and the hour ends `reset_in`
    /// from now: every counted answer spends one (`x-ratelimit-remaining` says how many are
    /// left), and once none is left every request gets GitHub's primary rate limit (`403`,
    /// `x-ratelimit-remaining: 0`, `x-ratelimit-reset` at the end of the hour) until then.
    pub fn limit_budget(&self, requests: u64, reset_in: std::time::Duration) {
        let reset_at = Utc::now().timestamp() + i64::try_from(reset_in.as_secs()).unwrap_or(0);
        self.with(|s| {
            s.budget = Some(model::Budget {
                left: requests,
                reset_at,
            })
        });
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        self.server.with(f)
    }

    /// The API base URL (`http://127.0.0.1:PORT`, plus `/api/v3` for Enterprise).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// Adds an empty repository `owner/name`.
    pub fn add_repo(&self, full_name: &str) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        self.with(|s| {
            let id = 1_000 + s.repos.len() as u64;
            let repo = model::Repo {
                id,
                owner: owner.to_owned(),
                name: name.to_owned(),
                pulls: Default::default(),
                trees: Default::default(),
                deployments: Vec::new(),
                comments: Vec::new(),
            };
            s.repos.insert(full_name.to_ascii_lowercase(), repo);
        });
    }

    /// Renames `old` to `new` (`owner/name`): requests naming `old` get a `301` to `new`.
    pub fn rename_repo(&self, old: &str, new: &str) {
        self.with(|s| {
            let mut repo = s
                .repos
                .remove(&old.to_ascii_lowercase())
                .expect("add_repo first");
            let (owner, name) = new.split_once('/').expect("owner/name");
            (repo.owner, repo.name) = (owner.to_owned(), name.to_owned());
            s.repos.insert(new.to_ascii_lowercase(), repo);
            s.renamed.insert(old.to_ascii_lowercase(), new.to_owned());
        });
    }

    /// The benchmarks' world: repositories `acme/svc-0`, `acme/svc-1`… (`services` of them, as
    /// the benches' fleet names them), each with pull requests `1..=pulls` labelled `preview`.
    pub fn open_labelled_pulls(&self, services: usize, pulls: u64) {
        for r in 0..services {
            let repo = format!("acme/svc-{r}");
            self.add_repo(&repo);
            for number in 1..=pulls {
                self.open_pull(&repo, FakePull::new(number).labels(&["preview"]));
            }
        }
    }

    /// Opens (or replaces) a pull request. Its timeline gets, now, the commit of its head and
    /// a `labeled` event per label.
    pub fn open_pull(&self, repo: &str, pull: FakePull) {
        self.with(|s| {
            let at = s.now();
            let (number, sha) = (pull.number, pull.head_sha.clone());
            let labels = pull.labels.clone();
            let held = s.repo_mut(repo);
            held.know_commit(&pull.head_sha);
            held.pulls.insert(pull.number, pull);
            timeline::record_event(s, repo, number, timeline::Recorded::Committed { sha, at });
            for name in labels {
                let actor = LABELLER.to_owned();
                let added = true;
                let event = timeline::Recorded::Label {
                    name,
                    added,
                    actor,
                    at,
                };
                timeline::record_event(s, repo, number, event);
            }
        });
    }

    /// Changes pull request `number` in place; `updated_at` becomes now. A new head is a
    /// push: the old one stays among the PR's commits, and the timeline gets a `committed`
    /// event; changed labels get `labeled` / `unlabeled` events (by [`LABELLER`]).
    pub fn edit_pull(&self, repo: &str, number: u64, edit: impl FnOnce(&mut FakePull)) {
        self.with(|s| {
            let offset = s.clock_offset;
            let pull = s
                .repo_mut(repo)
                .pulls
                .get_mut(&number)
                .unwrap_or_else(|| panic!("fake GitHub: no pull request #{number} in {repo}"));
            let old = pull.head_sha.clone();
            let old_labels = pull.labels.clone();
            edit(pull);
            let at = Utc::now() + offset;
            pull.updated_at = at;
            let (new, new_labels) = (pull.head_sha.clone(), pull.labels.clone());
            if new != old {
                checks::record_push(s, repo, number, &old);
                let event = timeline::Recorded::Committed { sha: new, at };
                timeline::record_event(s, repo, number, event);
            }
            let removed = old_labels.iter().filter(|l| !new_labels.contains(l));
            let removed: Vec<(String, bool)> = removed.map(|l| (l.clone(), false)).collect();
            let added = new_labels.iter().filter(|l| !old_labels.contains(l));
            let added: Vec<(String, bool)> = added.map(|l| (l.clone(), true)).collect();
            for (name, added) in removed.into_iter().chain(added) {
                let actor = LABELLER.to_owned();
                let event = timeline::Recorded::Label {
                    name,
                    added,
                    actor,
                    at,
                };
                timeline::record_event(s, repo, number, event);
            }
        });
    }

    /// New commits on the head branch: the head SHA becomes `new_sha`.
    pub fn push(&self, repo: &str, number: u64, new_sha: &str) {
        self.with(|s| s.repo_mut(repo).know_commit(new_sha));
        self.edit_pull(repo, number, |p| p.head_sha = new_sha.to_owned());
    }

    /// Like [`FakeGitHub::push`], but GitHub's read replicas do not know the commit yet: reads
    /// at it answer `404 No commit found for the ref` until [`FakeGitHub::know_commit`].
    pub fn push_unreplicated(&self, repo: &str, number: u64, new_sha: &str) {
        self.edit_pull(repo, number, |p| p.head_sha = new_sha.to_owned());
    }

    /// Moves the fake's clock `by` ahead of the machine's: the times of what the helpers do
    /// from now on (pushes, labels, comments, reviews, `updated_at`) are that much later. For
    /// tests that move the syncer's clock too, instead of waiting.
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.with(|s| s.clock_offset += by);
    }

    /// Replaces the labels.
    pub fn set_labels(&self, repo: &str, number: u64, labels: &[&str]) {
        self.edit_pull(repo, number, |p| {
            p.labels = labels.iter().map(|l| (*l).to_owned()).collect()
        });
    }

    /// Closes the pull request (it leaves `state=open` lists).
    pub fn close_pull(&self, repo: &str, number: u64) {
        self.edit_pull(repo, number, |p| p.closed_at = Some(Utc::now()));
    }

    /// `fault` on every request until cleared; [`Fault::None`] clears every rule.
    pub fn fail_with(&self, fault: Fault) {
        if fault == Fault::None {
            self.clear_faults();
        } else {
            self.fail(FaultRule::new(fault));
        }
    }

    /// `fault` on every request about `repo` until cleared.
    pub fn fail_repo_with(&self, repo: &str, fault: Fault) {
        self.fail(FaultRule::new(fault).repo(repo));
    }

    /// Adds a fault rule; the first matching rule wins.
    pub fn fail(&self, rule: FaultRule) {
        self.with(|s| s.faults.push(rule));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.with(|s| s.log.clone())
    }

    /// How many requests were answered for `endpoint`.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.with(|s| s.log.iter().filter(|r| r.endpoint == endpoint).count())
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.with(|s| s.log.clear());
    }

    /// Requests counted against the rate limit so far (a `304` is not).
    pub fn rate_limit_used(&self) -> u64 {
        self.with(|s| s.used)
    }

    /// Only these tokens (and issued installation tokens) are accepted from now on.
    pub fn accept_only_tokens(&self, tokens: &[&str]) {
        let set: HashSet<String> = tokens.iter().map(|t| (*t).to_owned()).collect();
        self.with(|s| s.accepted_tokens = Some(set));
    }

    /// Registers the GitHub App `app_id` whose JWTs must verify with `public_der` (PKCS#1
    /// `RSAPublicKey` DER, see `TestAppKey`).
    pub fn register_app(&self, app_id: u64, public_der: &[u8]) {
        self.with(|s| s.app = Some((app_id, public_der.to_vec())));
    }

    /// The App is installed on every repository of `owner`, as installation `id`.
    pub fn app_installation(&self, owner: &str, id: u64) {
        self.with(|s| s.installations.insert(owner.to_ascii_lowercase(), id));
    }

    /// Every issued installation token stops working (answers 401, as an expired one does).
    pub fn revoke_installation_tokens(&self) {
        self.with(|s| s.tokens.clear());
    }

    /// Installation tokens issued and still valid.
    pub fn installation_tokens(&self) -> Vec<String> {
        self.with(|s| s.tokens.keys().cloned().collect())
    }

    /// Schema violations seen so far (also printed as they happen).
    pub fn violations(&self) -> Vec<String> {
        self.server.violations()
    }

    /// Returns the violations seen so far and forgets them: for tests that send bad requests
    /// on purpose.
    pub fn take_violations(&self) -> Vec<String> {
        self.server.take_violations()
    }

    /// Panics when any served body broke its vendor schema.
    pub fn assert_conformant(&self) {
        self.server.assert_conformant();
    }
}
