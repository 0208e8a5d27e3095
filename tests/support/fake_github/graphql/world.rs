//! The fake's world as GraphQL objects: the root, `rateLimit`, a repository, a commit
//! (`object(oid:)`) and the tree entries and blobs of its `file(path:)`, from the same trees the
//! contents API serves. Check suites are in `suites`, pull requests and timelines in `items`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::exec::{At, Exec, Out, selects};
use super::{facts, items, suites};
use crate::support::fake_github::checks::FakeCheckRun;
use crate::support::fake_github::fault::Endpoint;
use crate::support::fake_github::model::Node;
use crate::support::fake_github::render::time;

/// GitHub truncates `Blob.text` of big blobs (`isTruncated`); the fake at the contents API's
/// 1 MB.
const TEXT_LIMIT: usize = 1_048_576;

/// An object of the fake's world, as the executor walks it.
pub(super) enum Obj {
    Query,
    RateLimit,
    /// The fake's key (`owner/name`, lower-cased).
    Repository(String),
    Commit {
        repo: String,
        sha: String,
        /// The commit's date when known (from the pull request's timeline).
        at: Option<DateTime<Utc>>,
    },
    Entry {
        path: String,
        node: Node,
    },
    /// `TreeEntry.object`: a `Blob` or a `Tree`.
    Git(Node),
    Suites {
        total: usize,
        nodes: Vec<(u64, Vec<FakeCheckRun>)>,
    },
    Suite(u64, Vec<FakeCheckRun>),
    Runs {
        total: usize,
        nodes: Vec<FakeCheckRun>,
    },
    Run(FakeCheckRun),
    Pull {
        repo: String,
        number: u64,
    },
    Timeline(items::Page),
    PageInfo(items::PageInfo),
    Item(items::Item),
    /// An account by its REST login (`name[bot]` for an App's bot).
    Actor(String),
    Label(String),
}

impl Obj {
    /// The object's GraphQL type.
    pub fn typename(&self) -> &'static str {
        match self {
            Self::Query => "Query",
            Self::RateLimit => "RateLimit",
            Self::Repository(_) => "Repository",
            Self::Commit { .. } => "Commit",
            Self::Entry { .. } => "TreeEntry",
            Self::Git(Node::Dir { .. }) => "Tree",
            Self::Git(_) => "Blob",
            Self::Suites { .. } => "CheckSuiteConnection",
            Self::Suite(..) => "CheckSuite",
            Self::Runs { .. } => "CheckRunConnection",
            Self::Run(_) => "CheckRun",
            Self::Pull { .. } => "PullRequest",
            Self::Timeline(_) => "PullRequestTimelineItemsConnection",
            Self::PageInfo(_) => "PageInfo",
            Self::Item(item) => item.typename(),
            Self::Actor(login) if login.ends_with("[bot]") => "Bot",
            Self::Actor(_) => "User",
            Self::Label(_) => "Label",
        }
    }
}

/// Resolves `at`'s field of `obj` with `args`; `None` when the fake does not implement it.
pub(super) fn resolve(
    exec: &mut Exec<'_>,
    obj: &Obj,
    at: &At<'_>,
    args: &Map<String, Value>,
) -> Option<Out> {
    let name = at.field.name.as_str();
    let leaf = |v: Value| Some(Out::Leaf(v));
    match obj {
        Obj::Query => match name {
            "rateLimit" if only(exec, at, args, &[]) => Some(Out::Object(Obj::RateLimit)),
            "repository" if only(exec, at, args, &["owner", "name"]) => {
                Some(repository(exec, at, args))
            }
            _ => None,
        },
        Obj::RateLimit => match name {
            "cost" => leaf(exec.rate.cost.into()),
            "limit" => leaf(exec.rate.limit.into()),
            "remaining" => leaf(exec.rate.remaining.into()),
            "used" => leaf(exec.rate.used.into()),
            "resetAt" => leaf(
                DateTime::from_timestamp(exec.rate.reset_at, 0)
                    .map(time)
                    .into(),
            ),
            _ => None,
        },
        Obj::Repository(key) => match name {
            "nameWithOwner" => leaf(exec.state.repos[key].full_name().into()),
            "object" if only(exec, at, args, &["oid"]) => Some(object(exec, at, key, args)),
            "pullRequest" if only(exec, at, args, &["number"]) => {
                Some(items::pull(exec, at, key, args))
            }
            _ => None,
        },
        Obj::Commit {
            repo,
            sha,
            at: date,
        } => match name {
            "oid" => leaf(sha.as_str().into()),
            "committedDate" => leaf(
                time(date.unwrap_or_else(|| items::committed_at(exec.state, repo, sha))).into(),
            ),
            "file" if only(exec, at, args, &["path"]) => Some(file(exec, at, repo, sha, args)),
            "checkSuites" if only(exec, at, args, &["first", "filterBy"]) => {
                suites::suites(exec, at, repo, sha, args)
            }
            _ => None,
        },
        Obj::Entry { path, node } => entry(name, path, node),
        Obj::Git(node) => blob(name, node),
        Obj::Suites { .. } | Obj::Suite(..) | Obj::Runs { .. } | Obj::Run(_) => {
            suites::resolve(exec, obj, at, args)
        }
        _ => items::resolve(exec, obj, at, args),
    }
}

