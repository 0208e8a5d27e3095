use std::collections::BTreeSet;

use super::*;
use crate::testing::{name, sha};

mod changes;

const ARGOCD: &str = "https://argocd.example.com/applications/argocd/";

fn desired(number: u64, commit: u64) -> Desired {
    let env = format!("preview-web-pr-{number}");
    Desired {
        service: name("web"),
        number,
        environment: env.clone(),
        sha: sha(commit),
        application: env,
        url: format!("https://web-pr-{number}.preview.example.com"),
    }
}

fn app(
    number: u64,
    sync: AppSync,
    revision: Option<u64>,
    health: Health,
    phase: Option<Phase>,
) -> Observed {
    Observed {
        name: format!("preview-web-pr-{number}"),
        sync,
        revision: revision.map(sha),
        health,
        phase,
        message: Some("container api: ImagePullBackOff".into()),
        operation_revision: revision.map(sha),
        deleting: false,
        external_urls: vec![],
    }
}

fn shown(id: u64, number: u64, commit: u64, state: Option<State>) -> Shown {
    Shown {
        id,
        service: name("web"),
        number,
        issues: vec![],
        environment: format!("preview-web-pr-{number}"),
        sha: sha(commit),
        state,
    }
}

fn web() -> BTreeSet<ServiceName> {
    BTreeSet::from([name("web")])
}

fn none_held() -> BTreeSet<PreviewKey> {
    BTreeSet::new()
}

/// `(target, state)` of every status action, and how many deployments are created.
fn summary(actions: &[Action]) -> (usize, Vec<(Target, State)>) {
    let created = actions
        .iter()
        .filter(|a| matches!(a, Action::CreateDeployment { .. }))
        .count();
    let statuses = actions
        .iter()
        .filter_map(|a| match a {
            Action::SetStatus { target, state, .. } => Some((target.clone(), *state)),
            Action::CreateDeployment { .. } => None,
        })
        .collect();
    (created, statuses)
}

fn created(number: u64, commit: u64) -> Target {
    Target::Created {
        environment: format!("preview-web-pr-{number}"),
        sha: sha(commit),
    }
}

#[test]
fn a_new_preview_gets_a_deployment_queued_until_argo_cd_makes_its_application() {
    let actions = decide(
        &[desired(1, 10)],
        &[],
        &[],
        &web(),
        &none_held(),
        Some(ARGOCD),
    );
    assert_eq!(
        summary(&actions),
        (1, vec![(created(1, 10), State::Queued)])
    );
    assert_eq!(
        actions[0],
        Action::CreateDeployment {
            environment: "preview-web-pr-1".into(),
            sha: sha(10)
        }
    );
}

#[test]
fn transitions_follow_the_application() {
    use Health::*;
    let cases = [
        // (sync, revision, health, phase) → state
        (AppSync::OutOfSync, None, Missing, None, State::InProgress),
        (
            AppSync::OutOfSync,
            Some(9),
            Healthy,
            Some(Phase::Running),
            State::InProgress,
        ),
        (
            AppSync::Synced,
            Some(10),
            Progressing,
            Some(Phase::Succeeded),
            State::InProgress,
        ),
        (
            AppSync::Synced,
            Some(9),
            Healthy,
            Some(Phase::Succeeded),
            State::InProgress,
        ),
        (
            AppSync::Synced,
            Some(10),
            Healthy,
            Some(Phase::Succeeded),
            State::Success,
        ),
        (
            AppSync::Synced,
            Some(10),
            Suspended,
            Some(Phase::Succeeded),
            State::Success,
        ),
        (
            AppSync::Synced,
            Some(10),
            Degraded,
            Some(Phase::Succeeded),
            State::Failure,
        ),
        (
            AppSync::OutOfSync,
            Some(10),
            Progressing,
            Some(Phase::Failed),
            State::Failure,
        ),
        (
            AppSync::Unknown,
            None,
            Unknown,
            Some(Phase::Error),
            State::Failure,
        ),
    ];
    for (sync, revision, health, phase, expected) in cases {
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
            (0, vec![(Target::Existing(7), expected)]),
            "{sync:?} {revision:?} {health:?} {phase:?}"
        );
    }
}

#[test]
fn success_carries_the_urls_and_failure_the_reason() {
    let healthy = [app(
        1,
        AppSync::Synced,
        Some(10),
        Health::Healthy,
        Some(Phase::Succeeded),
    )];
    let actions = decide(
        &[desired(1, 10)],
        &healthy,
        &[shown(7, 1, 10, None)],
        &web(),
        &none_held(),
        Some(ARGOCD),
    );
    let Action::SetStatus {
        environment_url,
        log_url,
        ..
    } = &actions[0]
    else {
        panic!("{actions:?}")
    };
    assert_eq!(
        environment_url.as_deref(),
        Some("https://web-pr-1.preview.example.com")
    );
    assert_eq!(
        log_url.as_deref(),
        Some("https://argocd.example.com/applications/argocd/preview-web-pr-1")
    );
    let mut degraded = app(1, AppSync::Synced, Some(10), Health::Degraded, None);
    degraded.message = Some(format!("bad\n{}", "x".repeat(300)));
    let actions = decide(
        &[desired(1, 10)],
        &[degraded],
        &[shown(7, 1, 10, None)],
        &web(),
        &none_held(),
        None,
    );
    let Action::SetStatus {
        description,
        environment_url,
        ..
    } = &actions[0]
    else {
        panic!("{actions:?}")
    };
    assert!(description.starts_with("degraded: bad"));
    assert!(description.chars().count() <= MAX_DESCRIPTION && !description.contains('\n'));
    assert_eq!(environment_url, &None);
}

#[test]
fn nothing_is_done_twice() {
    let healthy = [app(1, AppSync::Synced, Some(10), Health::Healthy, None)];
    let actions = decide(
        &[desired(1, 10)],
        &healthy,
        &[shown(7, 1, 10, Some(State::Success))],
        &web(),
        &none_held(),
        Some(ARGOCD),
    );
    assert!(actions.is_empty(), "{actions:?}");
}
