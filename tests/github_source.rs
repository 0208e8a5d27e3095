//! The real octocrab adapter against the fake GitHub, over real HTTP.
#![allow(clippy::unwrap_used)]

#[path = "github_source/app.rs"]
mod app;
#[path = "github_source/errors.rs"]
mod errors;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use preview_tower::github::PullRequestSource;
use preview_tower::github::SourceError;
use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::naming::RepoName;
use preview_tower::pull_request::ConfigFile;
use preview_tower::repo_config::MAX_FILE_BYTES;
use support::fake_github::{AuthSeen, Endpoint, FakeGitHub, FakePull, Fault, FaultRule, sha1_hex};

const REPO: &str = "acme/web";
const TOKEN: &str = "ghp_0123456789abcdefTOPSECRET";

fn repo() -> RepoName {
    REPO.parse().unwrap()
}

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

async fn fake() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    github
}

fn source(github: &FakeGitHub) -> GitHubSource {
    source_with_timeout(github, Duration::from_secs(5))
}

fn source_with_timeout(github: &FakeGitHub, timeout: Duration) -> GitHubSource {
    GitHubSource::new(github.url(), Credentials::token(TOKEN).unwrap(), timeout).unwrap()
}

#[tokio::test]
async fn lists_every_page_of_250_pull_requests() {
    let github = fake().await;
    for number in 1..=250 {
        github.open_pull(REPO, FakePull::new(number));
    }
    github.open_pull(REPO, FakePull::new(251));
    github.close_pull(REPO, 251);

    let pulls = source(&github).open_pull_requests(&repo()).await.unwrap();

    let numbers: BTreeSet<u64> = pulls.iter().map(|p| p.number).collect();
    assert_eq!(numbers, (1..=250).collect());
    let pages = github.requests();
    let statuses: Vec<u16> = pages.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 304, 304, 304],
        "read, then revalidated"
    );
    assert!(pages.iter().all(|r| r.auth == AuthSeen::Token));
    assert!(
        pages[1].path.starts_with("/repositories/"),
        "GitHub's next links use repository ids"
    );
    // The budget GitHub reported is exported (tests in this binary run in parallel, so only
    // what every fake answers alike is compared).
    let rate = preview_tower::github::rate::rate_limits();
    assert!(rate.limit.get() > 0 && rate.remaining.get() <= rate.limit.get());
}

#[tokio::test]
async fn maps_labels_drafts_forks_and_authors() {
    let github = fake().await;
    let head = sha("labelled");
    github.open_pull(
        REPO,
        FakePull::new(1)
            .title("Add checkout")
            .labels(&["preview", "Keep Alive"])
            .author("alice")
            .branch("feat/checkout")
            .base("develop")
            .head_sha(&head),
    );
    github.open_pull(REPO, FakePull::new(2).draft());
    github.open_pull(REPO, FakePull::new(3).fork().author("mallory"));
    github.open_pull(REPO, FakePull::new(4).deleted_fork());

    let mut pulls = source(&github).open_pull_requests(&repo()).await.unwrap();
    pulls.sort_by_key(|p| p.number);

    let first = &pulls[0];
    assert_eq!(first.title, "Add checkout");
    assert_eq!(first.labels, ["preview", "Keep Alive"]);
    assert!(first.has_label("keep alive"));
    assert_eq!(
        (first.author.as_str(), first.branch.as_str()),
        ("alice", "feat/checkout")
    );
    assert_eq!(
        (first.target_branch.as_str(), first.head_sha.as_str()),
        ("develop", head.as_str())
    );
    assert_eq!(first.updated_at, FakePull::new(1).updated_at);
    assert!(!first.draft && !first.from_fork);
    assert!(pulls[1].draft && !pulls[1].from_fork);
    assert!(pulls[2].from_fork);
    assert_eq!(pulls[2].author, "mallory");
    assert!(
        pulls[3].from_fork,
        "a deleted fork (head.repo null) is still a fork"
    );
}

