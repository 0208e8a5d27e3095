//! The fake's check runs (what a build workflow reports on a commit) and the commits of a pull
//! request, with the test hooks to steer them.
//!
//! No vendor schema for these answers is in the conformance set (`github/schemas/` has none for
//! check runs or pull-request commits), so their bodies are not validated: the shapes follow
//! GitHub's REST documentation, "List check runs for a Git reference"
//! (`{"total_count", "check_runs": [check-run]}`, `check_name` and `filter=latest|all` honoured,
//! an unknown commit answered `422 No commit found for SHA`) and "List commits on a pull
//! request" (oldest first, paginated like the other lists).

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::model::{Endpoint, State};
use super::render::{stable_id, time};
use super::reporting::{RepoRef, paged, validation_failed};
use super::serve::{Reply, Route};

/// A check run as the fake holds it.
#[derive(Clone, Debug)]
pub struct FakeCheckRun {
    /// GitHub's id (increasing: a re-run is a new run).
    pub id: u64,
    /// `owner/name`, lower-cased.
    pub repo: String,
    /// The commit.
    pub head_sha: String,
    /// The check's name (for GitHub Actions, the job's name).
    pub name: String,
    /// `queued`, `in_progress` or `completed` (or GitHub's rarer `waiting`, `requested`,
    /// `pending`).
    pub status: String,
    /// With `completed`: `success`, `failure`, `neutral`, `cancelled`, `skipped`, `timed_out`,
    /// `action_required` or `stale`.
    pub conclusion: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its check suite (GraphQL's `Commit.checkSuites`): one per commit unless a test re-runs
    /// in a new suite ([`FakeGitHub::rerun_check_in_new_suite`]).
    pub suite_id: u64,
}

/// Every check run, and the commits each pull request had before its current head.
#[derive(Debug)]
pub struct Checks {
    pub next_id: u64,
    pub next_suite: u64,
    pub runs: Vec<FakeCheckRun>,
    /// `(repo, number)` → the PR's earlier heads, oldest first (its current head is last).
    pub history: HashMap<(String, u64), Vec<String>>,
}

impl Default for Checks {
    fn default() -> Self {
        Self {
            next_id: 4_000_001,
            // Above every default suite id (`stable_id` of the commit): newer suites sort after.
            next_suite: 100_000_001,
            runs: Vec::new(),
            history: HashMap::new(),
        }
    }
}

/// The check-run endpoints of method `method` and path `segs`, their repository and the SHA or
/// PR number in their path.
pub(super) fn route<'a>(method: &str, segs: &[&'a str]) -> Option<(Endpoint, RepoRef<'a>, String)> {
    match (method, segs) {
        ("GET", ["repos", o, r, "commits", sha, "check-runs"]) => {
            Some((Endpoint::CheckRuns, RepoRef::Name(o, r), (*sha).to_owned()))
        }
        ("GET", ["repos", o, r, "pulls", n, "commits"]) => {
            Some((Endpoint::PullCommits, RepoRef::Name(o, r), (*n).to_owned()))
        }
        ("GET", ["repositories", id, "pulls", n, "commits"]) => {
            Some((Endpoint::PullCommits, RepoRef::Id(id), (*n).to_owned()))
        }
        _ => None,
    }
}

/// Answers a check-run endpoint (already authenticated).
pub(super) fn answer(state: &State, route: &Route, query: &HashMap<String, String>) -> Reply {
    let Some(repo) = route.repo.clone().filter(|r| state.repos.contains_key(r)) else {
        return Reply::error(404, "Not Found");
    };
    match route.endpoint {
        Endpoint::CheckRuns => check_runs(state, &repo, &route.path, query),
        _ => pull_commits(state, &repo, &route.path, query),
    }
}

fn check_runs(state: &State, repo: &str, sha: &str, query: &HashMap<String, String>) -> Reply {
    if !state.repos[repo].trees.contains_key(sha) {
        return validation_failed(&format!("No commit found for SHA: {sha}"));
    }
    let name = query.get("check_name");
    let mut runs: Vec<&FakeCheckRun> = state
        .checks
        .runs
        .iter()
        .filter(|run| run.repo == repo && run.head_sha == sha)
        .filter(|run| name.is_none_or(|n| *n == run.name))
        .collect();
    // Newest first; `latest` (the default) keeps only the newest run of each name.
    runs.sort_by_key(|run| std::cmp::Reverse(run.id));
    if query.get("filter").is_none_or(|f| f == "latest") {
        let mut seen = std::collections::HashSet::new();
        runs.retain(|run| seen.insert(run.name.clone()));
    }
    let full = state.repos[repo].full_name();
    let items: Vec<Value> = runs
        .iter()
        .map(|run| render(&state.base_url, &full, run))
        .collect();
    let body = json!({"total_count": items.len(), "check_runs": items});
    Reply {
        schema: None,
        ..Reply::json(StatusCode::OK, body, "")
    }
}

fn pull_commits(state: &State, repo: &str, number: &str, query: &HashMap<String, String>) -> Reply {
    let held = &state.repos[repo];
    let Some(pull) = number.parse().ok().and_then(|n| held.pulls.get(&n)) else {
        return Reply::error(404, "Not Found");
    };
    let key = (repo.to_owned(), pull.number);
    let mut shas = state.checks.history.get(&key).cloned().unwrap_or_default();
    if shas.last() != Some(&pull.head_sha) {
        shas.push(pull.head_sha.clone());
    }
    let full = held.full_name();
    let items: Vec<Value> = shas
        .iter()
        .map(|sha| commit(&state.base_url, &full, sha))
        .collect();
    let path = format!("pulls/{}/commits", pull.number);
    let reply = paged(state, repo, &path, query, items, "");
    Reply {
        schema: None,
        ..reply
    }
}

