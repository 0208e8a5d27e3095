//! The issue timeline of a pull request, as GitHub's REST API shapes it, and its translation
//! into [`PullEvent`]s. Pure.
//!
//! `GET /repos/{owner}/{repo}/issues/{issue_number}/timeline` ("List timeline events for an
//! issue", docs.github.com/en/rest/issues/timeline: `per_page` at most 100, paginated with
//! `Link`; needs Issues: read or Pull requests: read). Each item has an `event` naming its
//! kind, per "Issue event types" (docs.github.com/en/rest/using-the-rest-api/issue-event-types)
//! and the REST description's `timeline-*-event` schemas:
//!
//! | `event` | time | who |
//! |---|---|---|
//! | `committed` (+ `sha`) | `committer.date` (git's: the author's to set, no `created_at`) | none (`author`/`committer` are git identities) |
//! | `head_ref_force_pushed`, `ready_for_review`, `reopened` | `created_at` | `actor` |
//! | `labeled`, `unlabeled` (+ `label.name`) | `created_at` | `actor` |
//! | `commented` (an `issue-comment` plus `event`, `actor`; `body` may be absent; an edited one, `updated_at` ≠ `created_at`, gives no command) | `created_at` | `user`, and its `author_association` |
//! | `reviewed` | `submitted_at` (null while pending) | `user`, and its `author_association` |
//!
//! No vendor schema for the timeline is in `shared/conformance/github/schemas/`. Decoding is
//! lenient about what it does not use: other event kinds (GitHub adds them) and unknown fields
//! are ignored. A kind it uses without the time it needs (or a comment or review without an
//! `author_association` GitHub's schema lists, a commit without its SHA) makes the page
//! [`GitHubError::Malformed`]: skipping it could make a preview look idle, a failed read never
//! does.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::github::GitHubError;
use crate::naming::RepoName;
use crate::pull_request::parse_command;
use crate::pull_request::{AuthorAssociation, PullEvent, PullEventKind};

/// `GET /repos/{o}/{r}/issues/{n}/timeline`, 100 per page (GitHub's maximum).
pub(in crate::github::octocrab) fn timeline_route(repo: &RepoName, number: u64) -> String {
    format!(
        "/repos/{}/{}/issues/{number}/timeline?per_page=100",
        repo.owner(),
        repo.name()
    )
}

#[derive(Deserialize)]
pub(super) struct WireEvent {
    #[serde(default)]
    pub(super) event: Option<String>,
    #[serde(default)]
    pub(super) created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) actor: Option<WireAccount>,
    #[serde(default)]
    pub(super) user: Option<WireAccount>,
    #[serde(default)]
    pub(super) label: Option<WireLabel>,
    #[serde(default)]
    pub(super) body: Option<String>,
    #[serde(default)]
    pub(super) committer: Option<WireGitIdentity>,
    #[serde(default)]
    pub(super) sha: Option<String>,
    #[serde(default)]
    pub(super) author_association: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireAccount {
    pub(super) login: String,
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireLabel {
    pub(super) name: String,
}

#[derive(Deserialize)]
pub(super) struct WireGitIdentity {
    pub(super) date: DateTime<Utc>,
}

/// One page of a timeline, as [`PullEvent`]s in GitHub's order (oldest first). Events by
/// `own_login` (preview-tower's own account: the token's user, or the App's `<slug>[bot]`)
/// are dropped, and so are comments and reviews by any bot account: they are not people
/// using the preview.
pub(in crate::github::octocrab) fn decode_timeline(
    body: &[u8],
    own_login: &str,
) -> Result<Vec<PullEvent>, GitHubError> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable timeline: {e}")))?;
    let mut events = Vec::new();
    for item in items {
        let kind = item
            .get("event")
            .and_then(|e| e.as_str())
            .unwrap_or("")
            .to_owned();
        if !USED.contains(&kind.as_str()) {
            continue;
        }
        let wire: WireEvent = serde_json::from_value(item)
            .map_err(|e| GitHubError::Malformed(format!("unreadable `{kind}` event: {e}")))?;
        if let Some(event) = into_event(wire, own_login)? {
            events.push(event);
        }
    }
    Ok(events)
}

