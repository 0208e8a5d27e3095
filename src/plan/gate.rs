//! The image-readiness gate: which commit of a PR a service deploys when the fleet names a
//! `build_check` for it.
//!
//! A head is deployed only once its build check succeeded; until then the preview stays on the
//! newest earlier commit of the PR whose build succeeded (the sync knows it, and has that
//! commit's files), with a diagnostic saying why. A PR with no built commit at all gets no
//! preview ([`ExclusionReason::WaitingForBuild`]). A gated service's PR with no build facts is
//! treated as never built: no image is ever assumed to exist. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Diagnostic, ExclusionReason, PullFacts};
use crate::fleet::{Service, ServiceName};
use crate::pull_request::{BuildStatus, HeadFacts};

/// What the build check says about one PR of one gated service, by `(service, PR number)`.
pub type Builds = BTreeMap<(ServiceName, u64), BuildFacts>;

/// What is known about a PR's builds, for a service with a `build_check`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BuildFacts {
    /// The build check's answer for the PR's head commit; `None` when it could not be read.
    pub head: Option<BuildStatus>,
    /// The newest other commit of the PR whose build succeeded, with its facts, when one is
    /// known and its files have been read.
    pub fallback: Option<BuiltCommit>,
}

/// A commit whose image exists, and what the planner needs at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuiltCommit {
    /// The commit (a full SHA).
    pub sha: String,
    /// Its config file and seed tree.
    pub facts: HeadFacts,
}

/// The commit a preview deploys, the facts at it, and a diagnostic when it is not the head.
pub(super) struct Deployable<'a> {
    pub(super) revision: &'a str,
    pub(super) head: &'a HeadFacts,
    pub(super) diagnostic: Option<Diagnostic>,
}

/// What `service` deploys of the eligible PR `facts`, or why nothing.
pub(super) fn deployable<'a>(
    service: &Service,
    facts: &'a PullFacts,
    builds: &'a Builds,
) -> Result<Deployable<'a>, ExclusionReason> {
    let Some(check) = &service.policy.build_check else {
        let head = facts.head.as_ref().ok_or(ExclusionReason::Pending)?;
        return Ok(Deployable {
            revision: &facts.pr.head_sha,
            head,
            diagnostic: None,
        });
    };
    let build = builds.get(&(service.name.clone(), facts.pr.number));
    let status = build.and_then(|b| b.head.as_ref());
    if let (Some(BuildStatus::Succeeded), Some(head)) = (status, &facts.head) {
        return Ok(Deployable {
            revision: &facts.pr.head_sha,
            head,
            diagnostic: None,
        });
    }
    let waiting = match status {
        // Built, but the head's files are not read yet: the usual "pending".
        Some(BuildStatus::Succeeded) => ExclusionReason::Pending,
        _ => ExclusionReason::WaitingForBuild,
    };
    let fallback = build
        .and_then(|b| b.fallback.as_ref())
        .filter(|f| f.sha != facts.pr.head_sha)
        .ok_or(waiting)?;
    let sha = facts.pr.head_sha.clone();
    let check = check.clone();
    let diagnostic = match status {
        Some(BuildStatus::Failed { conclusion }) => Diagnostic::BuildFailed {
            sha,
            check,
            conclusion: conclusion.clone(),
        },
        _ => Diagnostic::BuildPending { sha, check },
    };
    Ok(Deployable {
        revision: &fallback.sha,
        head: &fallback.facts,
        diagnostic: Some(diagnostic),
    })
}

#[cfg(test)]
mod tests;
