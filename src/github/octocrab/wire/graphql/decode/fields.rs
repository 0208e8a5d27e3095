//! The answer's fields, one decoder each: a file entry, a path's object, a build check's
//! suites and runs, a timeline page. Each says `Ok(None)` where only REST can tell.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::super::{RUNS, SUITES};
use super::{TimelinePage, malformed};
use crate::github::GitHubError;
use crate::github::octocrab::wire::activity::{
    WireAccount, WireEvent, WireGitIdentity, WireLabel, into_event,
};
use crate::github::octocrab::wire::checks::clean_conclusion;
use crate::github::octocrab::wire::{too_large, unreadable};
use crate::pull_request::{BuildStatus, ConfigFile};
use crate::repo_config::MAX_FILE_BYTES;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    mode: Option<u32>,
    #[serde(default)]
    object: Option<Blob>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Blob {
    #[serde(default)]
    byte_size: Option<u64>,
    #[serde(default)]
    is_binary: Option<bool>,
    #[serde(default)]
    is_truncated: Option<bool>,
    #[serde(default)]
    text: Option<String>,
}

/// A symbolic link's git file mode (`0o120000`).
const SYMLINK_MODE: u32 = 0o120_000;

/// What the file entry at `path` says: `Ok(None)` when only REST can tell.
pub(super) fn file(raw: &RawValue, path: &str) -> Result<Option<ConfigFile>, serde_json::Error> {
    let Some(entry): Option<Entry> = serde_json::from_str(raw.get())? else {
        return Ok(Some(ConfigFile::Missing));
    };
    let blob = entry.object;
    Ok(match entry.kind.as_str() {
        "tree" => Some(unreadable(path, "is a directory")),
        "commit" => Some(unreadable(path, "is a git submodule")),
        // GitHub's contents API follows a link to a file in the repository: REST decides.
        "blob" if entry.mode == Some(SYMLINK_MODE) => None,
        "blob" => blob.and_then(|blob| match (blob.byte_size, blob.text) {
            (Some(size), _) if size > MAX_FILE_BYTES as u64 => Some(too_large(path, size)),
            (Some(_), Some(text))
                if blob.is_binary == Some(false)
                    && blob.is_truncated != Some(true)
                    && !text.contains('\u{fffd}') =>
            {
                Some(ConfigFile::Present(text))
            }
            _ => None,
        }),
        _ => None,
    })
}

#[derive(Deserialize)]
struct Object {
    oid: String,
}

