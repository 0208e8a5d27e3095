//! The image-readiness gate through the sync: `billing` waits for its build check.

use super::*;
use crate::plan::{Diagnostic, ExclusionReason};
use crate::pull_request::BuildStatus;

const CHECK: &str = "preview-ready";

fn gated() -> Harness {
    let mut fleet = fleet();
    fleet.services[2].policy.build_check = Some(CHECK.into());
    let h = harness_with(fleet);
    h.source.with(|s| {
        s.pulls.insert("acme/billing".into(), vec![pr(8)]);
        s.commits.insert(8, vec![sha(8)]);
        s.builds.insert(sha(8), BuildStatus::Succeeded);
        s.files.insert(sha(8), "ttl: 5d\n".into());
    });
    h
}

fn billing() -> RepoName {
    repo("acme/billing")
}

/// `(revision, diagnostics)` of billing's preview of `number`, if any.
fn billing_preview(h: &Harness, number: u64) -> Option<(String, Vec<Diagnostic>)> {
    let snapshot = h.store.load();
    let preview = snapshot
        .plan()
        .previews
        .iter()
        .find(|p| p.service.as_str() == "billing" && p.pr.number == number)?;
    Some((preview.revision.clone(), preview.diagnostics.clone()))
}

fn excluded(h: &Harness, number: u64) -> Option<ExclusionReason> {
    let snapshot = h.store.load();
    let plan = snapshot.plan();
    let exclusion = plan
        .excluded
        .iter()
        .find(|e| e.service.as_str() == "billing" && e.number == number)?;
    Some(exclusion.reason)
}

/// PR 8 pushed to `head` (seed), its commits newest first.
fn push(h: &Harness, head: u64, status: Option<BuildStatus>) {
    let mut pushed = pr(8);
    pushed.head_sha = sha(head);
    h.source.with(|s| {
        s.pulls.insert("acme/billing".into(), vec![pushed]);
        s.commits.entry(8).or_default().insert(0, sha(head));
        s.files.insert(sha(head), "ttl: 1d\n".into());
        if let Some(status) = status {
            s.builds.insert(sha(head), status);
        }
    });
}

fn pending(head: u64) -> Diagnostic {
    Diagnostic::BuildPending {
        sha: sha(head),
        check: CHECK.into(),
    }
}

#[tokio::test]
async fn a_pushed_head_is_deployed_only_once_built() {
    let h = gated();
    h.syncer.refresh_all().await.expect("sync");
    assert_eq!(billing_preview(&h, 8), Some((sha(8), vec![])));

    push(&h, 808, None);
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(billing_preview(&h, 8), Some((sha(8), vec![pending(808)])));
    let ttl = h.store.load().plan().previews.last().map(|p| p.ttl);
    assert_eq!(
        ttl,
        Some(Duration::from_secs(5 * 86_400)),
        "the config of the commit it runs"
    );

    h.source
        .with(|s| drop(s.builds.insert(sha(808), BuildStatus::Succeeded)));
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(billing_preview(&h, 8), Some((sha(808), vec![])));
    assert_eq!(h.source.calls("commits"), 0, "nothing to search for");
}

#[tokio::test]
async fn a_failed_build_keeps_the_preview_until_a_rerun_passes() {
    let h = gated();
    h.syncer.refresh_all().await.expect("sync");
    let failure = BuildStatus::Failed {
        conclusion: "failure".into(),
    };
    push(&h, 808, Some(failure));
    h.syncer.refresh(&billing()).await.expect("refresh");
    let (revision, diagnostics) = billing_preview(&h, 8).expect("kept");
    assert_eq!(revision, sha(8));
    assert!(
        matches!(&diagnostics[..], [Diagnostic::BuildFailed { conclusion, .. }] if conclusion == "failure")
    );

    h.source
        .with(|s| drop(s.builds.insert(sha(808), BuildStatus::Succeeded)));
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(billing_preview(&h, 8), Some((sha(808), vec![])));
}

#[tokio::test]
async fn a_success_is_read_once_and_a_pending_build_at_every_refresh() {
    let h = gated();
    push(&h, 808, None);
    h.source
        .with(|s| drop(s.commits.insert(8, vec![sha(808), sha(8)])));
    for _ in 0..3 {
        h.syncer.refresh(&billing()).await.expect("refresh");
    }
    assert_eq!(
        h.source.calls(&format!("build acme/billing {}", sha(808))),
        3
    );
    assert_eq!(
        h.source.calls(&format!("build acme/billing {}", sha(8))),
        1,
        "found built once, then known"
    );
    assert_eq!(h.source.calls("commits acme/billing 8"), 1);
    assert_eq!(
        h.source
            .calls(&format!("build acme/billing {} {CHECK}", sha(808))),
        3,
        "asked by the fleet's check name"
    );
}

