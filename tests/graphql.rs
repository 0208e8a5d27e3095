//! GitHub's GraphQL API as preview-tower uses it: every document the service can send,
//! validated against GitHub's published schema (`queries`); and the fake GitHub's GraphQL side
//! over HTTP: documents answered from the same world as REST, GitHub's cost rule and budget,
//! each fault shape, the Enterprise path, and a document GitHub would refuse.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "graphql/answers.rs"]
mod answers;
#[path = "graphql/cost.rs"]
mod cost;
#[path = "graphql/faults.rs"]
mod faults;
#[path = "graphql/queries.rs"]
mod queries;

use serde_json::{Value, json};
use support::fake_github::{FakeGitHub, FakePull, sha1_hex};

const REPO: &str = "acme/web";
const TOKEN: &str = "ghp_0123456789abcdefTOPSECRET";
const CHECK: &str = "preview-ready";

/// `HeadFacts` for one push (1 commit with config, seed and build check + PR 12), as sent.
const ONE_PUSH: &str = r#"query HeadFacts($owner: String!, $name: String!, $config: String!, $seed0: String!, $check0: String!, $s0: GitObjectID!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    c0: object(oid: $s0) { ... on Commit { oid config: file(path: $config) { ...Entry } seed0: file(path: $seed0) { oid type } build0: checkSuites(first: 3, filterBy: {checkName: $check0}) { totalCount nodes { checkRuns(first: 5, filterBy: {checkName: $check0, checkType: LATEST}) { ...Run } } } } }
    p12: pullRequest(number: 12) { number timelineItems(last: 50, itemTypes: [PULL_REQUEST_COMMIT, HEAD_REF_FORCE_PUSHED_EVENT, LABELED_EVENT, UNLABELED_EVENT, ISSUE_COMMENT, PULL_REQUEST_REVIEW, READY_FOR_REVIEW_EVENT, REOPENED_EVENT]) { pageInfo { hasPreviousPage startCursor } nodes { ...Item } } }
  }
}
"#;

/// The earlier timeline page of PR 12.
const EARLIER: &str = r#"query HeadFacts($owner: String!, $name: String!, $before12: String!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    p12: pullRequest(number: 12) { number timelineItems(last: 50, before: $before12, itemTypes: [PULL_REQUEST_COMMIT, HEAD_REF_FORCE_PUSHED_EVENT, LABELED_EVENT, UNLABELED_EVENT, ISSUE_COMMENT, PULL_REQUEST_REVIEW, READY_FOR_REVIEW_EVENT, REOPENED_EVENT]) { pageInfo { hasPreviousPage startCursor } nodes { ...Item } } }
  }
}
"#;

const WHO: &str = "fragment Who on Actor { __typename login }\n";
const ENTRY: &str = "fragment Entry on TreeEntry {
  type
  mode
  oid
  object { __typename ... on Blob { byteSize isBinary isTruncated text } }
}
";
const ITEM: &str = "fragment Item on PullRequestTimelineItems {
  __typename
  ... on PullRequestCommit { commit { oid committedDate } }
  ... on HeadRefForcePushedEvent { createdAt actor { ...Who } }
  ... on LabeledEvent { createdAt actor { ...Who } label { name } }
  ... on UnlabeledEvent { createdAt actor { ...Who } label { name } }
  ... on IssueComment { createdAt updatedAt authorAssociation author { ...Who } body }
  ... on PullRequestReview { submittedAt authorAssociation author { ...Who } }
  ... on ReadyForReviewEvent { createdAt actor { ...Who } }
  ... on ReopenedEvent { createdAt actor { ...Who } }
}
";
const RUN: &str = "fragment Run on CheckRunConnection {
  totalCount
  nodes { databaseId name status conclusion }
}
";

fn one_push() -> String {
    format!("{ONE_PUSH}{WHO}{ENTRY}{ITEM}{RUN}")
}

fn earlier() -> String {
    format!("{EARLIER}{WHO}{ITEM}")
}

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

/// The variables of [`ONE_PUSH`] at commit `s0`, reading `config`.
fn vars(s0: &str, config: &str) -> Value {
    json!({"owner": "acme", "name": "web", "config": config, "seed0": "db/seed", "check0": CHECK, "s0": s0})
}

/// `acme/web` with PR 12 at `head`: a config file, a seed directory, a successful build.
async fn world(head: &str) -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    github.open_pull(REPO, FakePull::new(12).head_sha(head).labels(&["preview"]));
    github.put_file(REPO, head, ".preview.yaml", "ttl: 2d\n");
    github.put_dir_entry(REPO, head, "db/seed", &sha("seed tree"));
    github.set_check_run(REPO, head, CHECK, "completed", Some("success"));
    github
}

/// What the fake answered: status, headers, JSON body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Posts `query` with `variables` to `url` (the GraphQL endpoint) with `token`.
async fn post_to(url: &str, token: &str, query: &str, variables: &Value) -> Answer {
    let answer = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
    let text = answer.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

async fn post(github: &FakeGitHub, query: &str, variables: &Value) -> Answer {
    post_to(&format!("{}graphql", github.url()), TOKEN, query, variables).await
}
