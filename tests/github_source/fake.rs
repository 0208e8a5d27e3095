//! The fake GitHub answers as GitHub does: `304` to its own `ETag`, and its conformance check
//! sees violations, the one known gap excepted.

use super::support::fake_github::FakePull;
use super::{REPO, TOKEN, fake};

#[tokio::test]
async fn the_fake_answers_304_to_its_own_etag() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(1));
    let client = reqwest::Client::new();
    let url = format!("{}repos/{REPO}/pulls", github.url());
    let first = client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(first.status(), 200);
    for header in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-used",
        "x-ratelimit-reset",
        "x-ratelimit-resource",
    ] {
        assert!(first.headers().contains_key(header), "{header}");
    }
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let used = github.rate_limit_used();
    let second = client
        .get(&url)
        .bearer_auth(TOKEN)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 304);
    assert_eq!(github.rate_limit_used(), used);
}

#[tokio::test]
async fn the_conformance_check_sees_violations_and_the_one_known_gap() {
    use super::support::conformance;
    let schema = "github/schemas/pulls.list.response-200.schema.json";
    if conformance::dir().is_none() {
        return;
    }
    let broken = serde_json::json!([{"number": "seven"}]);
    assert!(!conformance::validate(schema, &broken).is_empty());

    let github = fake().await;
    github.open_pull(REPO, FakePull::new(1).deleted_fork());
    let url = format!("{}repos/{REPO}/pulls", github.url());
    let body: serde_json::Value = reqwest::Client::new()
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let violations = conformance::validate(schema, &body);
    assert!(
        !violations.is_empty(),
        "GitHub's REST schema says head.repo is never null"
    );
    assert!(
        violations.iter().all(|v| v.instance_path == "/0/head/repo"),
        "{violations:#?}"
    );
}
