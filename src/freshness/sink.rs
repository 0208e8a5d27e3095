//! The webhook receiver's sink: events that can change a repository's previews poke its
//! refresh; `/preview` commands are authorized (write access), and an authorized one pokes its
//! repo too: the refresh reads the PR's timeline, where the command is, and honours it. Never
//! blocks: the receiver answers GitHub right after `deliver`, `ignored` when the delivery
//! changes nothing (a repository outside the fleet, a command nobody can authorize).

use std::sync::Arc;

use tracing::{info, warn};

use super::Freshness;
use crate::github::Collaborators;
use crate::github::webhook::{self, Delivered, Event};
use crate::http::WebhookSink;
use crate::naming::RepoName;

/// Pokes [`Freshness`] for pull-request and build events; checks commands' authors.
pub struct FreshnessSink {
    freshness: Arc<Freshness>,
    collaborators: Option<Arc<dyn Collaborators>>,
}

impl FreshnessSink {
    /// A sink over `freshness`; `collaborators` answers who may give commands (`None`: the
    /// demo, where every command is refused).
    pub fn new(freshness: Arc<Freshness>, collaborators: Option<Arc<dyn Collaborators>>) -> Self {
        Self {
            freshness,
            collaborators,
        }
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
                let Some(collaborators) = self.collaborators.clone() else {
                    warn!(repo = %repo, pr = number, "/preview command refused: no GitHub to ask");
                    return Delivered::Ignored {
                        reason: "/preview commands are refused here: there is no GitHub to ask \
                                 whether the author may give them (demo)"
                            .to_owned(),
                    };
                };
                let freshness = Arc::clone(&self.freshness);
                tokio::spawn(async move {
                    match collaborators.permission(&repo, &author).await {
                        Ok(permission) if webhook::authorized(&permission) => {
                            let poked = freshness.command_checked(&repo, &author, true);
                            info!(repo = %repo, pr = number, author, command = ?command, poked,
                                "accepted /preview command: refreshing its repo");
                        }
                        Ok(permission) => {
                            freshness.command_checked(&repo, &author, false);
                            warn!(repo = %repo, pr = number, author, permission,
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
