//! What `decide` does as previews change: new commits, removals, held previews, services not
//! planned, Applications being deleted, half-made deployments, reverted heads.

use super::*;

#[test]
fn a_new_commit_gets_a_new_deployment_and_the_old_one_goes_inactive() {
    let syncing = [app(
        1,
        AppSync::OutOfSync,
        Some(10),
        Health::Healthy,
        Some(Phase::Running),
    )];
    let actions = decide(
        &[desired(1, 11)],
        &syncing,
        &[shown(7, 1, 10, Some(State::Success))],
        &web(),
        &none_held(),
        None,
    );
    assert_eq!(
        summary(&actions),
        (
            1,
            vec![
                (created(1, 11), State::InProgress),
                (Target::Existing(7), State::Inactive)
            ]
        )
    );
}

#[test]
fn a_removed_preview_goes_inactive_once() {
    let shown_now = [
        shown(7, 1, 10, Some(State::Inactive)),
        shown(8, 1, 11, Some(State::Success)),
    ];
    let actions = decide(&[], &[], &shown_now, &web(), &none_held(), None);
    assert_eq!(
        summary(&actions),
        (0, vec![(Target::Existing(8), State::Inactive)])
    );
}

#[test]
fn a_held_preview_keeps_its_deployment_as_it_is() {
    // PR 1 may have a preview whose facts are not read (a restart during a GitHub fault): it
    // is neither desired nor gone. PR 2 is gone for real.
    let shown_now = [
        shown(8, 1, 11, Some(State::Success)),
        shown(9, 2, 12, Some(State::Success)),
    ];
    let held = BTreeSet::from([PreviewKey::new(name("web"), 1)]);
    let actions = decide(&[], &[], &shown_now, &web(), &held, None);
    assert_eq!(
        summary(&actions),
        (0, vec![(Target::Existing(9), State::Inactive)])
    );
}

#[test]
fn deployments_of_services_not_planned_are_left_alone() {
    let actions = decide(
        &[],
        &[],
        &[shown(8, 1, 11, Some(State::Success))],
        &BTreeSet::from([name("api")]),
        &none_held(),
        None,
    );
    assert!(
        actions.is_empty(),
        "an unplanned service is unknown, not gone: {actions:?}"
    );
}

#[test]
fn an_application_being_deleted_is_not_reported_up() {
    let mut deleting = app(
        1,
        AppSync::Synced,
        Some(10),
        Health::Healthy,
        Some(Phase::Succeeded),
    );
    deleting.deleting = true;
    let actions = decide(
        &[desired(1, 10)],
        &[deleting],
        &[shown(5, 1, 10, Some(State::Success))],
        &web(),
        &none_held(),
        Some(ARGOCD),
    );
    assert_eq!(
        summary(&actions),
        (0, vec![(Target::Existing(5), State::InProgress)])
    );
}

#[test]
fn a_deployment_created_without_its_status_gets_one_without_a_second_deployment() {
    // The create succeeded but the status write failed: the read back shows no status.
    let actions = decide(
        &[desired(1, 10)],
        &[],
        &[shown(5, 1, 10, None)],
        &web(),
        &none_held(),
        Some(ARGOCD),
    );
    assert_eq!(
        summary(&actions),
        (0, vec![(Target::Existing(5), State::Queued)])
    );
}

#[test]
fn the_old_commits_failure_does_not_fail_the_new_commit() {
    use Health::*;
    let cases = [
        // The sync of commit 9 failed; commit 10 is the one wanted now.
        (AppSync::OutOfSync, Some(9), Healthy, Some(Phase::Failed)),
        // Commit 9's pods are broken.
        (
            AppSync::OutOfSync,
            Some(9),
            Degraded,
            Some(Phase::Succeeded),
        ),
        // Commit 10 is synced and looks healthy, but its hooks still run.
        (AppSync::Synced, Some(10), Healthy, Some(Phase::Running)),
    ];
    for (sync, revision, health, phase) in cases {
        let observed = [app(1, sync, revision, health, phase)];
        let actions = decide(
            &[desired(1, 10)],
            &observed,
            &[shown(7, 1, 10, Some(State::Queued))],
            &web(),
            &none_held(),
            Some(ARGOCD),
        );
        assert_eq!(
            summary(&actions),
            (0, vec![(Target::Existing(7), State::InProgress)]),
            "{sync:?} {revision:?} {health:?} {phase:?}"
        );
    }
}

#[test]
fn a_reverted_head_gets_a_new_deployment_instead_of_reviving_an_inactive_one() {
    let actions = decide(
        &[desired(1, 10)],
        &[],
        &[
            shown(5, 1, 10, Some(State::Inactive)),
            shown(6, 1, 11, Some(State::Success)),
        ],
        &web(),
        &none_held(),
        Some(ARGOCD),
    );
    assert_eq!(
        summary(&actions),
        (
            1,
            vec![
                (created(1, 10), State::Queued),
                (Target::Existing(6), State::Inactive)
            ]
        )
    );
}
