//! The real octocrab adapter as a `PreviewReporter` (deployments, statuses, the sticky comment)
//! against the fake GitHub, over real HTTP. The fake checks every body both ways against
//! GitHub's schemas.
#![allow(clippy::unwrap_used)]

#[path = "github_reporter/comments.rs"]
mod comments;
#[path = "github_reporter/errors.rs"]
mod errors;
#[path = "github_reporter/fake_rules.rs"]
mod fake_rules;
mod support;

use std::time::Duration;

use serde_json::json;

use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::github::{NewDeployment, NewStatus, PreviewReporter};
use preview_tower::lifecycle::State;
use preview_tower::naming::RepoName;
use preview_tower::naming::ServiceName;
use support::app_key::TestAppKey;
use support::fake_github::{AuthSeen, Endpoint, FakeGitHub, FakePull, FakeStatus};

const REPO: &str = "acme/web";
const TOKEN: &str = "ghp_0123456789abcdefTOPSECRET";
const PR: u64 = 7;

fn repo() -> RepoName {
    REPO.parse().unwrap()
}

fn web() -> ServiceName {
    ServiceName::new("web").unwrap()
}

/// A fake with `acme/web` and PR 7 open (its head is a known commit).
async fn fake() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    github.open_pull(REPO, FakePull::new(PR));
    github
}

fn head() -> String {
    FakePull::new(PR).head_sha
}

fn source(github: &FakeGitHub) -> GitHubSource {
    source_with_timeout(github, Duration::from_secs(5))
}

fn source_with_timeout(github: &FakeGitHub, timeout: Duration) -> GitHubSource {
    GitHubSource::new(github.url(), Credentials::token(TOKEN).unwrap(), timeout).unwrap()
}

fn new_deployment(environment: &str) -> NewDeployment {
    NewDeployment {
        environment: environment.into(),
        sha: head(),
        service: web(),
        number: PR,
        issues: vec!["SHOP-7".parse().unwrap()],
        description: "Preview of #7".into(),
    }
}

fn status(state: State, environment_url: Option<&str>, log_url: Option<&str>) -> NewStatus {
    NewStatus {
        state,
        environment_url: environment_url.map(str::to_owned),
        log_url: log_url.map(str::to_owned),
        description: format!("{state:?}"),
    }
}

fn ours(service: &str, number: u64) -> serde_json::Value {
    json!({"preview_tower": {"service": service, "pull_request": number}})
}

#[tokio::test]
async fn a_deployment_goes_through_its_states_and_reads_back() {
    let github = fake().await;
    let source = source(&github);
    let env = "preview-web-pr-7";
    let id = source
        .create_deployment(&repo(), &new_deployment(env))
        .await
        .unwrap();
    let url = "https://web-pr-7.preview.example";
    let log = "https://argocd.example/applications/preview-web-pr-7";
    for (state, expected) in [
        (status(State::Queued, None, None), State::Queued),
        (
            status(State::InProgress, None, Some(log)),
            State::InProgress,
        ),
        (status(State::Success, Some(url), Some(log)), State::Success),
        (status(State::Inactive, None, None), State::Inactive),
    ] {
        source.create_status(&repo(), id, &state).await.unwrap();
        let shown = source.deployments(&repo(), Some(env), 10).await.unwrap();
        assert_eq!(shown.len(), 1);
        let shown = &shown[0];
        assert_eq!((shown.id, shown.state), (id, Some(expected)));
        assert_eq!((shown.number, &shown.service), (PR, &web()));
        assert_eq!(
            shown.issues,
            vec!["SHOP-7".parse().unwrap()],
            "the Jira keys come back"
        );
        assert_eq!((shown.environment.as_str(), &shown.sha), (env, &head()));
    }

    let deployments = github.deployments(REPO);
    assert_eq!(deployments.len(), 1);
    let held = &deployments[0];
    assert_eq!(
        (held.id, held.task.as_str(), &held.sha),
        (id, "deploy:preview", &head())
    );
    assert!(held.transient && !held.production);
    assert_eq!(
        held.payload,
        json!({"preview_tower": {"service": "web", "pull_request": PR, "issues": ["SHOP-7"]}})
    );
    let states: Vec<&str> = held.statuses.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["queued", "in_progress", "success", "inactive"]);
    assert_eq!(
        held.statuses[2],
        FakeStatus {
            id: held.statuses[2].id,
            state: "success".into(),
            environment_url: url.into(),
            log_url: log.into(),
            description: "Success".into(),
        }
    );
    assert_eq!(github.write_count(), 5);
    assert!(github.requests().iter().all(|r| r.auth == AuthSeen::Token));
}

#[tokio::test]
async fn other_tools_deployments_and_other_environments_are_left_out() {
    let github = fake().await;
    let sha = head();
    let env = "preview-web-pr-7";
    let theirs = github.add_deployment(REPO, "deploy", env, &sha, ours("web", PR));
    let foreign = github.add_deployment(
        REPO,
        "deploy:preview",
        env,
        &sha,
        json!("{ \"deploy\": \"migrate\" }"),
    );
    let bad_name = github.add_deployment(REPO, "deploy:preview", env, &sha, ours("Web App", PR));
    let as_text = github.add_deployment(
        REPO,
        "deploy:preview",
        env,
        &sha,
        json!(ours("web", PR).to_string()),
    );
    let other_env = github.add_deployment(
        REPO,
        "deploy:preview",
        "preview-api-pr-7",
        &sha,
        ours("api", PR),
    );
    // Any workflow can create a deployment looking like ours: another account made it.
    let planted = github.add_deployment_by(
        "github-actions[bot]",
        REPO,
        "deploy:preview",
        env,
        &sha,
        ours("web", PR),
    );
    github.add_status(REPO, as_text, "success");
    let source = source(&github);

    let in_env = source.deployments(&repo(), Some(env), 10).await.unwrap();
    assert_eq!(in_env.len(), 1, "{in_env:?}");
    assert_eq!(
        (in_env[0].id, in_env[0].state),
        (as_text, Some(State::Success))
    );

    let all = source.deployments(&repo(), None, 10).await.unwrap();
    let ids: Vec<u64> = all.iter().map(|s| s.id).collect();
    assert_eq!(ids, [other_env, as_text], "newest first");
    assert_eq!(all[0].state, None, "no status yet");
    for skipped in [theirs, foreign, bad_name, planted] {
        assert!(!ids.contains(&skipped));
    }
    let listed = github.requests();
    let list = listed
        .iter()
        .find(|r| r.endpoint == Endpoint::Deployments)
        .unwrap();
    assert!(list.path.contains("task=deploy%3Apreview"), "{}", list.path);
    assert!(list.path.contains("per_page=100"), "{}", list.path);
}

