//! The bulk read (GitHub's GraphQL API) against the fake: the same facts as the one-at-a-time
//! REST reads of the same world, GitHub Enterprise Server's endpoint and its fallbacks, the
//! GraphQL budget, and answers too long to read at once.

use std::time::Duration;

use preview_tower::github::PullRequestSource;
use preview_tower::github::bulk::{BulkFacts, CommitWants, Wants};
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::pull_request::PullEvent;

use super::{REPO, fake, repo, sha, source};
use crate::support::fake_github::{Endpoint, FakeGitHub, FakePull, Fault, FaultRule};

const CHECK: &str = "preview-ready";

/// A world with one PR of every shape of fact: a config file, a directory, a symlink, a
/// submodule, a missing path, a seed directory, builds re-run in a new suite, and a timeline
/// longer than one GraphQL page with bots, commands and reviews.
async fn world() -> (FakeGitHub, Vec<CommitWants>) {
    let github = fake().await;
    let head = sha("head");
    github.open_pull(REPO, FakePull::new(7).head_sha(&head).labels(&["preview"]));
    github.put_file(REPO, &head, ".preview.yaml", "ttl: 2d\n");
    github.put_dir_entry(REPO, &head, "db/seed", &sha("seed tree"));
    github.put_symlink(REPO, &head, "link.yaml", "../elsewhere.yaml");
    github.put_submodule(REPO, &head, "vendor/lib", "https://example.com/lib.git");
    github.set_check_run(REPO, &head, CHECK, "completed", Some("failure"));
    github.rerun_check_in_new_suite(REPO, &head, CHECK);
    github.set_check_run(REPO, &head, CHECK, "completed", Some("success"));
    for i in 0..120 {
        github.comment_as(REPO, 7, "mona", &format!("comment {i}"));
    }
    github.comment_as(REPO, 7, "mona", "/preview extend 3d");
    github.comment_as(REPO, 7, "renovate[bot]", "/preview keep");
    github.review(REPO, 7, "octocat");
    github.timeline_event(REPO, 7, "head_ref_force_pushed", "mona");
    let other = sha("other");
    github.open_pull(REPO, FakePull::new(8).head_sha(&other).labels(&["preview"]));
    let wants = vec![
        CommitWants {
            sha: head,
            files: vec![
                ".preview.yaml".into(),
                "db/seed".into(),
                "link.yaml".into(),
                "vendor/lib".into(),
                "missing.yaml".into(),
            ],
            objects: vec!["db/seed".into(), "db/none".into()],
            checks: vec![CHECK.into(), "never-ran".into()],
        },
        CommitWants {
            sha: other,
            files: vec![".preview.yaml".into()],
            objects: Vec::new(),
            checks: vec![CHECK.into()],
        },
    ];
    (github, wants)
}

fn wants(commits: &[CommitWants]) -> Wants {
    Wants {
        commits: commits.to_vec(),
        activity: vec![7, 8],
    }
}

async fn bulk(source: &GitHubSource, wants: &Wants) -> Option<BulkFacts> {
    source.bulk_facts(&repo(), wants).await.unwrap()
}

