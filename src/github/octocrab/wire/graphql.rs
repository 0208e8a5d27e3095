//! The GraphQL documents preview-tower sends to GitHub (`HeadFacts`), built from what a
//! refresh wants, and their cost by GitHub's documented rule. Pure.
//!
//! One query reads, for a chunk of a repository's commits and pull requests: at each commit
//! the files and path objects wanted (`Commit.file(path:)`) and the build checks'
//! (`Commit.checkSuites` filtered by check name, the newest attempt of each suite's runs);
//! for each pull request its timeline items of the kinds that are activity (newest
//! [`TIMELINE_PAGE`], paged back with `before:`).
//!
//! **Everything from outside is a variable**: owner, name, paths, check names, SHAs and
//! cursors are typed variables, never text in the document; aliases are built from indices
//! (`c0`, `f1`) and PR numbers (`p12`). The document's text depends only on the chunk's
//! shape. Every document this module can build is validated against GitHub's published
//! schema by the test suite (`tests/graphql_queries.rs`).
//!
//! See `decode.rs` for the answers.

pub(in crate::github::octocrab) mod decode;

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::github::bulk::CommitWants;
use crate::naming::RepoName;

/// Timeline items read per page (GitHub allows 1 to 100): 50 comments of GitHub's largest
/// (64 KiB) stay under the answer cap, so no comment author can force a chunk to be halved.
pub(in crate::github::octocrab) const TIMELINE_PAGE: u32 = 50;
/// Check suites read per commit and check name: more than this is a doubt (read over REST).
pub(in crate::github::octocrab) const SUITES: u32 = 3;
/// Check runs read per suite: more than this is a doubt (read over REST).
pub(in crate::github::octocrab) const RUNS: u32 = 5;
/// Most connection requests (GitHub's cost unit, 100 to a point) in one query: 5 points.
pub(in crate::github::octocrab) const MAX_REQUESTS: u32 = 500;
/// Most commits or pull requests in one query.
pub(in crate::github::octocrab) const MAX_NODES: usize = 100;

/// The timeline item kinds that are activity (see `wire/activity.rs` for their REST names).
const ITEM_TYPES: &str = "PULL_REQUEST_COMMIT, HEAD_REF_FORCE_PUSHED_EVENT, LABELED_EVENT, \
UNLABELED_EVENT, ISSUE_COMMENT, PULL_REQUEST_REVIEW, READY_FOR_REVIEW_EVENT, REOPENED_EVENT";

const ENTRY: &str = "fragment Entry on TreeEntry { type mode oid object { __typename ... on Blob { byteSize isBinary isTruncated text } } }";
const RUN: &str =
    "fragment Run on CheckRunConnection { totalCount nodes { databaseId name status conclusion } }";
const WHO: &str = "fragment Who on Actor { __typename login }";
const ITEM: &str = "fragment Item on PullRequestTimelineItems { __typename \
... on PullRequestCommit { commit { oid committedDate } } \
... on HeadRefForcePushedEvent { createdAt actor { ...Who } } \
... on LabeledEvent { createdAt actor { ...Who } label { name } } \
... on UnlabeledEvent { createdAt actor { ...Who } label { name } } \
... on IssueComment { createdAt updatedAt authorAssociation author { ...Who } body } \
... on PullRequestReview { submittedAt authorAssociation author { ...Who } } \
... on ReadyForReviewEvent { createdAt actor { ...Who } } \
... on ReopenedEvent { createdAt actor { ...Who } } }";

/// One pull request's timeline page to read: the newest page, or the one before `cursor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::github::octocrab) struct TimelineWant {
    /// The PR.
    pub number: u64,
    /// GitHub's cursor of the earliest item already read (`None`: the newest page).
    pub before: Option<String>,
}

/// What one query asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(in crate::github::octocrab) struct Chunk {
    /// Facts at commits.
    pub commits: Vec<CommitWants>,
    /// Timeline pages.
    pub timelines: Vec<TimelineWant>,
}

impl Chunk {
    /// GitHub's estimate of the connection requests this chunk's query needs (its cost rule:
    /// every connection, assuming each `first`/`last` is reached): per commit and check, one
    /// for the suites and one per suite for its runs; one per timeline page.
    pub fn requests(&self) -> u32 {
        let checks: usize = self.commits.iter().map(|c| c.checks.len()).sum();
        let checks = u32::try_from(checks).unwrap_or(u32::MAX);
        let timelines = u32::try_from(self.timelines.len()).unwrap_or(u32::MAX);
        checks.saturating_mul(1 + SUITES).saturating_add(timelines)
    }

    /// Whether anything is asked.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.timelines.is_empty()
    }
}

