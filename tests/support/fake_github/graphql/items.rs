//! `Repository.pullRequest(number:)` and its `timelineItems(last:, before:, itemTypes:)`, from
//! the same recorded timeline the REST timeline endpoint serves (the recorded events and the
//! PR's comments, oldest first), as design §2.5 maps them: `PullRequestCommit`,
//! `LabeledEvent`/`UnlabeledEvent`, `IssueComment`, `PullRequestReview`,
//! `HeadRefForcePushedEvent`, `ReadyForReviewEvent`, `ReopenedEvent`. Actors and authors are
//! `{__typename login}`: an App's bot is a `Bot` whose login has no `[bot]` suffix (GitHub's
//! GraphQL writes it so), `ghost` (a deleted account) is `null`. Cursors are opaque strings.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::exec::{At, Exec, Out};
use super::facts;
use super::world::{Obj, node_message};
use crate::support::fake_github::fault::Endpoint;
use crate::support::fake_github::model::State;
use crate::support::fake_github::render::time;
use crate::support::fake_github::timeline::Recorded;

/// One timeline item.
#[derive(Clone, Debug)]
pub(super) enum Item {
    Commit {
        repo: String,
        sha: String,
        at: DateTime<Utc>,
    },
    Label {
        name: String,
        added: bool,
        actor: String,
        at: DateTime<Utc>,
    },
    Review {
        login: String,
        association: String,
        at: DateTime<Utc>,
    },
    Comment {
        login: String,
        association: String,
        body: String,
        created: DateTime<Utc>,
        updated: DateTime<Utc>,
    },
    /// `HeadRefForcePushedEvent`, `ReadyForReviewEvent`, `ReopenedEvent`.
    Actor {
        typename: &'static str,
        actor: String,
        at: DateTime<Utc>,
    },
}

impl Item {
    pub fn typename(&self) -> &'static str {
        match self {
            Self::Commit { .. } => "PullRequestCommit",
            Self::Label { added: true, .. } => "LabeledEvent",
            Self::Label { added: false, .. } => "UnlabeledEvent",
            Self::Review { .. } => "PullRequestReview",
            Self::Comment { .. } => "IssueComment",
            Self::Actor { typename, .. } => typename,
        }
    }

    /// Its `PullRequestTimelineItemsItemType` (`LABELED_EVENT`): the type name in capitals.
    fn item_type(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.typename().chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        out
    }
}

/// A page of items, with its cursors.
#[derive(Clone, Debug)]
pub(super) struct Page {
    pub total: usize,
    pub nodes: Vec<Item>,
    pub info: PageInfo,
}

#[derive(Clone, Debug)]
pub(super) struct PageInfo {
    pub has_previous: bool,
    pub has_next: bool,
    pub start: Option<String>,
    pub end: Option<String>,
}

fn cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{index}"))
}

fn index_of(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("cursor:v2:")?
        .parse()
        .ok()
}

/// `pullRequest(number:)`; an unknown number is `null` with GitHub's `NOT_FOUND`.
pub(super) fn pull(exec: &mut Exec<'_>, at: &At<'_>, repo: &str, args: &Map<String, Value>) -> Out {
    let number = args["number"].as_u64().unwrap_or_default();
    let not_found = format!("Could not resolve to a PullRequest with the number of {number}.");
    if let Some(type_) = exec.node_error_for_pull(number) {
        exec.error(at, Some(type_), &node_message(type_, &not_found));
        return Out::Null;
    }
    if !exec.state.repos[repo].pulls.contains_key(&number) {
        exec.error(at, Some("NOT_FOUND"), &not_found);
        return Out::Null;
    }
    Out::Object(Obj::Pull {
        repo: repo.to_owned(),
        number,
    })
}

/// The timeline of PR `number`, oldest first, as the REST endpoint lists it.
fn items(state: &State, repo: &str, number: u64) -> Vec<Item> {
    let mut items: Vec<(DateTime<Utc>, Item)> = Vec::new();
    for event in state
        .timelines
        .events
        .get(&(repo.to_owned(), number))
        .into_iter()
        .flatten()
    {
        let item = match event.clone() {
            Recorded::Committed { sha, at } => (
                at,
                Item::Commit {
                    repo: repo.to_owned(),
                    sha,
                    at,
                },
            ),
            Recorded::Label {
                name,
                added,
                actor,
                at,
            } => (
                at,
                Item::Label {
                    name,
                    added,
                    actor,
                    at,
                },
            ),
            Recorded::Reviewed {
                login,
                association,
                at,
                ..
            } => (
                at,
                Item::Review {
                    login,
                    association,
                    at,
                },
            ),
            Recorded::Event { event, actor, at } => {
                let typename = match event {
                    "head_ref_force_pushed" => "HeadRefForcePushedEvent",
                    "ready_for_review" => "ReadyForReviewEvent",
                    _ => "ReopenedEvent",
                };
                (
                    at,
                    Item::Actor {
                        typename,
                        actor,
                        at,
                    },
                )
            }
        };
        items.push(item);
    }
    for c in state.repos[repo]
        .comments
        .iter()
        .filter(|c| c.number == number)
    {
        let (login, association, body) = (c.author.clone(), c.association.clone(), c.body.clone());
        let (created, updated) = (c.created_at, c.updated_at);
        items.push((
            created,
            Item::Comment {
                login,
                association,
                body,
                created,
                updated,
            },
        ));
    }
    items.sort_by_key(|(at, _)| *at);
    items.into_iter().map(|(_, item)| item).collect()
}

