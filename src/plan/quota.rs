//! The quota: at most so many previews alive, fleet-wide and per repository. Beyond it new
//! previews wait in a queue, in this order:
//!
//! 1. previews alive now keep their place: a full quota never deletes a running preview, even
//!    when the limit was lowered or more were alive (after a restart those with an Argo CD
//!    Application; without the Applications, every open PR of a service not read in full
//!    yet). A held preview (alive perhaps, not read) keeps its slot too;
//! 2. PRs with the priority label (`preview-priority`) go first;
//! 3. then in order of labelling (when the opt-in label was last added; unknown last);
//! 4. then by PR number, then service, so the order is total and stable.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Exclusion, ExclusionReason, Preview};
use crate::fleet::Quota;
use crate::naming::RepoName;

/// Which limit keeps a preview waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaScope {
    /// `quota.max_previews`: the whole fleet.
    Fleet,
    /// `quota.max_previews_per_repo`: the PR's repository.
    Repo,
}

impl QuotaScope {
    /// A few words for humans.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Fleet => "every preview slot of the fleet is taken",
            Self::Repo => "every preview slot of this repository is taken",
        }
    }
}

/// A preview that may run if the quota allows.
#[derive(Debug)]
pub(super) struct Candidate {
    pub(super) preview: Preview,
    pub(super) repo: RepoName,
    /// In the plan being served now.
    pub(super) live: bool,
    /// The PR carries the priority label.
    pub(super) priority: bool,
    /// When the opt-in label was last added.
    pub(super) labelled_at: Option<DateTime<Utc>>,
    /// Fleet order of the service, for a stable order.
    pub(super) service_index: usize,
}

impl Candidate {
    fn queue_key(&self) -> (bool, bool, bool, Option<DateTime<Utc>>, u64, usize) {
        (
            !self.live,
            !self.priority,
            self.labelled_at.is_none(),
            self.labelled_at,
            self.preview.pr.number,
            self.service_index,
        )
    }
}

/// Splits `candidates` into the previews that run and those that wait, in queue order, with
/// a slot taken in its repo (and the fleet) for each held preview (its repo in `held`).
pub(super) fn admit(
    quota: &Quota,
    mut candidates: Vec<Candidate>,
    held: impl IntoIterator<Item = RepoName>,
) -> (Vec<Preview>, Vec<Exclusion>) {
    candidates.sort_by_key(Candidate::queue_key);
    let mut fleet_count = 0u32;
    let mut repo_count: BTreeMap<RepoName, u32> = BTreeMap::new();
    // A held preview may be running: it takes its slot, so that a new one does not.
    for repo in held {
        *repo_count.entry(repo).or_default() += 1;
        fleet_count += 1;
    }
    let mut fleet_queue = 0u32;
    let mut repo_queue: BTreeMap<RepoName, u32> = BTreeMap::new();
    let mut admitted = Vec::new();
    let mut queued = Vec::new();
    for candidate in candidates {
        let in_repo = repo_count.entry(candidate.repo.clone()).or_default();
        let full = match (quota.max_previews_per_repo, quota.max_previews) {
            // A live preview is never queued: that would delete it. It counts, so new ones wait.
            _ if candidate.live => None,
            (Some(limit), _) if *in_repo >= limit => Some((QuotaScope::Repo, limit)),
            (_, Some(limit)) if fleet_count >= limit => Some((QuotaScope::Fleet, limit)),
            _ => None,
        };
        match full {
            None => {
                *in_repo += 1;
                fleet_count += 1;
                admitted.push(candidate.preview);
            }
            Some((scope, limit)) => {
                let position = match scope {
                    QuotaScope::Fleet => &mut fleet_queue,
                    QuotaScope::Repo => repo_queue.entry(candidate.repo.clone()).or_default(),
                };
                *position += 1;
                queued.push(Exclusion {
                    service: candidate.preview.service.clone(),
                    number: candidate.preview.pr.number,
                    reason: ExclusionReason::Queued {
                        position: *position,
                        scope,
                        limit,
                    },
                    pr: Some(std::sync::Arc::clone(&candidate.preview.pr)),
                });
            }
        }
    }
    (admitted, queued)
}

#[cfg(test)]
mod tests;
