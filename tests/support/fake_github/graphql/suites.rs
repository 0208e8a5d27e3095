//! `Commit.checkSuites` → `CheckSuite.checkRuns`, from the same check runs the REST check-runs
//! endpoint serves. Each run belongs to a suite (one per commit unless a test re-ran in a new
//! one); `filterBy: {checkName}` keeps the suites with a run of that name, and the runs of that
//! name; `checkType: LATEST` keeps the newest attempt (highest id) of each name in the suite,
//! as REST's `filter=latest`. Status and conclusion are GraphQL's enums (`COMPLETED`,
//! `TIMED_OUT`...).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::exec::{At, Exec, Out};
use super::facts;
use super::world::{Obj, only};
use crate::support::fake_github::checks::FakeCheckRun;
use crate::support::fake_github::fault::Endpoint;

/// `checkSuites(first:, filterBy: {checkName:})` of commit `sha`.
pub(super) fn suites(
    exec: &mut Exec<'_>,
    at: &At<'_>,
    repo: &str,
    sha: &str,
    args: &Map<String, Value>,
) -> Option<Out> {
    let filter = args
        .get("filterBy")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(other) = filter.keys().find(|k| *k != "checkName") {
        exec.unimplemented(at, &format!("`checkSuites(filterBy: {{{other}}})`"));
        return Some(Out::Null);
    }
    let check = filter
        .get("checkName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let route = facts::check_runs_route(exec.state, repo, sha, check.as_deref());
    if facts::consult(exec, at, Endpoint::CheckRuns, repo, &route).is_err() {
        return Some(Out::Null);
    }
    let mut by_suite: BTreeMap<u64, Vec<FakeCheckRun>> = BTreeMap::new();
    for run in exec
        .state
        .checks
        .runs
        .iter()
        .filter(|r| r.repo == repo && r.head_sha == sha)
    {
        by_suite.entry(run.suite_id).or_default().push(run.clone());
    }
    let matching: Vec<(u64, Vec<FakeCheckRun>)> = by_suite
        .into_iter()
        .filter(|(_, runs)| {
            check
                .as_deref()
                .is_none_or(|name| runs.iter().any(|r| r.name == name))
        })
        .collect();
    let first = first(args);
    Some(Out::Object(Obj::Suites {
        total: matching.len(),
        nodes: matching.into_iter().take(first).collect(),
    }))
}

fn first(args: &Map<String, Value>) -> usize {
    let n = args
        .get("first")
        .or_else(|| args.get("last"))
        .and_then(Value::as_u64);
    usize::try_from(n.unwrap_or(100)).unwrap_or(100)
}

/// The fields of the check objects.
pub(super) fn resolve(
    exec: &mut Exec<'_>,
    obj: &Obj,
    at: &At<'_>,
    args: &Map<String, Value>,
) -> Option<Out> {
    let name = at.field.name.as_str();
    let leaf = |v: Value| Some(Out::Leaf(v));
    match obj {
        Obj::Suites { total, nodes } => match name {
            "totalCount" => leaf((*total).into()),
            "nodes" => Some(Out::List(
                nodes
                    .iter()
                    .map(|(id, runs)| Out::Object(Obj::Suite(*id, runs.clone())))
                    .collect(),
            )),
            _ => None,
        },
        Obj::Suite(id, runs) => match name {
            "databaseId" => leaf((*id).into()),
            "checkRuns" if only(exec, at, args, &["first", "filterBy"]) => {
                Some(runs_of(exec, at, runs, args))
            }
            _ => None,
        },
        Obj::Runs { total, nodes } => match name {
            "totalCount" => leaf((*total).into()),
            "nodes" => Some(Out::List(
                nodes
                    .iter()
                    .map(|run| Out::Object(Obj::Run(run.clone())))
                    .collect(),
            )),
            _ => None,
        },
        Obj::Run(run) => match name {
            "databaseId" => leaf(run.id.into()),
            "name" => leaf(run.name.as_str().into()),
            "status" => leaf(run.status.to_ascii_uppercase().into()),
            "conclusion" => leaf(
                run.conclusion
                    .as_ref()
                    .map(|c| c.to_ascii_uppercase())
                    .into(),
            ),
            _ => None,
        },
        _ => None,
    }
}

fn runs_of(
    exec: &mut Exec<'_>,
    at: &At<'_>,
    runs: &[FakeCheckRun],
    args: &Map<String, Value>,
) -> Out {
    let filter = args
        .get("filterBy")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(other) = filter
        .keys()
        .find(|k| !["checkName", "checkType"].contains(&k.as_str()))
    {
        exec.unimplemented(at, &format!("`checkRuns(filterBy: {{{other}}})`"));
        return Out::Null;
    }
    let check = filter.get("checkName").and_then(Value::as_str);
    let mut runs: Vec<FakeCheckRun> = runs
        .iter()
        .filter(|r| check.is_none_or(|n| r.name == n))
        .cloned()
        .collect();
    runs.sort_by_key(|r| r.id);
    // GitHub's default is LATEST, as REST's `filter=latest`.
    if filter
        .get("checkType")
        .and_then(Value::as_str)
        .unwrap_or("LATEST")
        == "LATEST"
    {
        let newest: BTreeMap<String, u64> = runs.iter().map(|r| (r.name.clone(), r.id)).collect();
        runs.retain(|r| newest.get(&r.name) == Some(&r.id));
    }
    Out::Object(Obj::Runs {
        total: runs.len(),
        nodes: runs.into_iter().take(first(args)).collect(),
    })
}
