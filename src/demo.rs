//! The embedded default: a bundled fleet and bundled pull requests, no network, no credentials.
//!
//! [`DemoSource`] implements [`PullRequestSource`] from `demo/pulls.yaml`, so the demo runs the
//! same sync, plan, snapshot and plugin code as production; only the source differs. The PRs
//! show every case worth seeing: a frontend pointing at a backend PR's preview, a request for a
//! PR preview that does not exist, an invalid repo config, an unlabelled PR, a draft and a fork,
//! and for `billing`, whose fleet entry names a build check: a push whose image is still
//! building (the preview stays on the PR's earlier built commit) and a PR never built yet.
//! Their activity is relative to when the demo starts, so that one preview is always about to
//! expire; `api` works Auckland's hours, so some previews are always asleep on a weekday; and
//! `acme/web` has one labelled PR more than the quota allows, so one queues.
//!
//! [`applications`] plays Argo CD: the Applications of the previews that exist (every one
//! synced and healthy, but one still rolling out and one degraded), read by the sync as in
//! production and shown on the board; [`seed_meter`] gives the cost meter the hours the demo's
//! PRs would have run since they were opened.

mod pretend;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::fleet::{Fleet, FleetError};
use crate::github::{GitHubError, PullRequestSource};
use crate::naming::RepoName;
use crate::pull_request::{
    AuthorAssociation, BuildStatus, ConfigFile, PullEvent, PullEventKind, PullRequest,
};

/// The demo fleet file.
pub const FLEET_YAML: &str = include_str!("demo/fleet.yaml");
pub use pretend::{applications, seed_meter};

const PULLS_YAML: &str = include_str!("demo/pulls.yaml");

/// The demo's plugin token when none is given.
pub const DEMO_TOKEN: &str = "demo-token";

/// The demo fleet, parsed.
pub fn fleet() -> Result<Fleet, Vec<FleetError>> {
    Fleet::from_yaml(FLEET_YAML)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPull {
    repo: RepoName,
    number: u64,
    title: String,
    #[serde(default)]
    body: String,
    branch: String,
    author: String,
    labels: Vec<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    from_fork: bool,
    head_sha: String,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    files: HashMap<String, String>,
    #[serde(default)]
    objects: HashMap<String, String>,
    /// The head's build check (default: succeeded).
    #[serde(default)]
    build: DemoBuild,
    /// Earlier commits of the PR, oldest first. Their files are the head's.
    #[serde(default)]
    earlier: Vec<DemoCommit>,
    /// How long before the demo started the PR was opened and labelled (default 2 days).
    #[serde(default, with = "humantime_serde_opt")]
    open_for: Option<Duration>,
    /// What Argo CD shows of its preview's Application; none: it has no Application yet.
    #[serde(default)]
    application: Option<DemoHealth>,
    /// How long before the demo started something last happened on it (default 1 hour).
    #[serde(default, with = "humantime_serde_opt")]
    idle_for: Option<Duration>,
}

/// `open_for` and `idle_for` as humantime text (`3d`, `64h`).
mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(2 * 86_400);
const DEFAULT_IDLE_FOR: Duration = Duration::from_secs(3_600);

/// A build check's state in the demo data.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DemoBuild {
    #[default]
    Success,
    Pending,
    Failure,
}

impl DemoBuild {
    fn status(self) -> BuildStatus {
        match self {
            Self::Success => BuildStatus::Succeeded,
            Self::Pending => BuildStatus::Pending,
            Self::Failure => BuildStatus::Failed {
                conclusion: "failure".to_owned(),
            },
        }
    }
}

/// The health of a demo preview's Application.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DemoHealth {
    Healthy,
    Progressing,
    Degraded,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCommit {
    sha: String,
    #[serde(default)]
    build: DemoBuild,
}

impl DemoPull {
    /// When it was opened and labelled, and when something last happened, for a demo started
    /// at `start`.
    fn times(&self, start: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let ago = |d: Duration| start - TimeDelta::from_std(d).unwrap_or(TimeDelta::zero());
        let opened = ago(self.open_for.unwrap_or(DEFAULT_OPEN_FOR));
        let last = ago(self.idle_for.unwrap_or(DEFAULT_IDLE_FOR)).max(opened);
        (opened, last)
    }

    /// Its newest commit whose build succeeded (the demo's build check).
    fn newest_built(&self) -> Option<&str> {
        if matches!(self.build, DemoBuild::Success) {
            return Some(&self.head_sha);
        }
        self.earlier
            .iter()
            .rev()
            .find(|c| matches!(c.build, DemoBuild::Success))
            .map(|c| c.sha.as_str())
    }

    fn to_pull_request(&self) -> PullRequest {
        PullRequest {
            number: self.number,
            title: self.title.clone(),
            body: self.body.clone(),
            branch: self.branch.clone(),
            target_branch: "main".into(),
            head_sha: self.head_sha.clone(),
            author: self.author.clone(),
            labels: self.labels.clone(),
            draft: self.draft,
            from_fork: self.from_fork,
            updated_at: self.updated_at,
        }
    }
}