/// `check-run`, as GitHub documents it.
fn render(base: &str, full: &str, run: &FakeCheckRun) -> Value {
    let api = format!("{base}/repos/{full}/check-runs/{}", run.id);
    let completed_at = (run.status == "completed").then(|| time(run.started_at));
    json!({
        "id": run.id, "head_sha": run.head_sha, "node_id": format!("CR_{}", run.id),
        "external_id": "", "url": api,
        "html_url": format!("{base}/{full}/runs/{}", run.id),
        "details_url": format!("{base}/{full}/actions/runs/{}", run.id),
        "status": run.status, "conclusion": run.conclusion,
        "started_at": time(run.started_at), "completed_at": completed_at,
        "output": {"title": null, "summary": null, "text": null, "annotations_count": 0,
            "annotations_url": format!("{api}/annotations")},
        "name": run.name, "check_suite": {"id": run.suite_id},
        "app": {"id": 15_368, "slug": "github-actions", "name": "GitHub Actions"},
        "pull_requests": []
    })
}

/// A `commit` item of "List commits on a pull request".
fn commit(base: &str, full: &str, sha: &str) -> Value {
    let api = format!("{base}/repos/{full}");
    let person = json!({"name": "Octo Cat", "email": "octocat@example.com",
        "date": "2026-11-27T10:00:00Z"});
    json!({
        "sha": sha, "node_id": format!("C_{sha}"), "url": format!("{api}/commits/{sha}"),
        "html_url": format!("{base}/{full}/commit/{sha}"),
        "comments_url": format!("{api}/commits/{sha}/comments"),
        "commit": {"message": format!("Commit {}", &sha[..sha.len().min(7)]),
            "author": person, "committer": person, "comment_count": 0,
            "url": format!("{api}/git/commits/{sha}"),
            "tree": {"sha": sha, "url": format!("{api}/git/trees/{sha}")}},
        "author": null, "committer": null, "parents": []
    })
}

impl FakeGitHub {
    /// Sets the newest run of check `name` on commit `sha` to `status` (and `conclusion` once
    /// `completed`), as a workflow moving from `queued` to `completed` does; creates the run
    /// when the commit has none of that name. Returns its id.
    pub fn set_check_run(
        &self,
        repo: &str,
        sha: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
    ) -> u64 {
        let repo = repo.to_ascii_lowercase();
        self.with(|s| {
            let newest = s
                .checks
                .runs
                .iter_mut()
                .filter(|r| r.repo == repo && r.head_sha == sha && r.name == name)
                .max_by_key(|r| r.id);
            if let Some(run) = newest {
                run.status = status.to_owned();
                run.conclusion = conclusion.map(str::to_owned);
                return run.id;
            }
            new_run(s, repo, sha, name, status, conclusion)
        })
    }

    /// A new run of check `name` on `sha` (a re-run): the old runs stay, the new one is newest.
    pub fn rerun_check(&self, repo: &str, sha: &str, name: &str) -> u64 {
        let repo = repo.to_ascii_lowercase();
        self.with(|s| new_run(s, repo, sha, name, "queued", None))
    }

    /// Like [`FakeGitHub::rerun_check`], in a new check suite of the commit (as re-running a
    /// whole workflow, or another App's run, makes).
    pub fn rerun_check_in_new_suite(&self, repo: &str, sha: &str, name: &str) -> u64 {
        let repo = repo.to_ascii_lowercase();
        self.with(|s| {
            let suite = s.checks.next_suite;
            s.checks.next_suite += 1;
            let id = new_run(s, repo, sha, name, "queued", None);
            if let Some(run) = s.checks.runs.last_mut() {
                run.suite_id = suite;
            }
            id
        })
    }

    /// Every check run, oldest first.
    pub fn check_runs(&self) -> Vec<FakeCheckRun> {
        self.with(|s| s.checks.runs.clone())
    }

    /// Replaces the commits of PR `number` before its head, oldest first (as a force-push
    /// would).
    pub fn set_earlier_commits(&self, repo: &str, number: u64, shas: &[&str]) {
        let key = (repo.to_ascii_lowercase(), number);
        let shas = shas.iter().map(|s| (*s).to_owned()).collect();
        self.with(|s| s.checks.history.insert(key, shas));
    }
}

fn new_run(
    state: &mut State,
    repo: String,
    sha: &str,
    name: &str,
    status: &str,
    conclusion: Option<&str>,
) -> u64 {
    let id = state.checks.next_id;
    state.checks.next_id += 1;
    // A re-run stays in the suite of the run it repeats; a first run is in the commit's suite.
    let suite_id = state
        .checks
        .runs
        .iter()
        .filter(|r| r.repo == repo && r.head_sha == sha && r.name == name)
        .max_by_key(|r| r.id)
        .map_or_else(|| stable_id(sha), |r| r.suite_id);
    state.checks.runs.push(FakeCheckRun {
        id,
        repo,
        head_sha: sha.to_owned(),
        name: name.to_owned(),
        status: status.to_owned(),
        conclusion: conclusion.map(str::to_owned),
        started_at: Utc::now(),
        suite_id,
    });
    id
}

/// Records that PR `number` of `repo` moved from `old` to a new head.
pub(super) fn record_push(state: &mut State, repo: &str, number: u64, old: &str) {
    let history = state
        .checks
        .history
        .entry((repo.to_ascii_lowercase(), number))
        .or_default();
    if history.last().map(String::as_str) != Some(old) {
        history.push(old.to_owned());
    }
}