/// Whether `sha` is a git object name: 40 (SHA-1) or 64 (SHA-256) hex digits. What a
/// commit's first sighting is remembered by, so bounded.
fn valid_sha(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The event kinds that are activity.
const USED: [&str; 8] = [
    "committed",
    "head_ref_force_pushed",
    "labeled",
    "unlabeled",
    "commented",
    "reviewed",
    "ready_for_review",
    "reopened",
];

pub(super) fn into_event(
    wire: WireEvent,
    own_login: &str,
) -> Result<Option<PullEvent>, GitHubError> {
    let kind = wire.event.unwrap_or_default();
    let missing = |field: &str| GitHubError::Malformed(format!("a `{kind}` event has no {field}"));
    // Whose comments count depends on it (GitHub's schema requires it on both shapes).
    let association = || {
        let text = wire.author_association.as_deref();
        text.and_then(AuthorAssociation::parse)
            .ok_or_else(|| missing("known `author_association`"))
    };
    let (at, account, what) = match kind.as_str() {
        "committed" => {
            let date = wire
                .committer
                .ok_or_else(|| missing("committer.date"))?
                .date;
            // Its first sighting is remembered by SHA: without it, the date would be all
            // there is, and it is the author's to set.
            let sha = wire
                .sha
                .filter(|s| valid_sha(s))
                .ok_or_else(|| missing("sha"))?;
            return Ok(Some(PullEvent {
                at: date,
                actor: None,
                kind: PullEventKind::Committed { sha },
            }));
        }
        "reviewed" => match wire.submitted_at {
            // A pending review is nobody's activity yet.
            None => return Ok(None),
            Some(at) => {
                let association = association()?;
                (at, wire.user, PullEventKind::Reviewed { association })
            }
        },
        "commented" => {
            let at = wire.created_at.ok_or_else(|| missing("created_at"))?;
            // Only new comments give commands (as the webhook reads them): an edited one is
            // still activity, at its creation, but gives none.
            let edited = wire.updated_at.is_some_and(|updated| updated != at);
            let command = wire
                .body
                .as_deref()
                .filter(|_| !edited)
                .and_then(|body| parse_command(body).ok().flatten());
            let association = association()?;
            (
                at,
                wire.user.or(wire.actor),
                PullEventKind::Commented {
                    command,
                    association,
                },
            )
        }
        other => {
            let at = wire.created_at.ok_or_else(|| missing("created_at"))?;
            let what = match other {
                "labeled" | "unlabeled" => {
                    let name = wire.label.ok_or_else(|| missing("label"))?.name;
                    if other == "labeled" {
                        PullEventKind::Labeled(name)
                    } else {
                        PullEventKind::Unlabeled(name)
                    }
                }
                "head_ref_force_pushed" => PullEventKind::Pushed,
                _ => PullEventKind::Reopened,
            };
            (at, wire.actor, what)
        }
    };
    // A deleted account shows as null: GitHub displays it as `ghost`, a person.
    let (login, is_bot) = account.map_or(("ghost".to_owned(), false), |a| {
        let bot = a.kind.as_deref() == Some("Bot") || a.login.ends_with("[bot]");
        (a.login, bot)
    });
    let ours = own_login.eq_ignore_ascii_case(&login);
    // Bots' comments, reviews and labels are not activity: a stale bot labelling every idle
    // PR would otherwise keep every preview alive. (A bot adding the opt-in label gives no
    // labelling time either: such a PR queues after those labelled by people.)
    let by_person_only = matches!(
        what,
        PullEventKind::Commented { .. }
            | PullEventKind::Reviewed { .. }
            | PullEventKind::Labeled(_)
            | PullEventKind::Unlabeled(_)
    );
    if ours || (is_bot && by_person_only) {
        return Ok(None);
    }
    Ok(Some(PullEvent {
        at,
        actor: Some(login),
        kind: what,
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::pull_request::Command;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn user(login: &str, kind: &str) -> serde_json::Value {
        json!({"login": login, "id": 1, "type": kind})
    }

    fn decode(items: serde_json::Value, own: &str) -> Vec<PullEvent> {
        decode_timeline(&serde_json::to_vec(&items).expect("json"), own).expect("decodes")
    }

    #[test]
    fn each_kind_of_activity_is_read_with_its_time_and_author() {
        let items = json!([
            {"event": "committed", "sha": SHA, "committer": {"date": "2026-11-23T08:00:00Z",
                "name": "Mona", "email": "m@example.com"}, "author": {"date": "2026-11-01T08:00:00Z"}},
            {"event": "labeled", "actor": user("mona", "User"), "created_at": "2026-11-23T09:00:00Z",
                "label": {"name": "preview", "color": "ededed"}},
            {"event": "unlabeled", "actor": user("mona", "User"), "created_at": "2026-11-23T09:30:00Z",
                "label": {"name": "wip"}},
            {"event": "commented", "actor": user("eve", "User"), "user": user("eve", "User"),
                "created_at": "2026-11-23T10:00:00Z", "body": "/preview extend 3d",
                "author_association": "NONE"},
            {"event": "reviewed", "user": user("eve", "User"), "submitted_at": "2026-11-23T11:00:00Z",
                "state": "approved", "author_association": "FIRST_TIME_CONTRIBUTOR"},
            {"event": "head_ref_force_pushed", "actor": user("mona", "User"),
                "created_at": "2026-11-23T12:00:00Z"},
            {"event": "ready_for_review", "actor": null, "created_at": "2026-11-23T13:00:00Z"},
        ]);
        let events = decode(items, "preview-tower[bot]");
        let seen: Vec<(String, Option<String>, PullEventKind)> = events
            .into_iter()
            .map(|e| (e.at.format("%H:%M").to_string(), e.actor, e.kind))
            .collect();
        let some = |s: &str| Some(s.to_owned());
        let extend = Command::Extend(Duration::from_secs(3 * 24 * 3600));
        assert_eq!(
            seen,
            [
                (
                    "08:00".into(),
                    None,
                    PullEventKind::Committed { sha: SHA.into() }
                ),
                (
                    "09:00".into(),
                    some("mona"),
                    PullEventKind::Labeled("preview".into())
                ),
                (
                    "09:30".into(),
                    some("mona"),
                    PullEventKind::Unlabeled("wip".into())
                ),
                (
                    "10:00".into(),
                    some("eve"),
                    PullEventKind::Commented {
                        command: Some(extend),
                        association: AuthorAssociation::None,
                    }
                ),
                (
                    "11:00".into(),
                    some("eve"),
                    PullEventKind::Reviewed {
                        association: AuthorAssociation::FirstTimeContributor
                    }
                ),
                ("12:00".into(), some("mona"), PullEventKind::Pushed),
                ("13:00".into(), some("ghost"), PullEventKind::Reopened),
            ]
        );
    }

    #[test]
    fn our_events_bots_comments_and_labels_unknown_kinds_and_pending_reviews_are_left_out() {
        let items = json!([
            {"event": "commented", "user": user("preview-tower[bot]", "Bot"),
                "created_at": "2026-11-23T10:00:00Z", "body": "<!-- preview-tower -->",
                "author_association": "NONE"},
            {"event": "commented", "user": user("ci-bot", "Bot"), "created_at": "2026-11-23T10:00:00Z",
                "author_association": "CONTRIBUTOR"},
            {"event": "commented", "user": user("mona", "User"), "created_at": "2026-11-23T10:30:00Z",
                "updated_at": "2026-11-23T12:00:00Z", "body": "/preview keep",
                "author_association": "MEMBER"},
            {"event": "commented", "user": user("Tower-Token-User", "User"),
                "created_at": "2026-11-23T10:00:00Z", "body": "sticky", "author_association": "OWNER"},
            {"event": "labeled", "actor": user("tower-token-user", "User"),
                "created_at": "2026-11-23T10:00:00Z", "label": {"name": "x"}},
            {"event": "deployed", "actor": user("preview-tower[bot]", "Bot"), "created_at": "2026-11-23T10:00:00Z"},
            {"event": "mentioned", "actor": user("mona", "User"), "created_at": 42},
            {"event": "reviewed", "user": user("mona", "User"), "submitted_at": null, "state": "pending"},
            {"event": "labeled", "actor": user("labeller[bot]", "Bot"),
                "created_at": "2026-11-23T11:00:00Z", "label": {"name": "preview"}},
            {"no_event": true},
        ]);
        let events = decode(items, "tower-token-user");
        // A bot's label (a labeller, a stale bot) is not activity either.
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].kind,
            PullEventKind::Commented {
                command: None,
                association: AuthorAssociation::Member
            },
            "an edited comment is activity, not a command"
        );
    }

    #[test]
    fn a_used_kind_without_its_time_commit_or_known_association_is_malformed() {
        for item in [
            json!({"event": "labeled", "actor": user("mona", "User"), "label": {"name": "x"}}),
            json!({"event": "committed", "sha": SHA}),
            json!({"event": "committed", "committer": {"date": "2026-11-23T08:00:00Z"}}),
            json!({"event": "committed", "sha": "HEAD", "committer": {"date": "2026-11-23T08:00:00Z"}}),
            json!({"event": "commented", "created_at": "yesterday"}),
            json!({"event": "commented", "user": user("eve", "User"),
                "created_at": "2026-11-23T10:00:00Z"}),
            json!({"event": "reviewed", "user": user("eve", "User"),
                "submitted_at": "2026-11-23T11:00:00Z", "author_association": "member"}),
            json!({"event": "commented", "user": user("eve", "User"),
                "created_at": "2026-11-23T10:00:00Z", "author_association": "SPONSOR"}),
        ] {
            let body = serde_json::to_vec(&json!([item])).expect("json");
            assert!(
                matches!(
                    decode_timeline(&body, "preview-tower[bot]"),
                    Err(GitHubError::Malformed(_))
                ),
                "{item}"
            );
        }
        assert!(decode_timeline(b"{}", "preview-tower[bot]").is_err());
    }

    #[test]
    fn the_route_asks_for_full_pages() {
        let repo: RepoName = "acme/web".parse().expect("repo");
        assert_eq!(
            timeline_route(&repo, 7),
            "/repos/acme/web/issues/7/timeline?per_page=100"
        );
    }
}