#[tokio::test]
async fn every_fact_read_in_bulk_is_what_rest_reads() {
    let (github, commits) = world().await;
    let source = source(&github);
    let facts = bulk(&source, &wants(&commits)).await.expect("bulk reads");
    assert!(facts.faults.is_empty(), "{:?}", facts.faults);
    assert!(
        facts.points >= 1 && facts.queries >= 2,
        "the timeline of 7 has two pages"
    );
    let r = repo();
    for commit in &commits {
        for path in &commit.files {
            let rest = source.file_at(&r, &commit.sha, path).await.unwrap();
            let read = facts.files.get(&(commit.sha.clone(), path.clone()));
            if path == "link.yaml" {
                // GitHub's contents API follows a link to a file: left to REST.
                assert_eq!(read, None, "{path}");
            } else {
                assert_eq!(read, Some(&rest), "{path}");
            }
        }
        for path in &commit.objects {
            let rest = source.object_sha_at(&r, &commit.sha, path).await.unwrap();
            let read = facts.objects.get(&(commit.sha.clone(), path.clone()));
            assert_eq!(read, Some(&rest), "{path}");
        }
        for check in &commit.checks {
            let rest = source.build_status(&r, &commit.sha, check).await.unwrap();
            let read = facts.builds.get(&(commit.sha.clone(), check.clone()));
            assert_eq!(read, Some(&rest), "{check}");
        }
    }
    for number in [7, 8] {
        let rest: Vec<PullEvent> = source
            .pull_request_activity(&r, number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(facts.activity.get(&number), Some(&rest), "PR {number}");
    }
    assert!(
        facts.activity[&7].len() > 120,
        "every page of PR 7's timeline: {}",
        facts.activity[&7].len()
    );
    github.assert_conformant();
}

#[tokio::test]
async fn an_enterprise_server_is_read_at_api_graphql() {
    let github = FakeGitHub::start_enterprise().await;
    github.add_repo(REPO);
    let head = sha("ghes");
    github.open_pull(REPO, FakePull::new(3).head_sha(&head).labels(&["preview"]));
    github.put_file(REPO, &head, ".preview.yaml", "ttl: 1d\n");
    let source = source(&github);
    let wants = Wants {
        commits: vec![CommitWants {
            sha: head.clone(),
            files: vec![".preview.yaml".into()],
            ..CommitWants::default()
        }],
        activity: vec![3],
    };
    let facts = bulk(&source, &wants)
        .await
        .expect("GraphQL at /api/graphql");
    assert!(facts.faults.is_empty(), "{:?}", facts.faults);
    assert_eq!(facts.files.len(), 1);
    assert_eq!(github.count(Endpoint::Graphql), 1);
}

#[tokio::test]
async fn without_graphql_or_with_an_older_schema_a_repository_is_read_over_rest() {
    for refuse in [false, true] {
        let (github, commits) = world().await;
        if refuse {
            github.fail(
                FaultRule::new(Fault::GraphqlRefuses {
                    field: "checkSuites",
                })
                .endpoint(Endpoint::Graphql),
            );
        } else {
            github.disable_graphql();
        }
        let source = source(&github);
        assert!(bulk(&source, &wants(&commits)).await.is_none());
        let rate = source.rate_limits();
        assert_eq!(rate.graphql.fallback_repos.get(), 1);
        let asked = github.count(Endpoint::Graphql);
        assert!(bulk(&source, &wants(&commits)).await.is_none());
        assert_eq!(
            github.count(Endpoint::Graphql),
            asked,
            "not asked again (for hours)"
        );
        assert_eq!(rate.graphql.fallbacks.get(), 1);
    }
}

#[tokio::test]
async fn a_spent_graphql_budget_leaves_every_fact_to_rest_until_it_resets() {
    let (github, commits) = world().await;
    github.limit_graphql_budget(0, Duration::from_secs(3600));
    let source = source(&github);
    let facts = bulk(&source, &wants(&commits)).await.expect("an answer");
    assert!(facts.files.is_empty() && facts.builds.is_empty() && facts.activity.is_empty());
    assert!(!facts.faults.is_empty());
    let asked = github.count(Endpoint::Graphql);
    assert!(bulk(&source, &wants(&commits)).await.is_none(), "held off");
    assert_eq!(github.count(Endpoint::Graphql), asked);
}

#[tokio::test]
async fn a_secondary_limit_fails_the_whole_bulk_read() {
    let (github, commits) = world().await;
    github.fail(
        FaultRule::new(Fault::SecondaryLimit { retry_after: 30 }).endpoint(Endpoint::Graphql),
    );
    let source = source(&github);
    let error = source
        .bulk_facts(&repo(), &wants(&commits))
        .await
        .expect_err("a secondary limit");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn partial_answers_leave_out_only_what_github_could_not_resolve() {
    let (github, commits) = world().await;
    let node = Fault::GraphqlNodeError { type_: "NOT_FOUND" };
    github.fail(
        FaultRule::new(node)
            .endpoint(Endpoint::Graphql)
            .containing(&commits[0].sha),
    );
    let source = source(&github);
    let facts = bulk(&source, &wants(&commits)).await.expect("an answer");
    let first = &commits[0].sha;
    assert!(
        facts.files.keys().all(|(sha, _)| sha != first),
        "nothing read at the unresolved commit is missing: it is not read"
    );
    assert!(
        facts
            .files
            .contains_key(&(commits[1].sha.clone(), ".preview.yaml".into()))
    );
    assert!(facts.activity.contains_key(&7) && facts.activity.contains_key(&8));
    assert!(!facts.faults.is_empty());
}

#[tokio::test]
async fn answers_too_long_to_read_at_once_are_asked_in_halves() {
    let github = fake().await;
    let long = "x".repeat(60_000);
    let mut numbers = Vec::new();
    for number in 1..=80 {
        github.open_pull(REPO, FakePull::new(number).labels(&["preview"]));
        github.comment_as(REPO, number, "mona", &long);
        numbers.push(number);
    }
    let source = source(&github);
    let wants = Wants {
        commits: Vec::new(),
        activity: numbers,
    };
    let facts = bulk(&source, &wants).await.expect("an answer");
    assert_eq!(facts.activity.len(), 80, "faults: {:?}", facts.faults);
    assert!(
        github.count(Endpoint::Graphql) >= 3,
        "one answer of 4.8 MB is over the cap: asked again in halves"
    );
}

#[tokio::test]
async fn a_failing_query_withholds_its_facts_then_leaves_them_to_rest() {
    let (github, commits) = world().await;
    let fault = || FaultRule::new(Fault::GraphqlServerTimeout).endpoint(Endpoint::Graphql);
    github.fail(fault());
    let source = source(&github);
    for attempt in 1..=3 {
        let facts = bulk(&source, &wants(&commits)).await.expect("an answer");
        assert!(facts.files.is_empty() && facts.activity.is_empty());
        let withheld = &facts.withheld;
        assert_eq!(withheld.commits.len(), 2, "attempt {attempt}");
        assert_eq!(withheld.activity.len(), 2, "attempt {attempt}");
        assert!(withheld.error.is_some());
    }
    let facts = bulk(&source, &wants(&commits)).await.expect("an answer");
    assert!(
        facts.withheld.commits.is_empty() && facts.withheld.activity.is_empty(),
        "after three failed reads in a row, REST reads them"
    );
    github.clear_faults();
    let facts = bulk(&source, &wants(&commits)).await.expect("an answer");
    assert!(!facts.files.is_empty());
    github.fail(fault());
    let facts = bulk(&source, &wants(&commits)).await.expect("an answer");
    assert_eq!(
        facts.withheld.commits.len(),
        2,
        "a success starts the count again"
    );
}
