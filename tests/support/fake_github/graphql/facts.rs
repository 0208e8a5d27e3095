//! The "same world" rule for faults: a test's REST fault rule about reading a fact (a file at
//! a commit, a commit's check runs, a pull request's timeline) is about that fact, whichever
//! API reads it. When the executor resolves such a fact, it builds the REST request the
//! service's REST client would send for it (same path and query, so `containing` matches as
//! it does for REST) and takes the first rule that names that endpoint explicitly (`times` is
//! used up as by that request). See the module doc of `graphql` for what each fault does.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::exec::{At, Exec, Whole};
use crate::support::fake_github::fault::{Endpoint, Fault};
use crate::support::fake_github::model::State;

/// What the service's REST client leaves unencoded in a path segment.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn base(state: &State, repo: &str) -> String {
    format!("{}/repos/{}", state.prefix, state.repos[repo].full_name())
}

/// `GET /repos/{o}/{r}/contents/{path}?ref={sha}`.
pub(super) fn contents_route(state: &State, repo: &str, path: &str, sha: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| utf8_percent_encode(s, UNRESERVED).to_string())
        .collect();
    let sha = utf8_percent_encode(sha, UNRESERVED);
    format!(
        "{}/contents/{}?ref={sha}",
        base(state, repo),
        encoded.join("/")
    )
}

/// `GET /repos/{o}/{r}/commits/{sha}/check-runs?check_name=..&filter=latest&per_page=100`.
pub(super) fn check_runs_route(
    state: &State,
    repo: &str,
    sha: &str,
    check: Option<&str>,
) -> String {
    let name = check
        .map(|c| format!("check_name={}&", utf8_percent_encode(c, UNRESERVED)))
        .unwrap_or_default();
    let sha = utf8_percent_encode(sha, UNRESERVED);
    format!(
        "{}/commits/{sha}/check-runs?{name}filter=latest&per_page=100",
        base(state, repo)
    )
}

/// `GET /repos/{o}/{r}/issues/{n}/timeline?per_page=100`.
pub(super) fn timeline_route(state: &State, repo: &str, number: u64) -> String {
    format!(
        "{}/issues/{number}/timeline?per_page=100",
        base(state, repo)
    )
}

/// Consults the REST rules of `endpoint` for the fact read by `route` (page 1). `Err` when the
/// field answers `null` (its error added at `at`); the whole answer's fate is noted in `exec`.
pub(super) fn consult(
    exec: &mut Exec<'_>,
    at: &At<'_>,
    endpoint: Endpoint,
    repo: &str,
    route: &str,
) -> Result<(), ()> {
    let Some((fault, _)) = exec.state.take_rule(endpoint, true, Some(repo), 1, route) else {
        return Ok(());
    };
    match fault {
        Fault::Status(status) => {
            let type_ = match status {
                401 | 403 => "FORBIDDEN",
                404 => "NOT_FOUND",
                422 => "UNPROCESSABLE",
                _ => "INTERNAL",
            };
            let message = match type_ {
                "FORBIDDEN" => "Resource not accessible by integration".to_owned(),
                _ => format!("Something went wrong while executing your query ({status})."),
            };
            exec.error(at, Some(type_), &message);
            Err(())
        }
        Fault::Malformed => {
            exec.error(
                at,
                Some("INTERNAL"),
                "Something went wrong while executing your query.",
            );
            Err(())
        }
        Fault::Timeout(delay) | Fault::LoseAnswer(delay) => {
            exec.wait = exec.wait.max(delay);
            Ok(())
        }
        Fault::RateLimited => escalate(exec, Whole::RateLimited),
        Fault::SecondaryLimit { retry_after } => escalate(exec, Whole::Secondary(retry_after)),
        Fault::TooManyRequests { retry_after } => {
            escalate(exec, Whole::TooManyRequests(retry_after))
        }
        _ => Ok(()),
    }
}

fn escalate(exec: &mut Exec<'_>, whole: Whole) -> Result<(), ()> {
    if exec.whole == Whole::Normal {
        exec.whole = whole;
    }
    Err(())
}