#[tokio::test]
async fn a_pr_never_built_waits_and_its_commits_are_searched_once_per_push() {
    let h = gated();
    let mut new = pr(9);
    new.head_sha = sha(909);
    h.source.with(|s| {
        s.pulls.insert("acme/billing".into(), vec![pr(8), new]);
        s.commits.insert(9, vec![sha(909), sha(900)]);
        s.builds.insert(
            sha(900),
            BuildStatus::Failed {
                conclusion: "cancelled".into(),
            },
        );
    });
    h.syncer.refresh_all().await.expect("sync");
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(billing_preview(&h, 9), None);
    assert_eq!(excluded(&h, 9), Some(ExclusionReason::WaitingForBuild));
    assert_eq!(h.source.calls("commits acme/billing 9"), 1);

    h.source
        .with(|s| drop(s.builds.insert(sha(909), BuildStatus::Succeeded)));
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(billing_preview(&h, 9), Some((sha(909), vec![])));
    assert_eq!(excluded(&h, 9), None);
}

#[tokio::test]
async fn after_a_restart_a_building_head_keeps_the_newest_built_commit() {
    // A fresh process: PR 8's head 808 is building, 8 was built before, 7 before that.
    let h = gated();
    push(&h, 808, None);
    h.source.with(|s| {
        s.commits.insert(8, vec![sha(808), sha(8), sha(7)]);
        s.builds.insert(sha(7), BuildStatus::Succeeded);
    });
    h.syncer.refresh_all().await.expect("sync");
    assert_eq!(billing_preview(&h, 8), Some((sha(8), vec![pending(808)])));
    assert_eq!(
        h.source.calls(&format!("build acme/billing {}", sha(7))),
        0,
        "the search stops at the newest built commit"
    );
    assert_eq!(
        h.source.calls(&format!("file acme/billing {}", sha(8))),
        1,
        "the files of the commit it runs are read"
    );
}

#[tokio::test]
async fn an_unreadable_build_status_keeps_the_last_built_commit() {
    let h = gated();
    h.syncer.refresh_all().await.expect("sync");
    push(&h, 808, Some(BuildStatus::Succeeded));
    h.source.with(|s| s.failing_builds.push(sha(808)));
    assert!(
        h.syncer.refresh(&billing()).await.is_err(),
        "reported, so the loop backs off"
    );
    assert_eq!(billing_preview(&h, 8), Some((sha(8), vec![pending(808)])));
    h.source.with(|s| s.failing_builds.clear());
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(billing_preview(&h, 8), Some((sha(808), vec![])));
}

#[tokio::test]
async fn ungated_services_never_ask_for_builds() {
    let h = harness();
    h.syncer.refresh_all().await.expect("sync");
    assert_eq!(h.source.calls("build"), 0);
    assert_eq!(h.source.calls("commits"), 0);
}

#[tokio::test]
async fn a_search_made_before_the_applications_are_listed_proves_nothing() {
    // After a restart: PR 9's head builds, none of its listed commits ever built (a rebase),
    // and its Application runs commit 900, which was built.
    let index = Arc::new(crate::argocd::ApplicationIndex::default());
    let mut h = gated();
    h.syncer = h.syncer.with_applications(Arc::clone(&index));
    h.source.with(|s| {
        s.pulls.insert("acme/billing".into(), vec![pr(9)]);
        s.commits.insert(9, vec![sha(9), sha(901)]);
        s.builds.insert(sha(900), BuildStatus::Succeeded);
        s.files.insert(sha(900), "ttl: 5d\n".into());
    });
    // The Applications are not listed yet: the PR might hold a preview, and nothing found
    // proves it has no built commit.
    let _ = h.syncer.refresh(&billing()).await;
    assert_eq!(excluded(&h, 9), None);
    assert!(h.store.load().plan().held.iter().any(|h| h.number == 9));
    // Not searched again at every refresh while they stay unknown.
    let _ = h.syncer.refresh(&billing()).await;
    assert_eq!(h.source.calls("commits acme/billing 9"), 1);
    // Listed: the search is made again with the Application's commit, and finds it.
    let app: crate::argocd::Application = serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "preview-billing-pr-9", "namespace": "argocd"},
        "spec": {"project": "previews"},
        "status": {"sync": {"status": "Synced", "revision": sha(900)}},
    }))
    .expect("an Application");
    index.apply(kube::runtime::watcher::Event::Init);
    index.apply(kube::runtime::watcher::Event::InitApply(app));
    index.apply(kube::runtime::watcher::Event::InitDone);
    h.syncer.refresh(&billing()).await.expect("refresh");
    assert_eq!(
        billing_preview(&h, 9).map(|(revision, _)| revision),
        Some(sha(900))
    );
    assert_eq!(h.source.calls("commits acme/billing 9"), 2);
}
