//! The fake's own GitHub rules, over raw HTTP: what the lifecycle tests lean on must hold.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::fake_github::FakeGitHub;
use super::{REPO, TOKEN, fake, head};

async fn call(github: &FakeGitHub, method: Method, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", github.url().as_str().trim_end_matches('/'));
    let response = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn deploy(github: &FakeGitHub, body: Value) -> (u16, Value) {
    let path = format!("/repos/{REPO}/deployments");
    call(github, Method::POST, &path, body).await
}

#[tokio::test]
async fn github_defaults_get_in_the_way_of_previews() {
    let github = fake().await;
    github.deployments_behind_base(true);
    let (status, body) = deploy(&github, json!({"ref": head()})).await;
    assert_eq!(status, 202);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Auto-merged main into")
    );

    github.deployments_behind_base(false);
    github.checks_pending(true);
    let (status, _) = deploy(&github, json!({"ref": head(), "required_contexts": ["ci"]})).await;
    assert_eq!(status, 409);
    let (status, body) = deploy(&github, json!({"ref": head(), "required_contexts": []})).await;
    assert_eq!(status, 201);
    assert_eq!(
        (
            body["environment"].clone(),
            body["production_environment"].clone()
        ),
        (json!("production"), json!(true))
    );
    assert_eq!(body["creator"]["type"], "Bot");

    let (status, body) = deploy(
        &github,
        json!({"ref": "f".repeat(40), "required_contexts": []}),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            422,
            format!("No ref found for: {}", "f".repeat(40)).as_str()
        )
    );
    assert!(github.take_violations().is_empty());
}

#[tokio::test]
async fn bad_requests_are_refused_and_recorded() {
    let github = fake().await;
    let (status, _) = deploy(&github, json!({"ref": head(), "auto_merg": false})).await;
    assert_eq!(status, 422, "a misspelt field");
    let (status, _) = deploy(
        &github,
        json!({"ref": head(), "transient_environment": "yes"}),
    )
    .await;
    assert_eq!(status, 422, "a wrong type");
    assert_eq!(github.take_violations().len(), 2);

    let (_, deployment) = deploy(&github, json!({"ref": head(), "environment": "e"})).await;
    let path = format!("/repos/{REPO}/deployments/{}/statuses", deployment["id"]);
    let (status, _) = call(
        &github,
        Method::POST,
        &path,
        json!({"state": "success", "description": "x".repeat(141)}),
    )
    .await;
    assert_eq!(status, 422, "over 140 characters");
    let (status, _) = call(&github, Method::POST, &path, json!({"state": "destroyed"})).await;
    assert_eq!(status, 422, "not a state");
    assert_eq!(
        github.take_violations().len(),
        1,
        "the length rule is no schema rule"
    );
    let (status, body) = call(
        &github,
        Method::POST,
        &path,
        json!({"state": "success", "log_url": "https://l"}),
    )
    .await;
    assert_eq!(
        (status, body["target_url"].as_str()),
        (201, Some("https://l"))
    );
}

#[tokio::test]
async fn lists_filter_and_page_as_github_does() {
    let github = fake().await;
    for environment in ["a", "b", "a"] {
        deploy(&github, json!({"ref": head(), "environment": environment})).await;
    }
    let path = format!("/repos/{REPO}/deployments?environment=a&per_page=1");
    let url = format!("{}{}", github.url().as_str().trim_end_matches('/'), path);
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = response.json().await.unwrap();
    let ids = github
        .deployments(REPO)
        .iter()
        .map(|d| d.id)
        .collect::<Vec<_>>();
    assert_eq!(page[0]["id"], ids[2], "newest first");
    assert!(
        link.contains("/repositories/")
            && link.contains("environment=a")
            && link.contains("page=2>; rel=\"next\""),
        "{link}"
    );
}
