//! The check runs of a commit and the commits of a pull request, as GitHub's REST API shapes
//! them, and their translation into [`BuildStatus`] and SHAs. Pure.
//!
//! No vendor schema for either answer is in `shared/conformance/github/schemas/`; the shapes
//! follow GitHub's REST documentation ("List check runs for a Git reference":
//! `{"total_count", "check_runs": [{"id", "name", "head_sha", "status", "conclusion", ...}]}`,
//! and "List commits on a pull request": `[{"sha", ...}]`, oldest first).

use percent_encoding::utf8_percent_encode;
use serde::Deserialize;

use super::UNRESERVED;
use crate::github::GitHubError;
use crate::naming::RepoName;
use crate::pull_request::{BuildStatus, is_full_sha};

/// Longest `conclusion` kept as reported; anything longer or stranger reads `unknown`.
const MAX_CONCLUSION: usize = 30;

/// `GET /repos/{o}/{r}/commits/{sha}/check-runs?check_name=<name>&filter=latest`: the runs
/// of one check on one commit, the latest attempt of each (GitHub's `filter=latest`), at most
/// 100 (one page; a commit with more runs of one name than that is not a build).
pub(in crate::github::octocrab) fn check_runs_route(
    repo: &RepoName,
    sha: &str,
    check_name: &str,
) -> String {
    format!(
        "/repos/{}/{}/commits/{}/check-runs?check_name={}&filter=latest&per_page=100",
        repo.owner(),
        repo.name(),
        utf8_percent_encode(sha, UNRESERVED),
        utf8_percent_encode(check_name, UNRESERVED)
    )
}

/// `GET /repos/{o}/{r}/pulls/{n}/commits`, 100 per page (GitHub's maximum).
pub(in crate::github::octocrab) fn pull_commits_route(repo: &RepoName, number: u64) -> String {
    format!(
        "/repos/{}/{}/pulls/{number}/commits?per_page=100",
        repo.owner(),
        repo.name()
    )
}

#[derive(Deserialize)]
struct WireCheckRuns {
    check_runs: Vec<WireCheckRun>,
}

#[derive(Deserialize)]
struct WireCheckRun {
    id: u64,
    name: String,
    head_sha: String,
    status: String,
    conclusion: Option<String>,
}

/// What the runs of `check_name` on `sha` say. The newest run (highest id: GitHub's ids
/// increase, and a re-run is a new run) decides; runs of another name or commit are ignored,
/// whatever the filter did. No run at all is [`BuildStatus::Pending`]: the workflow may not
/// have started yet.
pub(in crate::github::octocrab) fn decode_build_status(
    body: &[u8],
    sha: &str,
    check_name: &str,
) -> Result<BuildStatus, GitHubError> {
    let runs: WireCheckRuns = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable check runs: {e}")))?;
    let newest = runs
        .check_runs
        .into_iter()
        .filter(|run| run.name == check_name && run.head_sha.eq_ignore_ascii_case(sha))
        .max_by_key(|run| run.id);
    let Some(run) = newest else {
        return Ok(BuildStatus::Pending);
    };
    if run.status != "completed" {
        return Ok(BuildStatus::Pending);
    }
    Ok(match run.conclusion.as_deref() {
        Some("success") => BuildStatus::Succeeded,
        Some(conclusion) => BuildStatus::Failed {
            conclusion: clean_conclusion(conclusion),
        },
        // Completed without a conclusion is not something GitHub sends; not a success either.
        None => BuildStatus::Failed {
            conclusion: "unknown".to_owned(),
        },
    })
}

/// The conclusion as GitHub words it when it looks like one of its words, else `unknown`: it
/// ends up in a PR comment.
pub(super) fn clean_conclusion(conclusion: &str) -> String {
    let word = !conclusion.is_empty()
        && conclusion.len() <= MAX_CONCLUSION
        && conclusion
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_');
    if word {
        conclusion.to_owned()
    } else {
        "unknown".to_owned()
    }
}

