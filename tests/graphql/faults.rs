//! Each GraphQL fault shape, the REST fact-read rules applied to the GraphQL read of the same
//! fact, a GHES without GraphQL, and an installation token outside its owner.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::app_key::TestAppKey;
use super::support::fake_github::{Endpoint, Fault, FaultRule};
use super::{REPO, one_push, post, post_to, sha, vars, world};

#[tokio::test]
async fn graphql_shapes_of_rate_limit_timeout_and_refusal() {
    let head = sha("head");
    let github = world(&head).await;
    let v = vars(&head, ".preview.yaml");
    github.fail(FaultRule::new(Fault::GraphqlRateLimited).times(1));
    let limited = post(&github, &one_push(), &v).await;
    assert_eq!(
        (limited.status, limited.body["errors"][0]["type"].as_str()),
        (200, Some("RATE_LIMITED"))
    );
    assert_eq!(limited.header("x-ratelimit-remaining"), "0");

    github.fail(
        FaultRule::new(Fault::GraphqlServerTimeout)
            .endpoint(Endpoint::Graphql)
            .times(1),
    );
    let timeout = post(&github, &one_push(), &v).await;
    assert_eq!(timeout.status, 502);
    assert_eq!(timeout.body["data"], Value::Null);
    assert!(
        timeout.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("This may be the result of a timeout")
    );
    assert_eq!(
        github.graphql_points(),
        1,
        "a server-side timeout is charged"
    );

    github.fail(
        FaultRule::new(Fault::GraphqlRefuses {
            field: "checkSuites",
        })
        .times(1),
    );
    let refused = post(&github, &one_push(), &v).await;
    assert_eq!(refused.status, 200);
    assert!(refused.body.get("data").is_none());
    let error = &refused.body["errors"][0];
    assert_eq!(
        error["extensions"],
        json!({"code": "undefinedField", "typeName": "Commit", "fieldName": "checkSuites"})
    );
    assert_eq!(
        error["path"],
        json!([
            "query HeadFacts",
            "repository",
            "c0",
            "... on Commit",
            "build0"
        ])
    );
    assert_eq!(
        error["message"],
        "Field 'checkSuites' doesn't exist on type 'Commit'"
    );
    assert_eq!(github.graphql_points(), 1, "a refusal is not charged");

    // The generic faults apply to GraphQL as to REST.
    github.fail(
        FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Graphql)
            .times(1),
    );
    assert_eq!(post(&github, &one_push(), &v).await.status, 502);
    github.fail(
        FaultRule::new(Fault::Malformed)
            .endpoint(Endpoint::Graphql)
            .times(1),
    );
    assert!(post(&github, &one_push(), &v).await.body.is_string());
    github.fail(
        FaultRule::new(Fault::SecondaryLimit { retry_after: 7 })
            .endpoint(Endpoint::Graphql)
            .times(1),
    );
    let secondary = post(&github, &one_push(), &v).await;
    assert_eq!(
        (secondary.status, secondary.header("retry-after")),
        (403, "7")
    );
    let ok = post(&github, &one_push(), &v).await;
    assert!(ok.body.get("errors").is_none(), "{}", ok.body);
    assert!(github.violations().is_empty());
}

#[tokio::test]
async fn node_errors_null_the_named_nodes_only() {
    let head = sha("head");
    let github = world(&head).await;
    let v = vars(&head, ".preview.yaml");
    let rule = FaultRule::new(Fault::GraphqlNodeError { type_: "FORBIDDEN" })
        .containing(&head)
        .times(1);
    github.fail(rule);
    let answer = post(&github, &one_push(), &v).await.body;
    assert_eq!(answer["data"]["repository"]["c0"], Value::Null);
    assert!(answer["data"]["repository"]["p12"].is_object(), "{answer}");
    let error = &answer["errors"][0];
    assert_eq!(
        (error["type"].as_str(), &error["path"]),
        (Some("FORBIDDEN"), &json!(["repository", "c0"]))
    );
    assert_eq!(error["message"], "Resource not accessible by integration");

    github.fail(
        FaultRule::new(Fault::GraphqlNodeError { type_: "NOT_FOUND" })
            .containing("p12")
            .times(1),
    );
    let answer = post(&github, &one_push(), &v).await.body;
    assert!(answer["data"]["repository"]["c0"].is_object());
    assert_eq!(answer["data"]["repository"]["p12"], Value::Null);
    assert_eq!(answer["errors"][0]["path"], json!(["repository", "p12"]));
}