/// When commit `sha` was committed, as the PR timelines of `repo` recorded it.
pub(super) fn committed_at(state: &State, repo: &str, sha: &str) -> DateTime<Utc> {
    let recorded = state
        .timelines
        .events
        .iter()
        .filter(|((r, _), _)| r == repo)
        .flat_map(|(_, events)| events);
    recorded
        .filter_map(|e| match e {
            Recorded::Committed { sha: s, at } if s == sha => Some(*at),
            _ => None,
        })
        .next()
        .unwrap_or_default()
}

fn timeline(
    exec: &mut Exec<'_>,
    at: &At<'_>,
    repo: &str,
    number: u64,
    args: &Map<String, Value>,
) -> Out {
    if args.contains_key("first") || args.contains_key("after") || !args.contains_key("last") {
        exec.unimplemented(
            at,
            "`timelineItems` paged otherwise than with `last:` and `before:`",
        );
        return Out::Null;
    }
    let route = facts::timeline_route(exec.state, repo, number);
    if facts::consult(exec, at, Endpoint::Timeline, repo, &route).is_err() {
        return Out::Null;
    }
    let wanted: Option<Vec<String>> =
        args.get("itemTypes")
            .and_then(Value::as_array)
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            });
    let all: Vec<Item> = items(exec.state, repo, number)
        .into_iter()
        .filter(|item| {
            wanted
                .as_ref()
                .is_none_or(|w| w.contains(&item.item_type()))
        })
        .collect();
    let end = match args.get("before").and_then(Value::as_str) {
        None => all.len(),
        Some(before) => match index_of(before) {
            Some(index) => index.min(all.len()),
            None => {
                let message = format!("`{before}` does not appear to be a valid cursor.");
                exec.error(at, None, &message);
                crate::support::fake_server::Conformance::record(
                    &mut *exec.state,
                    format!("GraphQL: {message}"),
                );
                return Out::Null;
            }
        },
    };
    let last = usize::try_from(args["last"].as_u64().unwrap_or(0)).unwrap_or(0);
    let start = end.saturating_sub(last);
    let info = PageInfo {
        has_previous: start > 0,
        has_next: end < all.len(),
        start: (start < end).then(|| cursor(start)),
        end: (start < end).then(|| cursor(end - 1)),
    };
    let total = all.len();
    let nodes = all[start..end].to_vec();
    Out::Object(Obj::Timeline(Page { total, nodes, info }))
}

/// The fields of pull requests, timelines and their items.
pub(super) fn resolve(
    exec: &mut Exec<'_>,
    obj: &Obj,
    at: &At<'_>,
    args: &Map<String, Value>,
) -> Option<Out> {
    let name = at.field.name.as_str();
    let leaf = |v: Value| Some(Out::Leaf(v));
    match obj {
        Obj::Pull { repo, number } => match name {
            "number" => leaf((*number).into()),
            "timelineItems" => Some(timeline(exec, at, repo, *number, args)),
            _ => None,
        },
        Obj::Timeline(page) => match name {
            "totalCount" => leaf(page.total.into()),
            "pageInfo" => Some(Out::Object(Obj::PageInfo(page.info.clone()))),
            "nodes" => Some(Out::List(
                page.nodes
                    .iter()
                    .map(|i| Out::Object(Obj::Item(i.clone())))
                    .collect(),
            )),
            _ => None,
        },
        Obj::PageInfo(info) => match name {
            "hasPreviousPage" => leaf(info.has_previous.into()),
            "hasNextPage" => leaf(info.has_next.into()),
            "startCursor" => leaf(info.start.clone().into()),
            "endCursor" => leaf(info.end.clone().into()),
            _ => None,
        },
        Obj::Actor(login) => match name {
            "login" => leaf(login.trim_end_matches("[bot]").into()),
            _ => None,
        },
        Obj::Label(label) => (name == "name").then(|| Out::Leaf(label.as_str().into())),
        Obj::Item(item) => item_field(item, name),
        _ => None,
    }
}

fn actor(login: &str) -> Out {
    if login == "ghost" {
        Out::Null
    } else {
        Out::Object(Obj::Actor(login.to_owned()))
    }
}

fn item_field(item: &Item, name: &str) -> Option<Out> {
    let leaf = |v: Value| Some(Out::Leaf(v));
    match (item, name) {
        (Item::Commit { repo, sha, at }, "commit") => {
            let (repo, sha) = (repo.clone(), sha.clone());
            Some(Out::Object(Obj::Commit {
                repo,
                sha,
                at: Some(*at),
            }))
        }
        (Item::Label { at, .. } | Item::Actor { at, .. }, "createdAt") => leaf(time(*at).into()),
        (Item::Label { actor: who, .. } | Item::Actor { actor: who, .. }, "actor") => {
            Some(actor(who))
        }
        (Item::Label { name: label, .. }, "label") => Some(Out::Object(Obj::Label(label.clone()))),
        (Item::Review { at, .. }, "submittedAt") => leaf(time(*at).into()),
        (
            Item::Review { association, .. } | Item::Comment { association, .. },
            "authorAssociation",
        ) => leaf(association.as_str().into()),
        (Item::Review { login, .. } | Item::Comment { login, .. }, "author") => Some(actor(login)),
        (Item::Comment { created, .. }, "createdAt") => leaf(time(*created).into()),
        (Item::Comment { updated, .. }, "updatedAt") => leaf(time(*updated).into()),
        (Item::Comment { body, .. }, "body") => leaf(body.as_str().into()),
        _ => None,
    }
}