/// Whether `args` has only `allowed` names; records each other one as not implemented.
pub(super) fn only(
    exec: &mut Exec<'_>,
    at: &At<'_>,
    args: &Map<String, Value>,
    allowed: &[&str],
) -> bool {
    let extra: Vec<String> = args
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .cloned()
        .collect();
    for name in &extra {
        exec.unimplemented(at, &format!("the argument `{name}` of `{}`", at.field.name));
    }
    extra.is_empty()
}

fn repository(exec: &mut Exec<'_>, at: &At<'_>, args: &Map<String, Value>) -> Out {
    let owner = args["owner"].as_str().unwrap_or_default();
    let name = args["name"].as_str().unwrap_or_default();
    let mut key = format!("{owner}/{name}").to_ascii_lowercase();
    // GraphQL follows renames (`followRenames` defaults to true).
    if let Some(new) = exec.state.renamed.get(&key) {
        key = new.to_ascii_lowercase();
    }
    if exec.visible && exec.state.repos.contains_key(&key) {
        return Out::Object(Obj::Repository(key));
    }
    let message = format!("Could not resolve to a Repository with the name '{owner}/{name}'.");
    exec.error(at, Some("NOT_FOUND"), &message);
    Out::Null
}

/// `object(oid:)`: a commit the fake knows, else `null` without an error (as GitHub).
fn object(exec: &mut Exec<'_>, at: &At<'_>, key: &str, args: &Map<String, Value>) -> Out {
    let oid = args["oid"].as_str().unwrap_or_default().to_owned();
    if let Some(type_) = exec.node_error_for(&oid) {
        let message = node_message(
            type_,
            &format!("Could not resolve to a node with the global id of '{oid}'."),
        );
        exec.error(at, Some(type_), &message);
        return Out::Null;
    }
    if !exec.state.repos[key].trees.contains_key(&oid) {
        return Out::Null;
    }
    Out::Object(Obj::Commit {
        repo: key.to_owned(),
        sha: oid,
        at: None,
    })
}

/// GitHub's message for a node error of `type_`.
pub(super) fn node_message(type_: &str, not_found: &str) -> String {
    match type_ {
        "NOT_FOUND" => not_found.to_owned(),
        "FORBIDDEN" => "Resource not accessible by integration".to_owned(),
        _ => "Something went wrong while executing your query.".to_owned(),
    }
}

/// `file(path:)` at a commit, from the tree the contents API serves; a missing path is `null`.
fn file(exec: &mut Exec<'_>, at: &At<'_>, repo: &str, sha: &str, args: &Map<String, Value>) -> Out {
    let path: Vec<&str> = args["path"]
        .as_str()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let path = path.join("/");
    // A selection without `object` is what the REST code reads from the parent's listing.
    let reads_blob = selects(exec.document, &at.field.selection_set, "object");
    let read = if reads_blob {
        path.as_str()
    } else {
        path.rsplit_once('/').map_or("", |(parent, _)| parent)
    };
    let route = facts::contents_route(exec.state, repo, read, sha);
    if facts::consult(exec, at, Endpoint::Contents, repo, &route).is_err() {
        return Out::Null;
    }
    let node = exec.state.repos[repo]
        .trees
        .get(sha)
        .and_then(|tree| tree.get(&path))
        .cloned();
    match node {
        Some(node) if !path.is_empty() => Out::Object(Obj::Entry { path, node }),
        _ => Out::Null,
    }
}

fn entry(name: &str, path: &str, node: &Node) -> Option<Out> {
    let leaf = |v: Value| Some(Out::Leaf(v));
    let (kind, mode) = match node {
        Node::File { .. } => ("blob", 0o100_644),
        Node::Symlink { .. } => ("blob", 0o120_000),
        Node::Dir { .. } => ("tree", 0o040_000),
        Node::Submodule { .. } => ("commit", 0o160_000),
    };
    match name {
        "type" => leaf(kind.into()),
        "mode" => leaf(mode.into()),
        "oid" => leaf(node.sha().into()),
        "path" => leaf(path.into()),
        "name" => leaf(path.rsplit('/').next().unwrap_or(path).into()),
        "object" => Some(match node {
            // A gitlink's commit lives in another repository.
            Node::Submodule { .. } => Out::Null,
            node => Out::Object(Obj::Git(node.clone())),
        }),
        _ => None,
    }
}

fn blob(name: &str, node: &Node) -> Option<Out> {
    let leaf = |v: Value| Some(Out::Leaf(v));
    let bytes: &[u8] = match node {
        Node::File { bytes, .. } => bytes,
        Node::Symlink { target, .. } => target.as_bytes(),
        Node::Dir { sha } => return (name == "oid").then(|| Out::Leaf(sha.as_str().into())),
        Node::Submodule { .. } => return None,
    };
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.contains('\0'));
    match name {
        "oid" => leaf(node.sha().into()),
        "byteSize" => leaf(bytes.len().into()),
        "isBinary" => leaf(text.is_none().into()),
        "isTruncated" => leaf((bytes.len() > TEXT_LIMIT).into()),
        "text" => leaf(
            text.map(|t| {
                let mut end = t.len().min(TEXT_LIMIT);
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                t[..end].to_owned()
            })
            .into(),
        ),
        _ => None,
    }
}
