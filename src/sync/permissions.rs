//! Who may command a preview: the rule (write access to the repository, or more), GitHub's
//! answers kept per (repo, login), and the one way to ask.
//!
//! Two callers ask: the sync, for the authors of the commands in its PRs' timelines (see
//! `sync/activity.rs`: when unknown, or known for longer than [`PERMISSION_TTL`] on a PR whose
//! activity changed), and the webhook receiver (through `freshness`), for a command as it
//! arrives. Both answers land in [`Permissions`], which the planner's view of a PR's activity
//! reads: a command counts only when its author is known to have write access.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Syncer;
use crate::github::{Collaborators, GitHubError};
use crate::naming::RepoName;

/// How long a permission answer is trusted before it is asked again (when the PR it matters
/// for shows new activity).
pub(crate) const PERMISSION_TTL: Duration = Duration::from_secs(15 * 60);

/// Most permission answers kept; the map is emptied when it would grow past this.
pub(crate) const MAX_PERMISSIONS: usize = 10_000;

/// Whether a collaborator `permission` (the legacy `permission` field of
/// `GET /repos/{o}/{r}/collaborators/{user}/permission`, or a `role_name`) allows `/preview`
/// commands: `admin`, `maintain` or `write`. `triage`, `read`, `none`, custom role names and
/// anything unknown do not.
pub fn may_command(permission: &str) -> bool {
    ["admin", "maintain", "write"]
        .iter()
        .any(|allowed| permission.eq_ignore_ascii_case(allowed))
}

/// What GitHub said of a command's author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    /// The author's permission on the repository, as GitHub reported it (`none` when there is
    /// no GitHub to ask).
    pub permission: String,
    /// Whether it allows `/preview` commands ([`may_command`]).
    pub may_command: bool,
}

/// Whether a login may give `/preview` commands on a repo, as last asked.
#[derive(Clone, Copy, Debug)]
struct Permission {
    /// Write access (or more).
    authorized: bool,
    /// When GitHub said so.
    checked_at: DateTime<Utc>,
}

/// The answers GitHub gave, by `(repo, lower-cased login)`.
#[derive(Debug, Default)]
pub(crate) struct Permissions {
    known: HashMap<(RepoName, String), Permission>,
}

impl Permissions {
    /// What is known of whether `login` may command previews on `repo`: `None` while unknown.
    pub(crate) fn may_command(&self, repo: &RepoName, login: &str) -> Option<bool> {
        self.get(repo, login).map(|p| p.authorized)
    }

    /// Whether `login` must be asked about (again) at `now`: unknown, or, when `changed` (the
    /// activity of a PR with a command of theirs changed), known for longer than
    /// [`PERMISSION_TTL`].
    pub(crate) fn stale(
        &self,
        repo: &RepoName,
        login: &str,
        changed: bool,
        now: DateTime<Utc>,
    ) -> bool {
        match self.get(repo, login) {
            None => true,
            Some(known) => {
                changed
                    && now.signed_duration_since(known.checked_at).to_std().ok()
                        > Some(PERMISSION_TTL)
            }
        }
    }

    /// Records that `login` has (`authorized`) or has not write access to `repo`, as GitHub
    /// said at `checked_at`.
    fn note(&mut self, repo: &RepoName, login: &str, authorized: bool, checked_at: DateTime<Utc>) {
        if self.known.len() >= MAX_PERMISSIONS {
            self.known.clear();
        }
        self.known.insert(
            (repo.clone(), login.to_ascii_lowercase()),
            Permission {
                authorized,
                checked_at,
            },
        );
    }

    fn get(&self, repo: &RepoName, login: &str) -> Option<&Permission> {
        self.known.get(&(repo.clone(), login.to_ascii_lowercase()))
    }
}

impl Syncer {
    /// A webhook said PR `number` of `repo` got a `/preview` command: its timeline is read at
    /// the next refresh, whatever its `updated_at` says.
    pub fn activity_changed(&self, repo: &RepoName, number: u64) {
        let now = self.now();
        self.lock()
            .activity_changed
            .insert((repo.clone(), number), now);
    }

    /// Whether there is a GitHub to ask who may give commands (none in the demo: every
    /// command is refused).
    pub fn checks_command_authors(&self) -> bool {
        self.collaborators.is_some()
    }

    /// Asks GitHub whether `login` may command previews on `repo`, and remembers the answer:
    /// the sync does not ask again for it. Without a GitHub to ask, nobody may.
    pub async fn check_author(&self, repo: &RepoName, login: &str) -> Result<Author, GitHubError> {
        match self.collaborators.clone() {
            Some(collaborators) => self.ask(collaborators.as_ref(), repo, login).await,
            None => Ok(Author {
                permission: "none".to_owned(),
                may_command: false,
            }),
        }
    }

    /// Asks `collaborators` about `login` on `repo` and remembers the answer.
    pub(super) async fn ask(
        &self,
        collaborators: &dyn Collaborators,
        repo: &RepoName,
        login: &str,
    ) -> Result<Author, GitHubError> {
        let permission = collaborators.permission(repo, login).await?;
        let may_command = may_command(&permission);
        let checked_at = self.now();
        self.lock()
            .permissions
            .note(repo, login, may_command, checked_at);
        Ok(Author {
            permission,
            may_command,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn write_maintain_and_admin_may_command_the_rest_may_not() {
        for permission in ["admin", "maintain", "write", "WRITE"] {
            assert!(may_command(permission), "{permission}");
        }
        for permission in ["triage", "read", "none", "", "writer", "custom-role"] {
            assert!(!may_command(permission), "{permission}");
        }
    }

    #[test]
    fn answers_are_kept_by_login_whatever_its_case_and_asked_again_when_old_and_changed() {
        let repo: RepoName = "acme/web".parse().expect("repo");
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
            .single()
            .expect("time");
        let mut permissions = Permissions::default();
        assert_eq!(permissions.may_command(&repo, "mona"), None);
        assert!(permissions.stale(&repo, "mona", false, at));
        permissions.note(&repo, "Mona", true, at);
        assert_eq!(permissions.may_command(&repo, "mona"), Some(true));
        let later = at + chrono::Duration::minutes(16);
        assert!(!permissions.stale(&repo, "MONA", false, later), "unchanged");
        assert!(permissions.stale(&repo, "mona", true, later));
        let soon = at + chrono::Duration::minutes(14);
        assert!(!permissions.stale(&repo, "mona", true, soon));
    }
}
