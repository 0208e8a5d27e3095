//! A scripted in-memory [`PullRequestSource`]: what each repo lists, the files per SHA, the
//! build statuses, and the faults to answer with; every call is recorded.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::github::{GitHubError, PullRequestSource};
use crate::naming::RepoName;
use crate::pull_request::{BuildStatus, ConfigFile, PullRequest};

#[derive(Default)]
pub(super) struct Script {
    pub(super) pulls: HashMap<String, Vec<PullRequest>>,
    pub(super) files: HashMap<String, String>,
    pub(super) failing_repos: Vec<String>,
    pub(super) failing_files: bool,
    /// Commits whose files cannot be read (a 5xx tied to one commit).
    pub(super) failing_shas: Vec<String>,
    /// Open PRs missing from listings (as when pages shift).
    pub(super) hidden: Vec<PullRequest>,
    /// Build check answers by commit; a commit not here is pending (no run yet).
    pub(super) builds: HashMap<String, BuildStatus>,
    /// Commits whose build status cannot be read.
    pub(super) failing_builds: Vec<String>,
    /// The commits of each PR number, newest first.
    pub(super) commits: HashMap<u64, Vec<String>>,
    pub(super) calls: Vec<String>,
    /// PR numbers whose `GET /pulls/{n}` fails (a 500).
    pub(super) failing_gets: Vec<u64>,
    /// PR numbers GitHub has no pull request for (`GET /pulls/{n}` answers 404).
    pub(super) unknown_pulls: Vec<u64>,
}

#[derive(Default)]
pub(super) struct ScriptedSource(Mutex<Script>);

impl ScriptedSource {
    pub(super) fn with(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.0.lock().expect("lock"));
    }

    pub(super) fn calls(&self, prefix: &str) -> usize {
        let script = self.0.lock().expect("lock");
        script
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }
}

fn boom() -> GitHubError {
    GitHubError::Upstream {
        status: 500,
        message: "boom".into(),
    }
}

#[async_trait]
impl PullRequestSource for ScriptedSource {
    async fn open_pull_requests(
        &self,
        repo: &RepoName,
    ) -> Result<Vec<std::sync::Arc<PullRequest>>, GitHubError> {
        let mut s = self.0.lock().expect("lock");
        s.calls.push(format!("list {repo}"));
        if s.failing_repos.contains(&repo.to_string()) {
            return Err(boom());
        }
        let pulls = s.pulls.get(&repo.to_string()).cloned().unwrap_or_default();
        Ok(pulls.into_iter().map(std::sync::Arc::new).collect())
    }

    async fn open_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Option<PullRequest>, GitHubError> {
        let mut s = self.0.lock().expect("lock");
        s.calls.push(format!("get {repo} {number}"));
        if s.failing_gets.contains(&number) {
            return Err(boom());
        }
        if s.unknown_pulls.contains(&number) {
            return Err(GitHubError::Upstream {
                status: 404,
                message: "Not Found".into(),
            });
        }
        Ok(s.hidden.iter().find(|p| p.number == number).cloned())
    }

    async fn file_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<ConfigFile, GitHubError> {
        let mut s = self.0.lock().expect("lock");
        s.calls.push(format!("file {repo} {sha} {path}"));
        if s.failing_files || s.failing_shas.iter().any(|f| f == sha) {
            return Err(boom());
        }
        Ok(s.files
            .get(sha)
            .map_or(ConfigFile::Missing, |t| ConfigFile::Present(t.clone())))
    }

    async fn object_sha_at(
        &self,
        repo: &RepoName,
        sha: &str,
        path: &str,
    ) -> Result<Option<String>, GitHubError> {
        let mut s = self.0.lock().expect("lock");
        s.calls.push(format!("object {repo} {sha} {path}"));
        Ok(Some(format!("{:040x}", sha.len() + path.len())))
    }

    async fn build_status(
        &self,
        repo: &RepoName,
        sha: &str,
        check_name: &str,
    ) -> Result<BuildStatus, GitHubError> {
        let mut s = self.0.lock().expect("lock");
        s.calls.push(format!("build {repo} {sha} {check_name}"));
        if s.failing_builds.iter().any(|f| f == sha) {
            return Err(boom());
        }
        Ok(s.builds.get(sha).cloned().unwrap_or(BuildStatus::Pending))
    }

    async fn pull_request_commits(
        &self,
        repo: &RepoName,
        number: u64,
        limit: usize,
    ) -> Result<Vec<String>, GitHubError> {
        let mut s = self.0.lock().expect("lock");
        s.calls.push(format!("commits {repo} {number}"));
        let commits = s.commits.get(&number).cloned().unwrap_or_default();
        Ok(commits.into_iter().take(limit).collect())
    }
}
