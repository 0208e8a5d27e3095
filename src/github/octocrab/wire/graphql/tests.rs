use super::*;

fn commit(i: usize, checks: usize) -> CommitWants {
    CommitWants {
        sha: format!("{i:040x}"),
        files: vec![".preview.yaml".into()],
        objects: vec!["db/seed".into()],
        checks: (0..checks).map(|k| format!("check {k}")).collect(),
    }
}

fn newest(number: u64) -> TimelineWant {
    TimelineWant {
        number,
        before: None,
    }
}

#[test]
fn a_cold_start_of_100_prs_with_a_build_check_is_one_query_of_5_points() {
    let commits: Vec<CommitWants> = (0..100).map(|i| commit(i, 1)).collect();
    let timelines: Vec<TimelineWant> = (1..=100).map(newest).collect();
    let chunks = chunks(&commits, &timelines);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].requests(), 500);
}

#[test]
fn chunks_stay_within_500_requests_and_100_nodes() {
    let commits: Vec<CommitWants> = (0..250).map(|i| commit(i, 2)).collect();
    let timelines: Vec<TimelineWant> = (1..=250).map(newest).collect();
    let chunks = chunks(&commits, &timelines);
    for chunk in &chunks {
        assert!(chunk.requests() <= MAX_REQUESTS, "{}", chunk.requests());
        assert!(chunk.commits.len() <= MAX_NODES && chunk.timelines.len() <= MAX_NODES);
    }
    let commits_sent: usize = chunks.iter().map(|c| c.commits.len()).sum();
    let timelines_sent: usize = chunks.iter().map(|c| c.timelines.len()).sum();
    assert_eq!((commits_sent, timelines_sent), (250, 250));
}

#[test]
fn a_pr_number_beyond_graphql_int_is_left_to_rest() {
    let chunks = chunks(&[], &[newest(1), newest(u64::from(u32::MAX))]);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].timelines, vec![newest(1)]);
}

#[test]
fn untrusted_text_is_only_ever_a_variable() {
    let repo: RepoName = "acme/web".parse().expect("repo");
    let hostile = "x\" } } evil: viewer { login } #\n";
    let chunk = Chunk {
        commits: vec![CommitWants {
            sha: format!("{:040x}", 1),
            files: vec![hostile.into()],
            objects: vec![hostile.into()],
            checks: vec![hostile.into()],
        }],
        timelines: vec![TimelineWant {
            number: 7,
            before: Some(hostile.into()),
        }],
    };
    let query = head_facts(&repo, &chunk);
    assert!(!query.document.contains("evil"), "{}", query.document);
    assert_eq!(query.variables["f0"], hostile);
    assert_eq!(query.variables["k0"], hostile);
    assert_eq!(query.variables["before7"], hostile);
    // Every declared variable is given, and every given one declared.
    for name in query.variables.keys() {
        assert!(query.document.contains(&format!("${name}:")), "{name}");
    }
}

#[test]
fn fragments_are_sent_only_when_used() {
    let repo: RepoName = "acme/web".parse().expect("repo");
    let timelines_only = head_facts(
        &repo,
        &Chunk {
            commits: Vec::new(),
            timelines: vec![newest(3)],
        },
    );
    assert!(timelines_only.document.contains("fragment Item"));
    assert!(!timelines_only.document.contains("fragment Entry"));
    assert!(!timelines_only.document.contains("fragment Run"));
    let no_check = head_facts(
        &repo,
        &Chunk {
            commits: vec![commit(0, 0)],
            timelines: Vec::new(),
        },
    );
    assert!(no_check.document.contains("fragment Entry"));
    assert!(!no_check.document.contains("fragment Run"));
    assert!(!no_check.document.contains("fragment Item"));
}

#[test]
fn paths_are_asked_as_rest_reads_them_or_left_to_rest() {
    assert_eq!(graphql_path("db/seed/").as_deref(), Some("db/seed"));
    assert_eq!(graphql_path("/a//b").as_deref(), Some("a/b"));
    for odd in ["", "/", "./x", "a/../b", "a/./b"] {
        assert_eq!(graphql_path(odd), None, "{odd:?}");
    }
    let commit = CommitWants {
        sha: format!("{:040x}", 1),
        files: vec!["./odd.yaml".into()],
        objects: vec!["db/seed/".into()],
        checks: Vec::new(),
    };
    let asked = askable(&commit).expect("the seed is askable");
    assert!(asked.files.is_empty());
    let repo: RepoName = "acme/web".parse().expect("repo");
    let query = head_facts(
        &repo,
        &Chunk {
            commits: vec![asked],
            timelines: Vec::new(),
        },
    );
    assert_eq!(query.variables["o0"], "db/seed");
    assert_eq!(
        query.objects,
        vec!["db/seed/".to_owned()],
        "answers map back to the fleet's path"
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