/// Splits what is wanted into chunks of at most [`MAX_NODES`] commits, [`MAX_NODES`]
/// timelines and [`MAX_REQUESTS`] connection requests each. A PR number that is no GraphQL
/// `Int` is left out (read over REST).
pub(in crate::github::octocrab) fn chunks(
    commits: &[CommitWants],
    timelines: &[TimelineWant],
) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut current = Chunk::default();
    let full = |chunk: &Chunk, extra: u32, nodes: usize| {
        chunk.requests().saturating_add(extra) > MAX_REQUESTS || nodes >= MAX_NODES
    };
    for commit in commits {
        let cost = u32::try_from(commit.checks.len())
            .unwrap_or(u32::MAX)
            .saturating_mul(1 + SUITES);
        if !current.is_empty() && full(&current, cost, current.commits.len()) {
            out.push(std::mem::take(&mut current));
        }
        current.commits.push(commit.clone());
    }
    for timeline in timelines.iter().filter(|t| graphql_int(t.number)) {
        if !current.is_empty() && full(&current, 1, current.timelines.len()) {
            out.push(std::mem::take(&mut current));
        }
        current.timelines.push(timeline.clone());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `path` as `Commit.file(path:)` takes it: its segments joined by `/`, empty ones dropped (as
/// the REST read drops them). `None` for a path GraphQL and REST might read differently (empty,
/// or with a `.` or `..` segment): the REST read decides those.
pub(in crate::github::octocrab) fn graphql_path(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() || segments.iter().any(|s| *s == "." || *s == "..") {
        return None;
    }
    Some(segments.join("/"))
}

/// What of `commit` a query can ask: the paths [`graphql_path`] takes (the others are left to
/// REST); `None` when nothing is left.
pub(in crate::github::octocrab) fn askable(commit: &CommitWants) -> Option<CommitWants> {
    let keep = |paths: &[String]| -> Vec<String> {
        paths
            .iter()
            .filter(|p| graphql_path(p).is_some())
            .cloned()
            .collect()
    };
    let askable = CommitWants {
        sha: commit.sha.clone(),
        files: keep(&commit.files),
        objects: keep(&commit.objects),
        checks: commit.checks.clone(),
    };
    let empty = askable.files.is_empty() && askable.objects.is_empty() && askable.checks.is_empty();
    (!empty).then_some(askable)
}

/// `chunk` in two, when it has more than one commit or pull request.
pub(in crate::github::octocrab) fn halves(chunk: Chunk) -> Option<(Chunk, Chunk)> {
    let Chunk {
        mut commits,
        mut timelines,
    } = chunk;
    if commits.len() + timelines.len() < 2 {
        return None;
    }
    let second = if commits.len() >= 2 {
        Chunk {
            commits: commits.split_off(commits.len() / 2),
            timelines: Vec::new(),
        }
    } else if commits.len() == 1 && !timelines.is_empty() {
        Chunk {
            commits: Vec::new(),
            timelines: std::mem::take(&mut timelines),
        }
    } else {
        Chunk {
            commits: Vec::new(),
            timelines: timelines.split_off(timelines.len() / 2),
        }
    };
    Some((Chunk { commits, timelines }, second))
}

/// Whether `number` fits GraphQL's `Int` (32-bit signed).
pub(in crate::github::octocrab) fn graphql_int(number: u64) -> bool {
    i32::try_from(number).is_ok()
}

/// A query ready to send, and the table that maps its aliases back.
#[derive(Clone, Debug, PartialEq)]
pub(in crate::github::octocrab) struct Query {
    /// The GraphQL document.
    pub document: String,
    /// Its variables.
    pub variables: Map<String, Value>,
    /// Alias index → file path (`f{j}`).
    pub files: Vec<String>,
    /// Alias index → object path (`o{j}`).
    pub objects: Vec<String>,
    /// Alias index → check name (`b{k}`).
    pub checks: Vec<String>,
}

impl Query {
    /// The request body: `{"query": ..., "variables": ...}`.
    pub fn body(&self) -> Value {
        serde_json::json!({ "query": self.document, "variables": self.variables })
    }
}

/// The `HeadFacts` query of `chunk` in `repo`.
pub(in crate::github::octocrab) fn head_facts(repo: &RepoName, chunk: &Chunk) -> Query {
    let mut query = Query {
        document: String::new(),
        variables: Map::new(),
        files: distinct(chunk.commits.iter().flat_map(|c| &c.files)),
        objects: distinct(chunk.commits.iter().flat_map(|c| &c.objects)),
        checks: distinct(chunk.commits.iter().flat_map(|c| &c.checks)),
    };
    let mut declared = vec!["$owner: String!".to_owned(), "$name: String!".to_owned()];
    query
        .variables
        .insert("owner".into(), Value::from(repo.owner()));
    query
        .variables
        .insert("name".into(), Value::from(repo.name()));
    for (prefix, values, is_path) in [
        ("f", &query.files, true),
        ("o", &query.objects, true),
        ("k", &query.checks, false),
    ] {
        for (j, value) in values.iter().enumerate() {
            declared.push(format!("${prefix}{j}: String!"));
            let value = if is_path {
                graphql_path(value).unwrap_or_default()
            } else {
                value.clone()
            };
            query
                .variables
                .insert(format!("{prefix}{j}"), Value::from(value));
        }
    }
    let mut body = String::new();
    for (i, commit) in chunk.commits.iter().enumerate() {
        declared.push(format!("$s{i}: GitObjectID!"));
        query
            .variables
            .insert(format!("s{i}"), Value::from(commit.sha.as_str()));
        let _ = write!(body, "    c{i}: object(oid: $s{i}) {{ ... on Commit {{ oid");
        for file in &commit.files {
            let j = alias_index(&query.files, file);
            let _ = write!(body, " f{j}: file(path: $f{j}) {{ ...Entry }}");
        }
        for object in &commit.objects {
            let j = alias_index(&query.objects, object);
            let _ = write!(body, " o{j}: file(path: $o{j}) {{ oid type }}");
        }
        for check in &commit.checks {
            let k = alias_index(&query.checks, check);
            let _ = write!(
                body,
                " b{k}: checkSuites(first: {SUITES}, filterBy: {{checkName: $k{k}}}) {{ totalCount \
                 nodes {{ checkRuns(first: {RUNS}, filterBy: {{checkName: $k{k}, checkType: LATEST}}) \
                 {{ ...Run }} }} }}"
            );
        }
        body.push_str(" } }\n");
    }
    for timeline in &chunk.timelines {
        let n = timeline.number;
        let before = match &timeline.before {
            Some(cursor) => {
                declared.push(format!("$before{n}: String!"));
                query
                    .variables
                    .insert(format!("before{n}"), Value::from(cursor.as_str()));
                format!("before: $before{n}, ")
            }
            None => String::new(),
        };
        let _ = writeln!(
            body,
            "    p{n}: pullRequest(number: {n}) {{ number timelineItems(last: {TIMELINE_PAGE}, \
             {before}itemTypes: [{ITEM_TYPES}]) {{ pageInfo {{ hasPreviousPage startCursor }} \
             nodes {{ ...Item }} }} }}"
        );
    }
    let mut document = format!(
        "query HeadFacts({}) {{\n  rateLimit {{ cost remaining resetAt }}\n  \
         repository(owner: $owner, name: $name) {{\n{body}  }}\n}}\n",
        declared.join(", ")
    );
    let uses = |fragment: &str| document.contains(&format!("...{fragment}"));
    let mut fragments = Vec::new();
    if uses("Entry") {
        fragments.push(ENTRY);
    }
    if uses("Run") {
        fragments.push(RUN);
    }
    if uses("Item") {
        fragments.push(ITEM);
        fragments.push(WHO);
    }
    for fragment in fragments {
        document.push_str(fragment);
        document.push('\n');
    }
    query.document = document;
    query
}

/// The index in a query's table (`files`, `objects`, `checks`) that `value`'s alias and variable
/// are numbered by: how the document names it, and how its answer is found again.
pub(in crate::github::octocrab) fn alias_index(values: &[String], value: &str) -> usize {
    values.iter().position(|v| v == value).unwrap_or_default()
}

fn distinct<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if !out.contains(value) {
            out.push(value.clone());
        }
    }
    out
}

