//! What the fake GitHub knows: repositories, pull requests, trees per commit, App
//! installations, injected faults and the request log. Plain data behind one mutex.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use chrono::{DateTime, Utc};

pub use super::fault::{Endpoint, Fault, FaultRule};
use super::reporting::{FakeComment, FakeDeployment, Reporting};
use crate::support::fake_server::Conformance;

/// 40 lowercase hex characters: the SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    digest(&SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A pull request as the fake holds it. Build with [`FakePull::new`] and the builder methods;
/// every field is public for tests that want to poke directly.
#[derive(Clone, Debug)]
pub struct FakePull {
    /// PR number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body (`None` is GitHub's null).
    pub body: Option<String>,
    /// Head branch (`head.ref`).
    pub branch: String,
    /// Base branch (`base.ref`).
    pub base: String,
    /// Head commit.
    pub head_sha: String,
    /// Base commit.
    pub base_sha: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Draft flag.
    pub draft: bool,
    /// Head lives in the author's fork.
    pub from_fork: bool,
    /// The fork was deleted: `head.repo` is null.
    pub fork_deleted: bool,
    /// Author login.
    pub author: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
    /// Set when closed.
    pub closed_at: Option<DateTime<Utc>>,
}

impl FakePull {
    /// PR `number` by `octocat` from branch `feature-{number}` into `main`, head SHA derived
    /// from the number, open, not a draft, no labels, same repository.
    pub fn new(number: u64) -> Self {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000 + number as i64 * 60, 0)
            .unwrap_or_default();
        Self {
            number,
            title: format!("Pull request #{number}"),
            body: Some(format!("Body of #{number}")),
            branch: format!("feature-{number}"),
            base: "main".to_owned(),
            head_sha: sha1_hex(format!("head of #{number}").as_bytes()),
            base_sha: sha1_hex(b"main"),
            labels: Vec::new(),
            draft: false,
            from_fork: false,
            fork_deleted: false,
            author: "octocat".to_owned(),
            created_at: at,
            updated_at: at,
            closed_at: None,
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    /// Sets the head branch.
    pub fn branch(mut self, branch: &str) -> Self {
        self.branch = branch.to_owned();
        self
    }

    /// Sets the base branch.
    pub fn base(mut self, base: &str) -> Self {
        self.base = base.to_owned();
        self
    }

    /// Sets the head SHA (not checked: tests may serve broken ones).
    pub fn head_sha(mut self, sha: &str) -> Self {
        self.head_sha = sha.to_owned();
        self
    }

    /// Sets the labels.
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    /// Marks as draft.
    pub fn draft(mut self) -> Self {
        self.draft = true;
        self
    }

    /// Head in the author's fork.
    pub fn fork(mut self) -> Self {
        self.from_fork = true;
        self
    }

    /// Head in a fork that was since deleted (`head.repo: null`).
    pub fn deleted_fork(mut self) -> Self {
        self.from_fork = true;
        self.fork_deleted = true;
        self
    }

    /// Sets the author login.
    pub fn author(mut self, login: &str) -> Self {
        self.author = login.to_owned();
        self
    }

    /// Sets `updated_at`.
    pub fn updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at = at;
        self
    }
}

/// How a request authenticated, as the fake understood it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthSeen {
    /// No `Authorization` header.
    None,
    /// A bearer token that is neither a JWT nor an installation token (a PAT).
    Token,
    /// A JWT signed by the registered App.
    AppJwt,
    /// A token issued for this installation.
    Installation(u64),
    /// A credential the fake refused.
    Rejected,
}

/// One request the fake answered.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// `GET`, `POST`...
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// Status answered.
    pub status: u16,
    /// Which operation.
    pub endpoint: Endpoint,
    /// `owner/name`, lower-cased, when the request is about a repository.
    pub repo: Option<String>,
    /// How it authenticated.
    pub auth: AuthSeen,
}

/// An object in a commit's tree.
#[derive(Clone, Debug)]
pub enum Node {
    /// A blob.
    File { bytes: Vec<u8>, sha: String },
    /// A tree.
    Dir { sha: String },
    /// A symbolic link.
    Symlink { target: String, sha: String },
    /// A gitlink.
    Submodule { url: String, sha: String },
}

impl Node {
    /// The object id.
    pub fn sha(&self) -> &str {
        match self {
            Self::File { sha, .. }
            | Self::Dir { sha }
            | Self::Symlink { sha, .. }
            | Self::Submodule { sha, .. } => sha,
        }
    }
}

/// A repository.
#[derive(Debug)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub pulls: BTreeMap<u64, FakePull>,
    /// Commit (or branch name) → path → object. The root is `""`.
    pub trees: HashMap<String, BTreeMap<String, Node>>,
    /// Deployments, oldest first, each with its statuses.
    pub deployments: Vec<FakeDeployment>,
    /// Comments on its pull requests, oldest first.
    pub comments: Vec<FakeComment>,
}

