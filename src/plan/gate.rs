//! The image-readiness gate: which commit of a PR a service deploys when the fleet names a
//! `build_check` for it.
//!
//! A head is deployed only once its build check succeeded; until then the preview stays on the
//! newest earlier commit of the PR whose build succeeded (the sync knows it, and has that
//! commit's files), with a diagnostic saying why. A PR with no built commit at all gets no
//! preview ([`ExclusionReason::WaitingForBuild`]): that is GitHub's answer, known only once the
//! head's status was read and the PR's commits were looked through for a built one. Until then
//! the PR waits with [`ExclusionReason::BuildUnknown`], which is no evidence (a PR that may hold
//! a preview is then held, not dropped: see `hold`). No image is ever assumed to exist. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Diagnostic, ExclusionReason, PullFacts};
use crate::fleet::Service;
use crate::naming::PreviewKey;
use crate::pull_request::{BuildStatus, HeadFacts};

/// What the build check says about one PR of one gated service, by `(service, PR number)`.
pub type Builds = BTreeMap<PreviewKey, BuildFacts>;

/// What is known about a PR's builds, for a service with a `build_check`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BuildFacts {
    /// The build check's answer for the PR's head commit; `None` when it could not be read.
    pub head: Option<BuildStatus>,
    /// The newest other commit of the PR whose build succeeded, with its facts, when one is
    /// known and its files have been read.
    pub fallback: Option<BuiltCommit>,
    /// Whether `fallback` is the whole truth: the PR's commits were looked through for a built
    /// one (or its head was seen built) and that commit's files are read. `false` while a built
    /// commit may exist that is not known or not read yet (after a restart, or while GitHub
    /// fails): an empty `fallback` then proves nothing.
    pub fallback_known: bool,
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
    let build = builds.get(&PreviewKey::new(service.name.clone(), facts.pr.number));
    let status = build.and_then(|b| b.head.as_ref());
    if let (Some(BuildStatus::Succeeded), Some(head)) = (status, &facts.head) {
        return Ok(Deployable {
            revision: &facts.pr.head_sha,
            head,
            diagnostic: None,
        });
    }
    let waiting = match (status, build.is_some_and(|b| b.fallback_known)) {
        // Built, but the head's files are not read yet: the usual "pending".
        (Some(BuildStatus::Succeeded), _) => ExclusionReason::Pending,
        // Not built, and no earlier commit of it is: GitHub's answer.
        (Some(BuildStatus::Pending | BuildStatus::Failed { .. }), true) => {
            ExclusionReason::WaitingForBuild
        }
        // The head's status is not read, or an earlier built commit may exist unread.
        _ => ExclusionReason::BuildUnknown,
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