/// The object id of a path entry, `None` when the path does not exist at the commit.
pub(super) fn object(raw: &RawValue) -> Result<Option<String>, serde_json::Error> {
    let entry: Option<Object> = serde_json::from_str(raw.get())?;
    Ok(entry.map(|o| o.oid))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suites {
    total_count: u64,
    nodes: Vec<Suite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suite {
    check_runs: Option<Runs>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Runs {
    total_count: u64,
    nodes: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    database_id: Option<u64>,
    name: String,
    status: String,
    conclusion: Option<String>,
}

/// What the runs named `check` say, as the REST read decides it (the newest run wins, none is
/// pending); `Ok(None)` when the answer may not hold every run (only REST can tell).
pub(super) fn build(raw: &RawValue, check: &str) -> Result<Option<BuildStatus>, serde_json::Error> {
    let Some(suites): Option<Suites> = serde_json::from_str(raw.get())? else {
        return Ok(None);
    };
    if suites.total_count > u64::from(SUITES) || suites.nodes.len() as u64 != suites.total_count {
        return Ok(None);
    }
    let mut newest: Option<(u64, Run)> = None;
    for suite in suites.nodes {
        let Some(runs) = suite.check_runs else {
            return Ok(None);
        };
        if runs.total_count > u64::from(RUNS) || runs.nodes.len() as u64 != runs.total_count {
            return Ok(None);
        }
        for run in runs.nodes.into_iter().filter(|r| r.name == check) {
            let Some(id) = run.database_id else {
                return Ok(None);
            };
            if newest.as_ref().is_none_or(|(best, _)| id > *best) {
                newest = Some((id, run));
            }
        }
    }
    let Some((_, run)) = newest else {
        return Ok(Some(BuildStatus::Pending));
    };
    if run.status != "COMPLETED" {
        return Ok(Some(BuildStatus::Pending));
    }
    let conclusion = run.conclusion.map(|c| c.to_ascii_lowercase());
    Ok(Some(match conclusion.as_deref() {
        Some("success") => BuildStatus::Succeeded,
        Some(other) => BuildStatus::Failed {
            conclusion: clean_conclusion(other),
        },
        None => BuildStatus::Failed {
            conclusion: "unknown".to_owned(),
        },
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pull {
    timeline_items: Items,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Items {
    page_info: PageInfo,
    nodes: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_previous_page: bool,
    start_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(rename = "__typename")]
    typename: String,
    #[serde(default)]
    commit: Option<ItemCommit>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    author: Option<Actor>,
    #[serde(default)]
    label: Option<ItemLabel>,
    #[serde(default)]
    author_association: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemCommit {
    oid: String,
    committed_date: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Actor {
    #[serde(rename = "__typename")]
    typename: String,
    login: String,
}

#[derive(Deserialize)]
struct ItemLabel {
    name: String,
}

/// GitHub's GraphQL spells an App's bot `slug`, its REST API `slug[bot]`: the REST spelling
/// is what preview-tower compares with its own login and keeps as command authors.
fn account(actor: Actor) -> WireAccount {
    let bot = actor.typename == "Bot";
    let login = if bot && !actor.login.ends_with("[bot]") {
        format!("{}[bot]", actor.login)
    } else {
        actor.login
    };
    WireAccount {
        login,
        kind: Some(if bot { "Bot" } else { "User" }.to_owned()),
    }
}

/// The REST event kind a timeline item is (`None`: not activity).
fn rest_kind(typename: &str) -> Option<&'static str> {
    Some(match typename {
        "PullRequestCommit" => "committed",
        "HeadRefForcePushedEvent" => "head_ref_force_pushed",
        "LabeledEvent" => "labeled",
        "UnlabeledEvent" => "unlabeled",
        "IssueComment" => "commented",
        "PullRequestReview" => "reviewed",
        "ReadyForReviewEvent" => "ready_for_review",
        "ReopenedEvent" => "reopened",
        _ => return None,
    })
}

/// One timeline page; `Ok(None)` when GitHub answered `null` for the PR.
pub(super) fn page(raw: &RawValue, own_login: &str) -> Result<Option<TimelinePage>, GitHubError> {
    let pull: Option<Pull> =
        serde_json::from_str(raw.get()).map_err(|e| malformed("pullRequest", &e))?;
    let Some(pull) = pull else {
        return Ok(None);
    };
    let items = pull.timeline_items;
    let mut events = Vec::new();
    for item in items.nodes {
        let Some(kind) = rest_kind(&item.typename) else {
            continue;
        };
        let person = item.author.or(item.actor).map(account);
        let (user, actor) = match kind {
            "commented" | "reviewed" => (person, None),
            _ => (None, person),
        };
        let wire = WireEvent {
            event: Some(kind.to_owned()),
            created_at: item.created_at,
            updated_at: item.updated_at,
            submitted_at: item.submitted_at,
            actor,
            user,
            label: item.label.map(|l| WireLabel { name: l.name }),
            body: item.body,
            committer: item.commit.as_ref().map(|c| WireGitIdentity {
                date: c.committed_date,
            }),
            sha: item.commit.map(|c| c.oid),
            author_association: item.author_association,
        };
        if let Some(event) = into_event(wire, own_login)? {
            events.push(event);
        }
    }
    let earlier = if items.page_info.has_previous_page {
        Some(items.page_info.start_cursor.ok_or_else(|| {
            GitHubError::Malformed("a timeline page with an earlier page but no cursor".into())
        })?)
    } else {
        None
    };
    Ok(Some(TimelinePage { events, earlier }))
}