#[derive(Deserialize)]
struct WireCommit {
    sha: String,
}

/// One page of a pull request's commits, in GitHub's order (oldest first).
pub(in crate::github::octocrab) fn decode_pull_commits(
    body: &[u8],
) -> Result<Vec<String>, GitHubError> {
    let commits: Vec<WireCommit> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable pull request commits: {e}")))?;
    commits
        .into_iter()
        .map(|commit| {
            if is_full_sha(&commit.sha) {
                Ok(commit.sha)
            } else {
                Err(GitHubError::Malformed(format!(
                    "pull request commit {:?} is not 40 lowercase hex characters",
                    commit.sha
                )))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn runs(runs: &[(u64, &str, &str, Option<&str>)]) -> Vec<u8> {
        let runs: Vec<serde_json::Value> = runs
            .iter()
            .map(|(id, name, status, conclusion)| {
                serde_json::json!({"id": id, "name": name, "head_sha": SHA, "status": status,
                    "conclusion": conclusion, "started_at": "2026-11-27T10:00:00Z"})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"total_count": runs.len(), "check_runs": runs}))
            .expect("json")
    }

    fn status(body: &[u8]) -> BuildStatus {
        decode_build_status(body, SHA, "build").expect("decodes")
    }

    fn failed(conclusion: &str) -> BuildStatus {
        BuildStatus::Failed {
            conclusion: conclusion.to_owned(),
        }
    }

    #[test]
    fn only_a_completed_success_is_a_built_image() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>, BuildStatus)] = &[
            ("completed", Some("success"), BuildStatus::Succeeded),
            ("completed", Some("failure"), failed("failure")),
            ("completed", Some("cancelled"), failed("cancelled")),
            ("completed", Some("timed_out"), failed("timed_out")),
            ("completed", Some("action_required"), failed("action_required")),
            ("completed", Some("stale"), failed("stale")),
            ("completed", Some("neutral"), failed("neutral")),
            ("completed", Some("skipped"), failed("skipped")),
            ("completed", Some("Success!<b>"), failed("unknown")),
            ("completed", None, failed("unknown")),
            ("queued", None, BuildStatus::Pending),
            ("in_progress", None, BuildStatus::Pending),
            ("waiting", None, BuildStatus::Pending),
        ];
        for (state, conclusion, expected) in cases {
            let body = runs(&[(1, "build", state, *conclusion)]);
            assert_eq!(status(&body), *expected, "{state} {conclusion:?}");
        }
    }

    #[test]
    fn the_newest_run_of_the_name_decides_and_none_is_pending() {
        let rerun = runs(&[
            (7, "build", "completed", Some("success")),
            (5, "build", "completed", Some("failure")),
            (9, "lint", "completed", Some("failure")),
        ]);
        assert_eq!(status(&rerun), BuildStatus::Succeeded);
        let running_again = runs(&[
            (7, "build", "completed", Some("success")),
            (8, "build", "in_progress", None),
        ]);
        assert_eq!(status(&running_again), BuildStatus::Pending);
        assert_eq!(status(&runs(&[])), BuildStatus::Pending);
        assert!(matches!(
            decode_build_status(b"{}", SHA, "build"),
            Err(GitHubError::Malformed(_))
        ));
    }

    #[test]
    fn check_names_are_encoded_in_the_query() {
        let repo: RepoName = "acme/web".parse().expect("repo");
        assert_eq!(
            check_runs_route(&repo, SHA, "build / image (web)"),
            format!(
                "/repos/acme/web/commits/{SHA}/check-runs?check_name=build%20%2F%20image%20%28web%29&filter=latest&per_page=100"
            )
        );
    }

    #[test]
    fn pull_commits_must_be_full_shas() {
        let body = format!(r#"[{{"sha":"{SHA}","commit":{{}}}}]"#);
        assert_eq!(
            decode_pull_commits(body.as_bytes()).expect("decodes"),
            [SHA]
        );
        assert!(decode_pull_commits(br#"[{"sha":"HEAD"}]"#).is_err());
    }
}