/// A code host answering from the bundled demo pull requests.
#[derive(Debug)]
pub struct DemoSource {
    pulls: Vec<DemoPull>,
    /// When the demo started: the PRs' activity is relative to it.
    start: DateTime<Utc>,
}

impl DemoSource {
    /// Loads the bundled pull requests, as of now.
    pub fn new() -> Result<Self, GitHubError> {
        Self::started_at(Utc::now())
    }

    /// Loads the bundled pull requests for a demo started at `start`.
    pub fn started_at(start: DateTime<Utc>) -> Result<Self, GitHubError> {
        let pulls: Vec<DemoPull> = serde_saphyr::from_str(PULLS_YAML)
            .map_err(|e| GitHubError::Malformed(format!("demo pull requests: {e}")))?;
        Ok(Self { pulls, start })
    }

    /// The PR of `repo` with commit `sha` (its head or an earlier one).
    fn at(&self, repo: &RepoName, sha: &str) -> Option<&DemoPull> {
        self.pulls.iter().find(|p| {
            &p.repo == repo && (p.head_sha == sha || p.earlier.iter().any(|c| c.sha == sha))
        })
    }
}

#[async_trait]
impl PullRequestSource for DemoSource {
    async fn open_pull_requests(
        &self,
        repo: &RepoName,
    ) -> Result<Vec<std::sync::Arc<PullRequest>>, GitHubError> {
        Ok(self
            .pulls
            .iter()
            .filter(|p| &p.repo == repo)
            .map(|p| std::sync::Arc::new(p.to_pull_request()))
            .collect())
    }

    async fn open_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<PullRequest>, GitHubError> {
        Ok(self
            .pulls
            .iter()
            .find(|p| &p.repo == repo && p.number == number)
            .map(DemoPull::to_pull_request))
    }

    async fn file_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<ConfigFile, GitHubError> {
        Ok(self
            .at(repo, sha)
            .and_then(|p| p.files.get(path))
            .map_or(ConfigFile::Missing, |text| {
                ConfigFile::Present(text.clone())
            }))
    }

    async fn object_sha_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<Option<String>, GitHubError> {
        Ok(self
            .at(repo, sha)
            .and_then(|p| p.objects.get(path))
            .cloned())
    }

    /// The PR was opened and labelled `open_for` before the demo started, and something (a
    /// comment by its author) last happened `idle_for` before.
    async fn pull_request_activity(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<Vec<PullEvent>>, GitHubError> {
        let Some(pull) = self
            .pulls
            .iter()
            .find(|p| &p.repo == repo && p.number == number)
        else {
            return Ok(Some(Vec::new()));
        };
        let (opened, last) = pull.times(self.start);
        let actor = Some(pull.author.clone());
        let mut events: Vec<PullEvent> = pull
            .labels
            .iter()
            .map(|label| PullEvent {
                at: opened,
                actor: actor.clone(),
                kind: PullEventKind::Labeled(label.clone()),
            })
            .collect();
        if last > opened {
            events.push(PullEvent {
                at: last,
                actor,
                kind: PullEventKind::Commented {
                    command: None,
                    association: AuthorAssociation::Member,
                },
            });
        }
        Ok(Some(events))
    }

    /// Every check name answers the same: the demo fleet names one.
    async fn build_status(
        &self,
        repo: &RepoName,
        sha: &str,
        _check_name: &str,
    ) -> Result<BuildStatus, GitHubError> {
        let pull = self.at(repo, sha);
        let build = pull.and_then(|p| {
            if p.head_sha == sha {
                Some(p.build)
            } else {
                p.earlier.iter().find(|c| c.sha == sha).map(|c| c.build)
            }
        });
        Ok(build.map_or(BuildStatus::Pending, DemoBuild::status))
    }

    async fn pull_request_commits(
        &self,
        repo: &RepoName,
        number: u64,
        limit: usize,
    ) -> Result<Vec<String>, GitHubError> {
        let pull = self
            .pulls
            .iter()
            .find(|p| &p.repo == repo && p.number == number);
        Ok(pull
            .map(|p| {
                let earlier = p.earlier.iter().rev().map(|c| c.sha.clone());
                std::iter::once(p.head_sha.clone())
                    .chain(earlier)
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull_request::is_full_sha;

    #[test]
    fn the_demo_data_loads_and_is_consistent() {
        let source = DemoSource::new().expect("demo pulls parse");
        let fleet = fleet().expect("demo fleet parses");
        for pull in &source.pulls {
            assert!(is_full_sha(&pull.head_sha), "{}", pull.number);
            assert!(pull.earlier.iter().all(|c| is_full_sha(&c.sha)));
            assert!(
                fleet.services.iter().any(|s| s.repo == pull.repo),
                "{} is not a fleet repo",
                pull.repo
            );
        }
    }
}
