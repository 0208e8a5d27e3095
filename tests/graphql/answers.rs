//! What the fake answers from its world: files of every kind, unknown commits, check runs and
//! re-runs, timelines with bots, paging back, the Enterprise path, and a misspelt field.

use serde_json::{Value, json};

use super::support::fake_github::{Endpoint, FakeGitHub};
use super::{CHECK, REPO, TOKEN, earlier, one_push, post, post_to, sha, vars, world};

#[tokio::test]
async fn a_push_reads_config_seed_build_and_timeline_in_one_query() {
    let head = sha("head");
    let github = world(&head).await;
    github.comment_as(REPO, 12, "preview-tower[bot]", "Preview ready");
    github.comment_as(REPO, 12, "alice", "/preview keep");
    let answer = post(&github, &one_push(), &vars(&head, ".preview.yaml")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    let c0 = &answer.body["data"]["repository"]["c0"];
    assert_eq!(c0["oid"], head.as_str());
    let config = &c0["config"];
    assert_eq!(
        (config["type"].as_str(), config["mode"].as_u64()),
        (Some("blob"), Some(33188))
    );
    let blob = &config["object"];
    assert_eq!(blob["__typename"], "Blob");
    assert_eq!(blob["text"], "ttl: 2d\n");
    assert_eq!(
        (
            blob["byteSize"].as_u64(),
            blob["isBinary"].as_bool(),
            blob["isTruncated"].as_bool()
        ),
        (Some(8), Some(false), Some(false))
    );
    assert_eq!(
        c0["seed0"],
        json!({"oid": sha("seed tree"), "type": "tree"})
    );
    let build = &c0["build0"];
    assert_eq!(build["totalCount"], 1);
    let runs = &build["nodes"][0]["checkRuns"];
    assert_eq!(runs["totalCount"], 1);
    assert_eq!(runs["nodes"][0]["name"], CHECK);
    assert_eq!(
        (
            runs["nodes"][0]["status"].as_str(),
            runs["nodes"][0]["conclusion"].as_str()
        ),
        (Some("COMPLETED"), Some("SUCCESS"))
    );

    let timeline = &answer.body["data"]["repository"]["p12"]["timelineItems"];
    assert_eq!(timeline["pageInfo"]["hasPreviousPage"], false);
    let nodes = timeline["nodes"].as_array().unwrap();
    let kinds: Vec<&str> = nodes
        .iter()
        .map(|n| n["__typename"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "PullRequestCommit",
            "LabeledEvent",
            "IssueComment",
            "IssueComment"
        ]
    );
    assert_eq!(nodes[0]["commit"]["oid"], head.as_str());
    assert_eq!(nodes[1]["label"]["name"], "preview");
    assert_eq!(
        nodes[1]["actor"],
        json!({"__typename": "User", "login": "octocat"})
    );
    // GitHub's GraphQL names an App's bot without `[bot]`.
    assert_eq!(
        nodes[2]["author"],
        json!({"__typename": "Bot", "login": "preview-tower"})
    );
    assert_eq!(
        nodes[3]["author"],
        json!({"__typename": "User", "login": "alice"})
    );
    assert_eq!(
        (
            nodes[3]["body"].as_str(),
            nodes[3]["authorAssociation"].as_str()
        ),
        (Some("/preview keep"), Some("MEMBER"))
    );

    assert_eq!(answer.body["data"]["rateLimit"]["cost"], 1);
    assert_eq!(answer.header("x-ratelimit-resource"), "graphql");
    assert_eq!(answer.header("x-ratelimit-used"), "1");
    assert_eq!((github.graphql_points(), github.graphql_queries()), (1, 1));
    assert_eq!(github.count(Endpoint::Graphql), 1);
    assert_eq!(
        github.rate_limit_used(),
        0,
        "GraphQL is not counted against REST"
    );
}

#[tokio::test]
async fn directories_symlinks_submodules_and_missing_files() {
    let head = sha("head");
    let github = world(&head).await;
    github.put_file(REPO, &head, "deploy/app.yaml", "a: 1\n");
    github.put_symlink(REPO, &head, "link.yaml", "deploy/app.yaml");
    github.put_submodule(REPO, &head, "vendor/lib", "https://example.com/lib.git");
    let file = |answer: &Value| answer["data"]["repository"]["c0"]["config"].clone();

    let dir = post(&github, &one_push(), &vars(&head, "deploy"))
        .await
        .body;
    assert_eq!(
        (file(&dir)["type"].as_str(), file(&dir)["mode"].as_u64()),
        (Some("tree"), Some(16384))
    );
    assert_eq!(file(&dir)["object"], json!({"__typename": "Tree"}));

    let link = post(&github, &one_push(), &vars(&head, "link.yaml"))
        .await
        .body;
    assert_eq!(
        (file(&link)["type"].as_str(), file(&link)["mode"].as_u64()),
        (Some("blob"), Some(40960))
    );
    assert_eq!(file(&link)["object"]["text"], "deploy/app.yaml");

    let module = post(&github, &one_push(), &vars(&head, "vendor/lib"))
        .await
        .body;
    assert_eq!(
        (file(&module)["type"].as_str(), &file(&module)["object"]),
        (Some("commit"), &Value::Null)
    );

    let missing = post(&github, &one_push(), &vars(&head, "nope.yaml"))
        .await
        .body;
    assert_eq!(file(&missing), Value::Null);
    assert!(
        missing.get("errors").is_none(),
        "a missing path is no error: {missing}"
    );
    // Nested paths are normalised as REST's are.
    let nested = post(&github, &one_push(), &vars(&head, "/deploy//app.yaml"))
        .await
        .body;
    assert_eq!(file(&nested)["object"]["text"], "a: 1\n");
}

#[tokio::test]
async fn an_unknown_commit_is_null_without_an_error() {
    let head = sha("head");
    let github = world(&head).await;
    let answer = post(
        &github,
        &one_push(),
        &vars(&sha("not pushed"), ".preview.yaml"),
    )
    .await;
    assert_eq!(answer.body["data"]["repository"]["c0"], Value::Null);
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    assert!(answer.body["data"]["repository"]["p12"].is_object());
}

#[tokio::test]
async fn the_newest_attempt_of_a_check_wins_within_its_suite() {
    let head = sha("head");
    let github = world(&head).await;
    github.set_check_run(REPO, &head, "lint", "completed", Some("failure"));
    let rerun = github.rerun_check(REPO, &head, CHECK);
    github.set_check_run(REPO, &head, CHECK, "completed", Some("timed_out"));
    let answer = post(&github, &one_push(), &vars(&head, ".preview.yaml"))
        .await
        .body;
    let build = &answer["data"]["repository"]["c0"]["build0"];
    assert_eq!(build["totalCount"], 1, "one suite per commit: {build}");
    let runs = &build["nodes"][0]["checkRuns"];
    assert_eq!(runs["totalCount"], 1, "LATEST and the name filter: {runs}");
    assert_eq!(runs["nodes"][0]["databaseId"], rerun);
    assert_eq!(runs["nodes"][0]["conclusion"], "TIMED_OUT");

    let again = github.rerun_check_in_new_suite(REPO, &head, CHECK);
    let answer = post(&github, &one_push(), &vars(&head, ".preview.yaml"))
        .await
        .body;
    let build = &answer["data"]["repository"]["c0"]["build0"];
    assert_eq!(build["totalCount"], 2, "{build}");
    assert_eq!(
        build["nodes"][1]["checkRuns"]["nodes"][0]["databaseId"],
        again
    );
    assert_eq!(
        build["nodes"][1]["checkRuns"]["nodes"][0]["status"],
        "QUEUED"
    );
    assert_eq!(
        build["nodes"][1]["checkRuns"]["nodes"][0]["conclusion"],
        Value::Null
    );
}

#[tokio::test]
async fn a_long_timeline_is_paged_back_with_before() {
    let head = sha("head");
    let github = world(&head).await;
    for n in 0..60 {
        github.comment_as(REPO, 12, "alice", &format!("comment {n}"));
    }
    github.timeline_event(REPO, 12, "ready_for_review", "alice");
    github.review(REPO, 12, "bob");
    let first = post(&github, &one_push(), &vars(&head, ".preview.yaml"))
        .await
        .body;
    let timeline = &first["data"]["repository"]["p12"]["timelineItems"];
    let nodes = timeline["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    assert_eq!(nodes[48]["__typename"], "ReadyForReviewEvent");
    assert_eq!(nodes[49]["__typename"], "PullRequestReview");
    assert_eq!(nodes[49]["author"]["login"], "bob");
    assert_eq!(timeline["pageInfo"]["hasPreviousPage"], true);
    let cursor = timeline["pageInfo"]["startCursor"].as_str().unwrap();

    let variables = json!({"owner": "acme", "name": "web", "before12": cursor});
    let second = post(&github, &earlier(), &variables).await.body;
    assert!(second.get("errors").is_none(), "{second}");
    let timeline = &second["data"]["repository"]["p12"]["timelineItems"];
    let nodes = timeline["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 14, "commit, label, the 12 oldest comments");
    assert_eq!(nodes[0]["__typename"], "PullRequestCommit");
    assert_eq!(nodes[13]["body"], "comment 11");
    assert_eq!(timeline["pageInfo"]["hasPreviousPage"], false);
}

#[tokio::test]
async fn an_unknown_pull_request_is_null_with_not_found() {
    let head = sha("head");
    let github = world(&head).await;
    let query = one_push().replace(
        "p12: pullRequest(number: 12)",
        "p99: pullRequest(number: 99)",
    );
    let answer = post(&github, &query, &vars(&head, ".preview.yaml"))
        .await
        .body;
    assert_eq!(answer["data"]["repository"]["p99"], Value::Null);
    let error = &answer["errors"][0];
    assert_eq!(error["type"], "NOT_FOUND");
    assert_eq!(error["path"], json!(["repository", "p99"]));
    assert_eq!(
        error["message"],
        "Could not resolve to a PullRequest with the number of 99."
    );
    assert!(
        answer["data"]["repository"]["c0"].is_object(),
        "the rest is answered"
    );
}

#[tokio::test]
async fn enterprise_serves_graphql_beside_its_api_prefix() {
    let head = sha("head");
    let github = FakeGitHub::start_enterprise().await;
    github.add_repo(REPO);
    github.open_pull(
        REPO,
        super::support::fake_github::FakePull::new(12).head_sha(&head),
    );
    github.put_file(REPO, &head, ".preview.yaml", "ttl: 2d\n");
    let url = github.url();
    let root = format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port().unwrap()
    );
    let answer = post_to(
        &format!("{root}/api/graphql"),
        TOKEN,
        &one_push(),
        &vars(&head, ".preview.yaml"),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["data"]["repository"]["c0"]["config"]["object"]["text"],
        "ttl: 2d\n"
    );
    let inside = post_to(
        &format!("{root}/api/v3/graphql"),
        TOKEN,
        &one_push(),
        &vars(&head, ".preview.yaml"),
    )
    .await;
    assert_eq!(inside.status, 404, "not under /api/v3");
}

#[tokio::test]
async fn a_misspelt_field_is_a_violation_answered_as_github_does() {
    let head = sha("head");
    let github = world(&head).await;
    let query = one_push().replace("committedDate", "commitedDate");
    let answer = post(&github, &query, &vars(&head, ".preview.yaml")).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.get("data").is_none(), "{}", answer.body);
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("commitedDate")
    );
    let violations = github.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("commitedDate")),
        "{violations:#?}"
    );
    assert_eq!(github.graphql_points(), 0, "not charged");

    // A variable of the wrong type, and a field GitHub has that the fake does not implement.
    let answer = post(
        &github,
        &one_push(),
        &json!({"owner": "acme", "name": "web"}),
    )
    .await;
    assert!(answer.body.get("data").is_none(), "{}", answer.body);
    assert!(!github.take_violations().is_empty());
    let query = one_push().replace("{ number timelineItems", "{ number title timelineItems");
    let answer = post(&github, &query, &vars(&head, ".preview.yaml")).await;
    assert_eq!(
        answer.body["data"]["repository"]["p12"]["title"],
        Value::Null
    );
    let violations = github.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("PullRequest.title")),
        "{violations:#?}"
    );
}