impl Repo {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Makes `commit` known, with an empty tree if it has none yet: a pushed commit exists
    /// even when no file was put in it.
    pub fn know_commit(&mut self, commit: &str) {
        self.trees
            .entry(commit.to_owned())
            .or_default()
            .entry(String::new())
            .or_insert_with(|| Node::Dir {
                sha: sha1_hex(format!("tree {commit}:").as_bytes()),
            });
    }

    /// Puts `node` at `path` in `commit`, creating parent directories.
    pub fn put(&mut self, commit: &str, path: &str, node: Node) {
        let tree = self.trees.entry(commit.to_owned()).or_default();
        let path = path.trim_matches('/');
        let mut parent = String::new();
        for segment in path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, p)| p)
        {
            parent = if parent.is_empty() {
                (*segment).to_owned()
            } else {
                format!("{parent}/{segment}")
            };
            tree.entry(parent.clone()).or_insert_with(|| Node::Dir {
                sha: sha1_hex(format!("tree {commit}:{parent}").as_bytes()),
            });
        }
        tree.entry(String::new()).or_insert_with(|| Node::Dir {
            sha: sha1_hex(format!("tree {commit}:").as_bytes()),
        });
        tree.insert(path.to_owned(), node);
    }
}

/// Everything, behind the fake's mutex.
#[derive(Default)]
pub struct State {
    /// API root as clients see it, prefix included (`http://127.0.0.1:PORT/api/v3`).
    pub base_url: String,
    /// Path prefix of the API (`""`, or `/api/v3` like GitHub Enterprise Server).
    pub prefix: String,
    pub repos: BTreeMap<String, Repo>,
    pub faults: Vec<FaultRule>,
    pub log: Vec<RequestRecord>,
    pub used: u64,
    pub reset_at: i64,
    pub app: Option<(u64, Vec<u8>)>,
    /// The registered App's slug, when a test names one (`preview-tower` otherwise).
    pub app_slug: Option<String>,
    pub installations: HashMap<String, u64>,
    pub tokens: HashMap<String, u64>,
    pub accepted_tokens: Option<HashSet<String>>,
    pub violations: Vec<String>,
    /// Old `owner/name` (lower-cased) → new `owner/name`.
    pub renamed: HashMap<String, String>,
    /// Ids, hooks and write times of deployments, statuses and comments.
    pub reporting: Reporting,
    /// Check runs, and the earlier heads of each pull request.
    pub checks: super::checks::Checks,
    /// (`owner/name`, login), both lower-cased → role (see `set_permission`).
    pub permissions: HashMap<(String, String), String>,
    /// The pull requests' timelines (comments aside).
    pub timelines: super::timeline::Timelines,
    /// How far the fake's clock is ahead of the machine's (see `advance_clock`).
    pub clock_offset: chrono::Duration,
    /// What is left of the hour's budget, when a test limits it (see `limit_budget`).
    pub budget: Option<Budget>,
    /// The GraphQL API's side: its own budget, points used, latency, whether it exists.
    pub graphql: super::graphql::Graphql,
    /// How long every REST answer waits before it is sent (see `set_latency`).
    pub rest_latency: std::time::Duration,
}

impl Conformance for State {
    const NAME: &'static str = "fake GitHub";
    const BROKEN: &'static str = "served non-conformant bodies";

    fn violations(&mut self) -> &mut Vec<String> {
        &mut self.violations
    }
}

/// The rate-limit budget of the hour, when a test sets one.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Counted requests left.
    pub left: u64,
    /// Unix time the hour ends (the budget is then unlimited again).
    pub reset_at: i64,
}

impl State {
    /// The fake's time: the machine's, moved by `advance_clock`.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    /// The login of the App's bot account, `<slug>[bot]`: who its installation tokens write as.
    pub fn app_login(&self) -> String {
        format!(
            "{}[bot]",
            self.app_slug.as_deref().unwrap_or("preview-tower")
        )
    }

    /// Who writes with credential `auth`: the App's bot with an installation token, the
    /// account behind `GET /user` (the fake's [`super::reporting::BOT_LOGIN`]) with a token.
    pub fn writer(&self, auth: &AuthSeen) -> String {
        match auth {
            AuthSeen::Installation(_) => self.app_login(),
            _ => super::reporting::BOT_LOGIN.to_owned(),
        }
    }

    /// The repository `owner/name` (case-insensitive).
    pub fn repo_mut(&mut self, full_name: &str) -> &mut Repo {
        self.repos
            .get_mut(&full_name.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("fake GitHub: add_repo({full_name:?}) first"))
    }
}