/// Documents of every shape the service can send, with their variables: what the test suite
/// validates against GitHub's schema. Not used by the service itself.
#[doc(hidden)]
pub fn example_documents() -> Vec<(String, String, Value)> {
    let repo: RepoName = "acme/web".parse().expect("a valid repo name");
    let sha = |i: usize| format!("{i:040x}");
    let commit = |i: usize, files: usize, objects: usize, checks: usize| CommitWants {
        sha: sha(i),
        files: (0..files).map(|j| format!(".preview{j}.yaml")).collect(),
        objects: (0..objects).map(|j| format!("db/seed{j}")).collect(),
        checks: (0..checks)
            .map(|k| format!("preview \"ready\" {k}"))
            .collect(),
    };
    let newest = |n: u64| TimelineWant {
        number: n,
        before: None,
    };
    let earlier = |n: u64| TimelineWant {
        number: n,
        before: Some(format!("Y3Vyc29yOnYyOpPPAAABj{n}")),
    };
    let mut shapes: Vec<(String, Chunk)> = Vec::new();
    for (files, objects, checks) in [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 2, 2), (0, 1, 1)] {
        shapes.push((
            format!("one commit, {files} files, {objects} objects, {checks} checks"),
            Chunk {
                commits: vec![commit(0, files, objects, checks)],
                timelines: Vec::new(),
            },
        ));
    }
    shapes.push((
        "one push: one commit and its PR's timeline".into(),
        Chunk {
            commits: vec![commit(0, 1, 1, 1)],
            timelines: vec![newest(12)],
        },
    ));
    shapes.push((
        "timelines only, newest and earlier pages".into(),
        Chunk {
            commits: Vec::new(),
            timelines: vec![newest(7), earlier(12)],
        },
    ));
    let commits: Vec<CommitWants> = (0..100).map(|i| commit(i, 1, 1, 1)).collect();
    let timelines: Vec<TimelineWant> = (1..=100).map(newest).collect();
    for (i, chunk) in chunks(&commits, &timelines).into_iter().enumerate() {
        shapes.push((format!("cold start of 100 PRs, chunk {i}"), chunk));
    }
    shapes
        .into_iter()
        .map(|(name, chunk)| {
            let query = head_facts(&repo, &chunk);
            (name, query.document, Value::Object(query.variables))
        })
        .collect()
}

#[cfg(test)]
mod tests;
