//! Holding: a preview that may exist, and whose facts are not read, is neither kept nor dropped.
//!
//! A PR *may hold a preview* when Argo CD has its Application or this process served it
//! ([`super::PullFacts::live`]). When such a PR's facts are not all read (an exclusion that is
//! not [`ExclusionReason::is_evidence`]), the planner can neither compute its parameter set nor
//! prove that it should go: it is *held*, and its service must not be answered (Argo CD deletes
//! whatever an answer leaves out; a `503` changes nothing). The same goes for a PR that may
//! hold a preview and is missing from its repo's listing while GitHub has not confirmed it
//! closed, and for a preview whose repo config asks for a held PR's preview of a dependency
//! (its URLs would point at staging, and its pods roll, for nothing). Pure.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Exclusion, ExclusionReason, Plan, Preview};
use crate::fleet::Fleet;
use crate::naming::{PreviewKey, ServiceName};
use crate::repo_config::DependencyTarget;

/// A PR of a service that may hold a preview and can be neither planned nor left out yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Held {
    /// The service.
    pub service: ServiceName,
    /// The PR number.
    pub number: u64,
    /// What is missing.
    pub reason: HoldReason,
}

impl Held {
    /// Which preview is held.
    pub fn key(&self) -> PreviewKey {
        PreviewKey::new(self.service.clone(), self.number)
    }
}

/// What a held PR waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum HoldReason {
    /// The files of the commit to deploy (repo config, seed path) are not read yet.
    Files,
    /// The build check's answer about its commits is not read yet.
    Build,
    /// It is missing from its repo's listing, and GitHub has not confirmed it closed yet.
    Unlisted,
    /// Its repo config asks for `dependency`'s preview of PR `number`, which is held.
    Dependency {
        /// The dependency.
        dependency: ServiceName,
        /// The dependency's held PR.
        number: u64,
    },
}

impl HoldReason {
    /// The hold for an exclusion that is not evidence (`Pending` or `BuildUnknown`).
    pub(super) fn unread(reason: ExclusionReason) -> Self {
        match reason {
            ExclusionReason::BuildUnknown => Self::Build,
            _ => Self::Files,
        }
    }

    /// A few words for humans.
    pub fn describe(&self) -> String {
        match self {
            Self::Files => "its commit's files are not read yet".into(),
            Self::Build => "its build check is not read yet".into(),
            Self::Unlisted => {
                "missing from the listing, and GitHub has not confirmed it closed yet".into()
            }
            Self::Dependency { dependency, number } => {
                format!("it points at {dependency} PR {number}, which is held")
            }
        }
    }
}

impl Plan {
    /// Holds each PR of `unlisted` (`(service, number)`: it may hold a preview, and is missing
    /// from its repo's listing without GitHub having confirmed it closed) that the plan does
    /// not account for yet, then the previews that point at a held PR.
    pub fn hold_unlisted(&mut self, fleet: &Fleet, unlisted: impl IntoIterator<Item = PreviewKey>) {
        let known: BTreeSet<PreviewKey> = self
            .previews
            .iter()
            .map(Preview::key)
            .chain(self.excluded.iter().map(Exclusion::key))
            .chain(self.held.iter().map(Held::key))
            .collect();
        for key in unlisted {
            if !known.contains(&key) {
                self.held.push(Held {
                    service: key.service,
                    number: key.number,
                    reason: HoldReason::Unlisted,
                });
            }
        }
        hold_dependents(fleet, self);
    }

    /// The held PRs of `service`.
    pub fn held_of<'a>(&'a self, service: &'a ServiceName) -> impl Iterator<Item = &'a Held> {
        self.held.iter().filter(move |h| &h.service == service)
    }
}

