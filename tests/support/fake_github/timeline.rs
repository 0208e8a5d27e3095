//! The fake's issue timeline of a pull request (`GET /repos/{o}/{r}/issues/{n}/timeline`):
//! what the existing helpers did, as GitHub records it, oldest first, paginated like the other
//! lists (`per_page` up to 100, `Link` to `/repositories/{id}/...`), with `ETag`s and free
//! `304`s like every `GET` of the fake.
//!
//! Events come from the helpers: opening a PR (`labeled` for its labels, `committed` for its
//! head), [`FakeGitHub::push`] (`committed`, the committer date now), [`FakeGitHub::set_labels`]
//! (`labeled` / `unlabeled` for the difference, by [`LABELLER`]), every comment on the PR
//! (`commented`, the bot's sticky comment included: GitHub shows it too), and
//! [`FakeGitHub::review`] (`reviewed`). Each of those, as on GitHub, bumps the PR's
//! `updated_at` (the bot's comments through the API do not: a simplification of the fake).
//!
//! **No vendor schema exists for the timeline** in the conformance set
//! (`github/schemas/` has none), so the shapes follow GitHub's REST documentation ("List
//! timeline events for an issue", "Issue event types": `committed` with git `author` /
//! `committer` and no `created_at`, `labeled` with `label` and `actor`, `reviewed` with
//! `submitted_at`). What can be checked is: the `issue-comment` inside each `commented`
//! event is validated against the `issues.list-comments` item schema, and each review's
//! `author_association` against GitHub's `author-association` (defined in that schema too).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::model::{Endpoint, State};
use super::render::{stable_id, time};
use super::reporting::{RepoRef, author, paged};
use super::serve::{Reply, Route, SCHEMAS, record};
use crate::support::conformance;

/// Who adds and removes labels in the fake's timeline.
pub const LABELLER: &str = "octocat";

/// A timeline event the fake keeps (comments are rendered from the PR's comments).
#[derive(Clone, Debug)]
pub enum Recorded {
    /// `committed`: commit `sha`, committed at `at`.
    Committed { sha: String, at: DateTime<Utc> },
    /// `labeled` (`added`) or `unlabeled`.
    Label {
        name: String,
        added: bool,
        actor: String,
        at: DateTime<Utc>,
    },
    /// `head_ref_force_pushed`, `ready_for_review` or `reopened`, by `actor`.
    Event {
        event: &'static str,
        actor: String,
        at: DateTime<Utc>,
    },
    /// `reviewed`, submitted, by `login` whose `author_association` is `association`.
    Reviewed {
        id: u64,
        login: String,
        association: String,
        at: DateTime<Utc>,
    },
}

impl Recorded {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Committed { at, .. }
            | Self::Label { at, .. }
            | Self::Event { at, .. }
            | Self::Reviewed { at, .. } => *at,
        }
    }
}

/// The timelines, by (`owner/name` lower-cased, number).
#[derive(Debug, Default)]
pub struct Timelines {
    pub events: HashMap<(String, u64), Vec<Recorded>>,
    pub next_review: u64,
}

/// Records `event` on PR `number` of `repo`.
pub(super) fn record_event(state: &mut State, repo: &str, number: u64, event: Recorded) {
    let key = (repo.to_ascii_lowercase(), number);
    state.timelines.events.entry(key).or_default().push(event);
}

/// The timeline endpoint of `method` and path `segs`.
pub(super) fn route<'a>(method: &str, segs: &[&'a str]) -> Option<(Endpoint, RepoRef<'a>, String)> {
    match (method, segs) {
        ("GET", ["repos", o, r, "issues", n, "timeline"]) => {
            Some((Endpoint::Timeline, RepoRef::Name(o, r), (*n).to_owned()))
        }
        ("GET", ["repositories", id, "issues", n, "timeline"]) => {
            Some((Endpoint::Timeline, RepoRef::Id(id), (*n).to_owned()))
        }
        _ => None,
    }
}

/// Answers the timeline of the PR in `route.path` (already authenticated).
pub(super) fn answer(state: &mut State, route: &Route, query: &HashMap<String, String>) -> Reply {
    let Some(repo) = route.repo.clone().filter(|r| state.repos.contains_key(r)) else {
        return Reply::error(404, "Not Found");
    };
    let held = &state.repos[&repo];
    let Some(number) = route
        .path
        .parse::<u64>()
        .ok()
        .filter(|n| held.pulls.contains_key(n))
    else {
        return Reply::error(404, "Not Found");
    };
    let base = state.base_url.clone();
    let full = held.full_name();
    let mut items: Vec<(DateTime<Utc>, Value)> = state
        .timelines
        .events
        .get(&(repo.clone(), number))
        .into_iter()
        .flatten()
        .map(|event| (event.at(), render(&base, &full, number, event)))
        .collect();
    let mut comments = Vec::new();
    for comment in held.comments.iter().filter(|c| c.number == number) {
        let object = super::comments::render(&base, &full, comment);
        comments.push(object.clone());
        let mut event = object;
        event["event"] = Value::from("commented");
        event["actor"] = author(&base, &comment.author);
        items.push((comment.created_at, event));
    }
    let schema = format!("{SCHEMAS}/issues.list-comments.response-200.schema.json");
    if !comments.is_empty() {
        let violations = conformance::validate(&schema, &Value::Array(comments));
        record(state, violations);
    }
    for (_, item) in items.iter().filter(|(_, item)| item["event"] == "reviewed") {
        let association = &item["author_association"];
        let violations = conformance::validate_def(&schema, "author-association", association);
        record(state, violations);
    }
    // Oldest first, as GitHub lists a timeline.
    items.sort_by_key(|(at, _)| *at);
    let items = items.into_iter().map(|(_, item)| item).collect();
    let path = format!("issues/{number}/timeline");
    Reply {
        schema: None,
        ..paged(state, &repo, &path, query, items, "")
    }
}