#[tokio::test]
async fn a_head_sha_that_is_not_full_is_malformed() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(9).head_sha("abc123"));
    let error = source(&github)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SourceError::Malformed(m) if m.contains("#9")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failing_later_page_fails_the_whole_list() {
    let github = fake().await;
    for number in 1..=150 {
        github.open_pull(REPO, FakePull::new(number));
    }
    github.fail(
        FaultRule::new(Fault::Status(502))
            .endpoint(Endpoint::Pulls)
            .page(2),
    );
    let error = source(&github)
        .open_pull_requests(&repo())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SourceError::Upstream { status: 502, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn unchanged_lists_are_revalidated_with_etags() {
    let github = fake().await;
    for number in 1..=120 {
        github.open_pull(REPO, FakePull::new(number));
    }
    let source = source(&github);
    let first = source.open_pull_requests(&repo()).await.unwrap();
    let used = github.rate_limit_used();

    let second = source.open_pull_requests(&repo()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(github.rate_limit_used(), used, "304s cost no rate limit");
    // Two pages, each read then revalidated (a list of several pages is read twice).
    let statuses: Vec<u16> = github.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 304, 304, 304, 304, 304, 304]);

    let pushed = sha("pushed");
    github.push(REPO, 120, &pushed);
    let third = source.open_pull_requests(&repo()).await.unwrap();
    assert!(
        third
            .iter()
            .any(|p| p.number == 120 && p.head_sha == pushed)
    );
}

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
async fn reads_files_and_says_why_others_are_unreadable() {
    let github = fake().await;
    let commit = sha("files");
    github.put_file(REPO, &commit, ".preview.yaml", "ttl: 2d\n");
    github.put_file(REPO, &commit, "deploy/my app/ünï.yaml", "nested: true\n");
    github.put_file(REPO, &commit, "config/dir/inner.yaml", "x: 1\n");
    github.put_bytes(REPO, &commit, "binary.yaml", &[0xff, 0xfe, 0x00, 0x41]);
    github.put_file(REPO, &commit, "big.yaml", &"a".repeat(MAX_FILE_BYTES + 1));
    github.put_file(REPO, &commit, "limit.yaml", &"b".repeat(MAX_FILE_BYTES));
    github.put_symlink(REPO, &commit, "link.yaml", "/etc/passwd");
    github.put_submodule(REPO, &commit, "vendor/lib", "https://example.com/lib.git");
    let source = source(&github);
    let repo = repo();
    let read = |path: &'static str| source.file_at(&repo, &commit, path);

    assert_eq!(
        read(".preview.yaml").await.unwrap(),
        ConfigFile::Present("ttl: 2d\n".into())
    );
    assert_eq!(
        read("deploy/my app/ünï.yaml").await.unwrap(),
        ConfigFile::Present("nested: true\n".into())
    );
    assert_eq!(read("absent.yaml").await.unwrap(), ConfigFile::Missing);
    assert!(
        matches!(read("limit.yaml").await.unwrap(), ConfigFile::Present(t) if t.len() == MAX_FILE_BYTES)
    );
    for (path, why) in [
        ("config/dir", "directory"),
        ("binary.yaml", "UTF-8"),
        ("big.yaml", "limit"),
        ("link.yaml", "symbolic link"),
        ("vendor/lib", "submodule"),
    ] {
        match read(path).await.unwrap() {
            ConfigFile::Unreadable(message) => assert!(message.contains(why), "{path}: {message}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    let unknown = source
        .file_at(&repo, &sha("no such commit"), ".preview.yaml")
        .await;
    assert!(
        matches!(unknown, Err(SourceError::Upstream { status: 404, .. })),
        "a commit GitHub does not know yet is an error, not a missing file: {unknown:?}"
    );
}

#[tokio::test]
async fn object_sha_at_matches_rev_parse_for_nested_and_root_paths() {
    let github = fake().await;
    let commit = sha("tree");
    let (nested, root) = (sha("nested seed"), sha("root seed"));
    github.put_dir_entry(REPO, &commit, "db/seed", &nested);
    github.put_file(REPO, &commit, "db/seed/data.sql", "insert;\n");
    github.put_dir_entry(REPO, &commit, "seed", &root);
    github.put_file(REPO, &commit, "README.md", "hi\n");
    let source = source(&github);
    let repo = repo();
    let at = |path: &'static str| source.object_sha_at(&repo, &commit, path);

    assert_eq!(at("db/seed").await.unwrap(), Some(nested));
    assert_eq!(at("seed").await.unwrap(), Some(root));
    let blob = at("README.md").await.unwrap().unwrap();
    assert_eq!(
        blob,
        sha1_hex(b"blob 3\0hi\n"),
        "a file's object id is git's blob id"
    );
    assert_eq!(at("db/missing").await.unwrap(), None);
    assert_eq!(at("nowhere/seed").await.unwrap(), None);
    assert_eq!(at("README.md/inside").await.unwrap(), None);
}

#[tokio::test]
async fn enterprise_base_paths_are_kept_across_pages() {
    let github = FakeGitHub::start_enterprise().await;
    github.add_repo(REPO);
    for number in 1..=101 {
        github.open_pull(REPO, FakePull::new(number));
    }
    assert!(github.url().path().starts_with("/api/v3"));
    let pulls = source(&github).open_pull_requests(&repo()).await.unwrap();
    assert_eq!(pulls.len(), 101);
    assert!(
        github
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v3/") && matches!(r.status, 200 | 304))
    );
}

#[tokio::test]
async fn the_conformance_check_sees_violations_and_the_one_known_gap() {
    use support::conformance;
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

#[tokio::test]
async fn renamed_repositories_are_followed_through_their_redirect() {
    let github = fake().await;
    let commit = sha("renamed");
    github.open_pull(REPO, FakePull::new(1));
    github.put_file(REPO, &commit, ".preview.yaml", "ttl: 1d\n");
    github.rename_repo(REPO, "acme/site");

    let source = source(&github);
    let pulls = source.open_pull_requests(&repo()).await.unwrap();
    assert_eq!(pulls.len(), 1);
    assert!(
        !pulls[0].from_fork,
        "head and base both name the new repository"
    );
    let file = source
        .file_at(&repo(), &commit, ".preview.yaml")
        .await
        .unwrap();
    assert_eq!(file, ConfigFile::Present("ttl: 1d\n".into()));
    let statuses: Vec<u16> = github.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [301, 200, 301, 200]);
    for request in github.requests().iter().filter(|r| r.status == 200) {
        assert_eq!(request.auth, AuthSeen::Token, "{request:?}");
        assert!(request.path.contains("/acme/site/"), "{request:?}");
    }
}

#[tokio::test]
async fn one_pull_request_is_open_or_not() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(7).labels(&["preview"]));
    github.open_pull(REPO, FakePull::new(8));
    github.close_pull(REPO, 8);
    let source = source(&github);

    let open = source.open_pull_request(&repo(), 7).await.unwrap();
    assert_eq!(
        open.map(|p| (p.number, p.labels)),
        Some((7, vec!["preview".to_owned()]))
    );
    assert!(
        source
            .open_pull_request(&repo(), 8)
            .await
            .unwrap()
            .is_none(),
        "closed"
    );
    let missing = source.open_pull_request(&repo(), 9).await;
    assert!(
        matches!(missing, Err(SourceError::Upstream { status: 404, .. })),
        "a 404 is no evidence of a closed PR: {missing:?}"
    );
    assert_eq!(github.count(Endpoint::Pull), 3);
    github.assert_conformant();
}

#[tokio::test]
async fn a_pr_hidden_by_a_page_shift_is_still_listed() {
    let github = fake().await;
    for number in 1..=150 {
        github.open_pull(REPO, FakePull::new(number));
    }
    // Newest first: page 1 holds 150..=51, page 2 holds 50..=1. Just before page 2 is read,
    // PR 150 closes: PR 50 moves up to page 1, which was already read, so one pass misses it.
    github.fail(
        FaultRule::new(Fault::ClosePullFirst(150))
            .endpoint(Endpoint::Pulls)
            .page(2)
            .times(1),
    );
    let listed = source(&github).open_pull_requests(&repo()).await.unwrap();
    let numbers: BTreeSet<u64> = listed.iter().map(|p| p.number).collect();
    assert!(
        (1..150).all(|n| numbers.contains(&n)),
        "every open PR listed"
    );
}

/// A pooled connection that sat idle for most of the timeout still serves a slow answer: the
/// timeout counts from the request, not from when the connection went idle. (hyper-timeout's
/// read timeout starts counting while a kept-alive connection waits idle, and a new request
/// does not restart it: with a poll interval near the timeout, refreshes failed.)
#[tokio::test]
async fn a_connection_idle_for_most_of_the_timeout_serves_the_next_request() {
    let github = fake().await;
    github.open_pull(REPO, FakePull::new(1));
    let source = source_with_timeout(&github, Duration::from_millis(800));
    source.open_pull_requests(&repo()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Answered 400 ms after it is asked: within the timeout, but past 800 ms of idleness.
    github.fail_with(Fault::Timeout(Duration::from_millis(400)));
    let pulls = source.open_pull_requests(&repo()).await;
    assert!(pulls.is_ok(), "{pulls:?}");
}