#[tokio::test]
async fn rest_fact_rules_apply_to_the_same_facts_read_by_graphql() {
    let head = sha("head");
    let github = world(&head).await;
    let v = vars(&head, ".preview.yaml");
    let rule = FaultRule::new(Fault::Status(502))
        .endpoint(Endpoint::Contents)
        .containing(&head)
        .times(2);
    github.fail(rule);
    let answer = post(&github, &one_push(), &v).await.body;
    let c0 = &answer["data"]["repository"]["c0"];
    assert_eq!(
        (&c0["config"], &c0["seed0"]),
        (&Value::Null, &Value::Null),
        "{answer}"
    );
    assert!(c0["build0"].is_object(), "the other facts are read");
    let paths: Vec<&Value> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["path"])
        .collect();
    assert_eq!(
        paths,
        [
            &json!(["repository", "c0", "config"]),
            &json!(["repository", "c0", "seed0"])
        ]
    );
    assert_eq!(answer["errors"][0]["type"], "INTERNAL");
    let again = post(&github, &one_push(), &v).await.body;
    assert!(
        again.get("errors").is_none(),
        "`times` was used up: {again}"
    );

    // `containing` matches the REST request of that fact: the config file's path.
    github.fail(
        FaultRule::new(Fault::Status(404))
            .endpoint(Endpoint::Contents)
            .containing(".preview.yaml"),
    );
    let answer = post(&github, &one_push(), &v).await.body;
    assert_eq!(
        answer["errors"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["type"], "NOT_FOUND");
    github.clear_faults();

    github.fail(
        FaultRule::new(Fault::Status(500))
            .endpoint(Endpoint::CheckRuns)
            .times(1),
    );
    let answer = post(&github, &one_push(), &v).await.body;
    assert_eq!(answer["data"]["repository"]["c0"]["build0"], Value::Null);
    assert_eq!(
        answer["errors"][0]["path"],
        json!(["repository", "c0", "build0"])
    );

    github.fail(
        FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Timeline)
            .repo(REPO)
            .times(1),
    );
    let answer = post(&github, &one_push(), &v).await.body;
    assert_eq!(
        answer["data"]["repository"]["p12"]["timelineItems"],
        Value::Null
    );
    assert_eq!(answer["data"]["repository"]["p12"]["number"], 12);

    github.fail(
        FaultRule::new(Fault::RateLimited)
            .endpoint(Endpoint::Timeline)
            .times(1),
    );
    let answer = post(&github, &one_push(), &v).await;
    assert_eq!(
        answer.body["errors"][0]["type"], "RATE_LIMITED",
        "{}",
        answer.body
    );
    assert!(answer.body.get("data").is_none());

    github.fail(
        FaultRule::new(Fault::Timeout(Duration::from_millis(400)))
            .endpoint(Endpoint::CheckRuns)
            .times(1),
    );
    let started = Instant::now();
    let answer = post(&github, &one_push(), &v).await.body;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(
        github.count(Endpoint::Contents) + github.count(Endpoint::CheckRuns),
        0,
        "no REST request was made"
    );
}

#[tokio::test]
async fn latency_and_a_server_without_graphql() {
    let head = sha("head");
    let github = world(&head).await;
    github.set_latency(Duration::ZERO, Duration::from_millis(300));
    let started = Instant::now();
    post(&github, &one_push(), &vars(&head, ".preview.yaml")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    github.disable_graphql();
    let gone = post(&github, &one_push(), &vars(&head, ".preview.yaml")).await;
    assert_eq!(
        (gone.status, gone.body["message"].as_str()),
        (404, Some("Not Found"))
    );
    assert!(gone.body["documentation_url"].is_string());
}

#[tokio::test]
async fn an_installation_token_sees_only_its_owner_s_repositories() {
    let head = sha("head");
    let github = world(&head).await;
    github.add_repo("other/site");
    let key = TestAppKey::shared();
    github.register_app(4242, &key.public_der);
    github.app_installation("acme", 77);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iat": now - 30, "exp": now + 300, "iss": 4242});
    let signing = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &signing,
    )
    .unwrap();
    let minted: Value = reqwest::Client::new()
        .post(format!(
            "{}app/installations/77/access_tokens",
            github.url()
        ))
        .bearer_auth(jwt)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    let url = format!("{}graphql", github.url());
    let own = post_to(&url, token, &one_push(), &vars(&head, ".preview.yaml")).await;
    assert!(
        own.body["data"]["repository"]["c0"].is_object(),
        "{}",
        own.body
    );
    let mut other = vars(&head, ".preview.yaml");
    other["owner"] = Value::from("other");
    other["name"] = Value::from("site");
    let answer = post_to(&url, token, &one_push(), &other).await.body;
    assert_eq!(answer["data"]["repository"], Value::Null);
    assert!(answer["data"]["rateLimit"].is_object());
    assert_eq!(answer["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(
        answer["errors"][0]["message"],
        "Could not resolve to a Repository with the name 'other/site'."
    );
    let unauthenticated = reqwest::Client::new()
        .post(&url)
        .json(&json!({"query": "{ viewer { login } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