fn render(base: &str, full: &str, number: u64, event: &Recorded) -> Value {
    let api = format!("{base}/repos/{full}");
    match event {
        Recorded::Committed { sha, at } => {
            let person =
                json!({"name": "Octo Cat", "email": "octocat@example.com", "date": time(*at)});
            json!({
                "event": "committed", "sha": sha, "node_id": format!("C_{sha}"),
                "url": format!("{api}/git/commits/{sha}"),
                "html_url": format!("{base}/{full}/commit/{sha}"),
                "author": person, "committer": person,
                "message": format!("Commit {}", &sha[..sha.len().min(7)]),
                "tree": {"sha": sha, "url": format!("{api}/git/trees/{sha}")}, "parents": [],
                "verification": {"verified": false, "reason": "unsigned", "signature": null,
                    "payload": null, "verified_at": null}
            })
        }
        Recorded::Label {
            name,
            added,
            actor,
            at,
        } => {
            let id = stable_id(&format!("{full}:{number}:{name}:{at}"));
            json!({
                "id": id, "node_id": format!("LE_{id}"), "url": format!("{api}/issues/events/{id}"),
                "actor": author(base, actor),
                "event": if *added { "labeled" } else { "unlabeled" },
                "commit_id": null, "commit_url": null, "created_at": time(*at),
                "performed_via_github_app": null,
                "label": {"name": name, "color": "ededed"}
            })
        }
        Recorded::Event { event, actor, at } => {
            let id = stable_id(&format!("{full}:{number}:{event}:{at}"));
            json!({
                "id": id, "node_id": format!("E_{id}"), "url": format!("{api}/issues/events/{id}"),
                "actor": author(base, actor), "event": event, "commit_id": null,
                "commit_url": null, "created_at": time(*at), "performed_via_github_app": null
            })
        }
        Recorded::Reviewed {
            id,
            login,
            association,
            at,
        } => {
            let html = format!("{base}/{full}/pull/{number}#pullrequestreview-{id}");
            let pull = format!("{api}/pulls/{number}");
            json!({
                "event": "reviewed", "id": id, "node_id": format!("PRR_{id}"),
                "user": author(base, login), "body": "Looks good", "state": "approved",
                "html_url": html, "pull_request_url": pull, "author_association": association,
                "_links": {"html": {"href": html}, "pull_request": {"href": pull}},
                "submitted_at": time(*at), "commit_id": null
            })
        }
    }
}

impl FakeGitHub {
    /// `login`, a `MEMBER`, submits a review of PR `number` (now): a `reviewed` event;
    /// `updated_at` moves.
    pub fn review(&self, repo: &str, number: u64, login: &str) {
        self.review_with(repo, number, login, "MEMBER");
    }

    /// Like [`FakeGitHub::review`], by an account whose `author_association` with the
    /// repository is `association` (checked against GitHub's schema when served).
    pub fn review_with(&self, repo: &str, number: u64, login: &str, association: &str) {
        self.with(|s| {
            let at = s.now();
            let id = 5_000_001 + s.timelines.next_review;
            s.timelines.next_review += 1;
            let (login, association) = (login.to_owned(), association.to_owned());
            let review = Recorded::Reviewed {
                id,
                login,
                association,
                at,
            };
            record_event(s, repo, number, review);
        });
        self.edit_pull(repo, number, |_| {});
    }

    /// Like [`FakeGitHub::push`], but the new commit's dates (git's, its author's to set)
    /// are `dated`, whatever the clock says: the timeline's `committed` event carries them.
    pub fn push_dated(&self, repo: &str, number: u64, new_sha: &str, dated: DateTime<Utc>) {
        self.push(repo, number, new_sha);
        let key = (repo.to_ascii_lowercase(), number);
        self.with(|s| {
            let events = s.timelines.events.entry(key).or_default();
            let pushed = events.iter_mut().rev().find_map(|event| match event {
                Recorded::Committed { sha, at } if sha == new_sha => Some(at),
                _ => None,
            });
            *pushed.expect("the push is recorded") = dated;
        });
    }

    /// `actor` does `event` on PR `number` now: `head_ref_force_pushed`, `ready_for_review` or
    /// `reopened` (GraphQL's `HeadRefForcePushedEvent`, `ReadyForReviewEvent`,
    /// `ReopenedEvent`); `updated_at` moves.
    pub fn timeline_event(&self, repo: &str, number: u64, event: &'static str, actor: &str) {
        assert!(
            ["head_ref_force_pushed", "ready_for_review", "reopened"].contains(&event),
            "fake GitHub: no timeline event {event:?}"
        );
        self.with(|s| {
            let at = s.now();
            let actor = actor.to_owned();
            record_event(s, repo, number, Recorded::Event { event, actor, at });
        });
        self.edit_pull(repo, number, |_| {});
    }

    /// The events recorded on PR `number` (comments not included), oldest first.
    pub fn timeline(&self, repo: &str, number: u64) -> Vec<Recorded> {
        let key = (repo.to_ascii_lowercase(), number);
        self.with(|s| s.timelines.events.get(&key).cloned().unwrap_or_default())
    }
}
