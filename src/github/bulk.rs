//! Reading many pull requests' facts at once: what a refresh asks for ([`Wants`]) and what a
//! bulk read found ([`BulkFacts`]). GitHub's adapter answers with a few GraphQL queries per
//! repository (see `octocrab/bulk.rs`); a source without bulk reads answers `None` and the
//! sync reads each fact one at a time.
//!
//! A bulk read is never evidence of absence: a fact it could not read is simply not in
//! [`BulkFacts`], and the sync reads it one at a time (where a failure is a failure, as ever).

use std::collections::{HashMap, HashSet};

use crate::pull_request::{BuildStatus, ConfigFile, PullEvent};

/// What one refresh of a repository needs read beyond its listing, as the sync's caches lack
/// it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wants {
    /// Facts at commits, one entry per commit.
    pub commits: Vec<CommitWants>,
    /// The pull requests whose activity (timeline) to read.
    pub activity: Vec<u64>,
}

impl Wants {
    /// Whether nothing is wanted.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.activity.is_empty()
    }
}

/// What is wanted at one commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitWants {
    /// The commit (a full SHA).
    pub sha: String,
    /// Files to read ([`super::PullRequestSource::file_at`]).
    pub files: Vec<String>,
    /// Paths whose object SHA to read ([`super::PullRequestSource::object_sha_at`]).
    pub objects: Vec<String>,
    /// Check names whose build status to read ([`super::PullRequestSource::build_status`]).
    pub checks: Vec<String>,
}

/// What a bulk read found: the same answers the one-at-a-time reads give, for the keys it
/// could read. A key absent from every map was not read (a fault, a doubt, or a shape the
/// bulk read leaves to the one-at-a-time read): the sync reads it one at a time.
#[derive(Debug, Default)]
pub struct BulkFacts {
    /// By `(sha, path)`.
    pub files: HashMap<(String, String), ConfigFile>,
    /// By `(sha, path)`.
    pub objects: HashMap<(String, String), Option<String>>,
    /// By `(sha, check name)`.
    pub builds: HashMap<(String, String), BuildStatus>,
    /// By pull-request number: its events, oldest first, as
    /// [`super::PullRequestSource::pull_request_activity`] gives them.
    pub activity: HashMap<u64, Vec<PullEvent>>,
    /// Facts a failing query left unread that must not be read one at a time in this refresh
    /// (a GraphQL outage must not turn into thousands of REST requests).
    pub withheld: Withheld,
    /// What kept some keys from being read (for the log; at most a few).
    pub faults: Vec<super::GitHubError>,
    /// The GraphQL points the read cost, as GitHub reported them.
    pub points: u64,
    /// How many queries were sent.
    pub queries: u64,
}

/// What a bulk read left unread on purpose, for this refresh.
#[derive(Debug, Default)]
pub struct Withheld {
    /// Every fact at these commits.
    pub commits: HashSet<String>,
    /// The activity of these pull requests.
    pub activity: HashSet<u64>,
    /// Why (the refresh's error, so that the held previews' `503`s say so).
    pub error: Option<super::GitHubError>,
}