#[tokio::test]
async fn more_than_a_hundred_deployments_are_paged_and_the_limit_holds() {
    let github = fake().await;
    let sha = head();
    let ids: Vec<u64> = (1..=130)
        .map(|n| {
            github.add_deployment(
                REPO,
                "deploy:preview",
                &format!("e-{n}"),
                &sha,
                ours("web", n),
            )
        })
        .collect();
    github.add_status(REPO, ids[0], "inactive");
    let source = source(&github);

    let all = source.deployments(&repo(), None, 1000).await.unwrap();
    let newest_first: Vec<u64> = ids.iter().rev().copied().collect();
    assert_eq!(all.iter().map(|s| s.id).collect::<Vec<_>>(), newest_first);
    assert_eq!(all.last().unwrap().state, Some(State::Inactive));
    assert_eq!(github.count(Endpoint::Deployments), 2);
    assert_eq!(github.count(Endpoint::Statuses), 130);

    // Nothing changed: every page revalidates with its ETag, at no rate-limit cost.
    let used = github.rate_limit_used();
    assert_eq!(source.deployments(&repo(), None, 1000).await.unwrap(), all);
    assert_eq!(github.rate_limit_used(), used);

    github.clear_requests();
    let five = source.deployments(&repo(), None, 5).await.unwrap();
    assert_eq!(
        five.iter().map(|s| s.id).collect::<Vec<_>>(),
        newest_first[..5]
    );
    assert_eq!(
        github.count(Endpoint::Deployments),
        1,
        "stops paging at the limit"
    );
    assert_eq!(github.count(Endpoint::Statuses), 5);
    assert!(
        source
            .deployments(&repo(), None, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_latest_status_is_found_across_pages() {
    let github = fake().await;
    let id = github.add_deployment(REPO, "deploy:preview", "e", &head(), ours("web", PR));
    for _ in 0..150 {
        github.add_status(REPO, id, "in_progress");
    }
    github.add_status(REPO, id, "failure");
    let shown = source(&github)
        .deployments(&repo(), None, 10)
        .await
        .unwrap();
    assert_eq!(shown[0].state, Some(State::Failure));
}

#[tokio::test]
async fn long_descriptions_are_cut_to_what_github_accepts() {
    let github = fake().await;
    let source = source(&github);
    let id = source
        .create_deployment(&repo(), &new_deployment("e"))
        .await
        .unwrap();
    let mut long = status(State::Failure, None, None);
    long.description = "Sync failed: ".to_owned() + &"ü".repeat(300);
    source.create_status(&repo(), id, &long).await.unwrap();
    let stored = &github.deployments(REPO)[0].statuses[0].description;
    assert_eq!(stored.chars().count(), 140);
    assert!(stored.starts_with("Sync failed: ") && stored.ends_with('…'));
}

#[tokio::test]
async fn auto_merge_and_pending_checks_cannot_block_a_preview() {
    let github = fake().await;
    github.deployments_behind_base(true);
    github.checks_pending(true);
    let source = source(&github);
    source
        .create_deployment(&repo(), &new_deployment("e"))
        .await
        .unwrap();
    assert_eq!(github.deployments(REPO).len(), 1);
}

#[tokio::test]
async fn the_github_app_reports_with_its_installation_token() {
    let github = fake().await;
    let key = TestAppKey::shared();
    github.register_app(4242, &key.public_der);
    github.app_installation("acme", 77);
    let credentials = Credentials::app(4242, key.private_pem.clone()).unwrap();
    let source = GitHubSource::new(github.url(), credentials, Duration::from_secs(5)).unwrap();

    let id = source
        .create_deployment(&repo(), &new_deployment("e"))
        .await
        .unwrap();
    source
        .create_status(&repo(), id, &status(State::Queued, None, None))
        .await
        .unwrap();
    let comment = source
        .create_comment(&repo(), PR, "<!-- m -->\nhi")
        .await
        .unwrap();
    source
        .update_comment(&repo(), comment, "<!-- m -->\nbye")
        .await
        .unwrap();
    let found = source
        .find_comment(&repo(), PR, "<!-- m -->")
        .await
        .unwrap();
    assert_eq!(found.unwrap().body, "<!-- m -->\nbye");
    assert_eq!(
        source.deployments(&repo(), None, 5).await.unwrap()[0].id,
        id
    );

    let log = github.requests();
    let reporting: Vec<_> = log
        .iter()
        .filter(|r| {
            !matches!(
                r.endpoint,
                Endpoint::Installation | Endpoint::AccessToken | Endpoint::App
            )
        })
        .collect();
    assert_eq!(reporting.len(), 7);
    assert!(
        reporting
            .iter()
            .all(|r| r.auth == AuthSeen::Installation(77))
    );
    assert_eq!(github.count(Endpoint::Installation), 1);
}
