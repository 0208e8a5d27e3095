use super::*;
use crate::github::bulk::CommitWants;

#[test]
fn the_graphql_endpoint_follows_the_rest_base() {
    let url = |s: &str| graphql_url(&Url::parse(s).expect("url")).to_string();
    assert_eq!(
        url("https://api.github.com"),
        "https://api.github.com/graphql"
    );
    assert_eq!(
        url("https://github.acme.test/api/v3"),
        "https://github.acme.test/api/graphql"
    );
    assert_eq!(
        url("https://github.acme.test/api/v3/"),
        "https://github.acme.test/api/graphql"
    );
    assert_eq!(
        url("https://api.acme.ghe.com"),
        "https://api.acme.ghe.com/graphql"
    );
    assert_eq!(
        url("http://127.0.0.1:8080"),
        "http://127.0.0.1:8080/graphql"
    );
}

#[test]
fn a_chunk_is_halved_down_to_one_commit_or_pull_request() {
    let commit = |i: usize| CommitWants {
        sha: format!("{i:040x}"),
        ..CommitWants::default()
    };
    let timeline = |number| TimelineWant {
        number,
        before: None,
    };
    let chunk = Chunk {
        commits: (0..3).map(commit).collect(),
        timelines: (1..=2).map(timeline).collect(),
    };
    let mut pending = vec![chunk];
    let mut singles = 0;
    while let Some(chunk) = pending.pop() {
        match halves(chunk.clone()) {
            Some((a, b)) => {
                assert!(!a.is_empty() && !b.is_empty());
                pending.extend([a, b]);
            }
            None => {
                assert_eq!(chunk.commits.len() + chunk.timelines.len(), 1);
                singles += 1;
            }
        }
    }
    assert_eq!(singles, 5);
}
