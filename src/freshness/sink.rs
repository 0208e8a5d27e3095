//! The webhook receiver's sink: events that can change a repository's previews poke its
//! refresh; the author of a `/preview` command is checked at once (the sync's
//! [`Syncer::check_author`](crate::sync::Syncer::check_author), which remembers the answer), and
//! an authorized command pokes its repo too: the refresh reads the PR's timeline, where the
//! command is, and honours it. Never blocks: the receiver answers GitHub right after
//! `deliver`, `ignored` when the delivery changes nothing (a repository outside the fleet, a
//! command nobody can authorize).

use std::sync::Arc;

use tracing::{info, warn};

use super::Freshness;
use crate::github::webhook::WebhookSink;
use crate::github::webhook::{Delivered, Event};
use crate::naming::RepoName;

/// Pokes [`Freshness`] for pull-request and build events; checks commands' authors.
pub struct FreshnessSink {
    freshness: Arc<Freshness>,
}

impl FreshnessSink {
    /// A sink over `freshness`; its syncer's GitHub answers who may give commands (without
    /// one, in the demo, every command is refused).
    pub fn new(freshness: Arc<Freshness>) -> Self {
        Self { freshness }
    }
}

/// The answer to a delivery about `repo`, which the fleet does not have.
fn outside_the_fleet(repo: &RepoName) -> Delivered {
    Delivered::Ignored {
        reason: format!("{repo} is not in the fleet: no preview of it to change"),
    }
}

impl WebhookSink for FreshnessSink {
    fn deliver(&self, event: Event) -> Delivered {
        match event {
            Event::PullRequest { repo, .. } | Event::BuildFinished { repo, .. } => {
                if self.freshness.poke(&repo) {
                    Delivered::Accepted
                } else {
                    outside_the_fleet(&repo)
                }
            }
            Event::Command {
                repo,
                number,
                author,
                command,
            } => {
                if !self.freshness.covers(&repo) {
                    return outside_the_fleet(&repo);
                }
                if !self.freshness.syncer.checks_command_authors() {
                    warn!(repo = %repo, pr = number, "/preview command refused: no GitHub to ask");
                    return Delivered::Ignored {
                        reason: "/preview commands are refused here: there is no GitHub to ask \
                                 whether the author may give them (demo)"
                            .to_owned(),
                    };
                }
                let freshness = Arc::clone(&self.freshness);
                tokio::spawn(async move {
                    match freshness.syncer.check_author(&repo, &author).await {
                        Ok(checked) if checked.may_command => {
                            freshness.syncer.activity_changed(&repo, number);
                            let poked = freshness.poke(&repo);
                            info!(repo = %repo, pr = number, author, command = ?command, poked,
                                "accepted /preview command: refreshing its repo");
                        }
                        Ok(checked) => {
                            warn!(repo = %repo, pr = number, author, permission = checked.permission,
                                "/preview command refused: the author has no write access");
                        }
                        Err(error) => {
                            warn!(repo = %repo, pr = number, author, error = %error,
                                "/preview command not checked: GitHub did not answer");
                        }
                    }
                });
                Delivered::Accepted
            }
            // The receiver answers these itself; never delivered.
            Event::Ping { .. } => Delivered::Ignored {
                reason: "a ping changes nothing".to_owned(),
            },
            Event::Ignored { reason, .. } => Delivered::Ignored { reason },
        }
    }
}