/// Holds every preview whose repo config asks for the preview of a held PR of a dependency,
/// then sorts the held PRs in fleet order and PR number. Idempotent. (A preview held only for
/// its own dependency is planned: pointing at it holds nothing.)
pub(super) fn hold_dependents(fleet: &Fleet, plan: &mut Plan) {
    let unplanned: BTreeSet<PreviewKey> = plan
        .held
        .iter()
        .filter(|h| !matches!(h.reason, HoldReason::Dependency { .. }))
        .map(Held::key)
        .collect();
    let held: BTreeSet<PreviewKey> = plan.held.iter().map(Held::key).collect();
    for preview in &plan.previews {
        let key = preview.key();
        if held.contains(&key) {
            continue;
        }
        let waits_for = preview.dependencies.iter().find_map(|d| match d.requested {
            DependencyTarget::PullRequest(number)
                if unplanned.contains(&PreviewKey::new(d.service.clone(), number)) =>
            {
                Some((d.service.clone(), number))
            }
            _ => None,
        });
        if let Some((dependency, number)) = waits_for {
            plan.held.push(Held {
                service: key.service,
                number: key.number,
                reason: HoldReason::Dependency { dependency, number },
            });
        }
    }
    let order = |service: &ServiceName| fleet.services.iter().position(|s| &s.name == service);
    plan.held.sort_by_key(|h| (order(&h.service), h.number));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ExclusionReason, PullFacts};
    use crate::testing::{facts, fleet, key, name, plan_of, pr};

    fn live(mut facts: PullFacts) -> PullFacts {
        facts.live = true;
        facts
    }

    fn unread(number: u64) -> PullFacts {
        let mut facts = facts(pr(number), None);
        facts.head = None;
        facts
    }

    fn held(service: &str, number: u64, reason: HoldReason) -> Held {
        Held {
            service: name(service),
            number,
            reason,
        }
    }

    #[test]
    fn an_unread_pr_that_may_hold_a_preview_is_held_and_a_new_one_waits() {
        let plan = plan_of(&[("billing", vec![live(unread(8)), unread(9)])]);
        assert!(plan.previews.is_empty());
        assert_eq!(plan.held, [held("billing", 8, HoldReason::Files)]);
        let excluded: Vec<_> = plan.excluded.iter().map(|e| (e.number, e.reason)).collect();
        assert_eq!(excluded, [(9, ExclusionReason::Pending)]);
    }

    #[test]
    fn evidence_removes_a_preview_that_may_exist() {
        let mut unlabelled = pr(8);
        unlabelled.labels.clear();
        let mut draft = pr(9);
        draft.draft = true;
        let plan = plan_of(&[(
            "billing",
            vec![live(facts(unlabelled, None)), live(facts(draft, None))],
        )]);
        assert!(plan.held.is_empty() && plan.previews.is_empty());
        let reasons: Vec<_> = plan.excluded.iter().map(|e| e.reason).collect();
        assert_eq!(
            reasons,
            [ExclusionReason::NotLabelled, ExclusionReason::Draft]
        );
        assert!(reasons.iter().all(|r| r.is_evidence()));
    }

    #[test]
    fn a_preview_pointing_at_a_held_pr_is_held_too_and_the_others_are_not() {
        let plan = plan_of(&[
            (
                "web",
                vec![
                    facts(pr(101), Some("dependencies:\n  api: pr-42\n")),
                    facts(pr(102), Some("dependencies:\n  api: pr-43\n")),
                    facts(pr(103), None),
                ],
            ),
            ("api", vec![live(unread(42)), facts(pr(43), None)]),
            ("billing", vec![]),
        ]);
        assert_eq!(
            plan.held,
            [
                held(
                    "web",
                    101,
                    HoldReason::Dependency {
                        dependency: name("api"),
                        number: 42
                    }
                ),
                held("api", 42, HoldReason::Files),
            ]
        );
        let previews: Vec<_> = plan
            .previews
            .iter()
            .map(|p| (p.service.as_str(), p.pr.number))
            .collect();
        assert_eq!(
            previews,
            [("web", 101), ("web", 102), ("web", 103), ("api", 43)],
            "web 101 is planned, but its service is not answered while it is held"
        );
        assert!(
            HoldReason::Dependency {
                dependency: name("api"),
                number: 42
            }
            .describe()
            .contains("api PR 42")
        );
    }

    #[test]
    fn pointing_at_a_preview_held_only_for_its_own_dependency_holds_nothing() {
        // billing 8 is unread; api 42 points at it (held, but planned); web 101 points at
        // api 42, whose URLs are known.
        let plan = plan_of(&[
            (
                "web",
                vec![facts(pr(101), Some("dependencies:\n  api: pr-42\n"))],
            ),
            (
                "api",
                vec![facts(pr(42), Some("dependencies:\n  billing: pr-8\n"))],
            ),
            ("billing", vec![live(unread(8))]),
        ]);
        let held: Vec<_> = plan
            .held
            .iter()
            .map(|h| (h.service.as_str(), h.number))
            .collect();
        assert_eq!(held, [("api", 42), ("billing", 8)]);
        let mut again = plan.clone();
        again.hold_unlisted(&fleet(), []);
        assert_eq!(again.held, plan.held, "a second pass holds nothing more");
    }

    #[test]
    fn a_pr_missing_from_the_listing_is_held_until_github_says_it_closed() {
        let fleet = fleet();
        let mut plan = plan_of(&[
            (
                "web",
                vec![facts(pr(101), Some("dependencies:\n  api: pr-50\n"))],
            ),
            ("api", vec![facts(pr(43), None)]),
        ]);
        let unlisted = [key("api", 50), key("api", 43)];
        plan.hold_unlisted(&fleet, unlisted.clone());
        // 43 is listed (a preview): not held. 50 is held, and web 101 with it.
        assert_eq!(
            plan.held,
            [
                held(
                    "web",
                    101,
                    HoldReason::Dependency {
                        dependency: name("api"),
                        number: 50
                    }
                ),
                held("api", 50, HoldReason::Unlisted),
            ]
        );
        let before = plan.held.clone();
        plan.hold_unlisted(&fleet, unlisted);
        assert_eq!(plan.held, before, "idempotent");
        assert_eq!(plan.held_of(&name("api")).count(), 1);
    }
}
