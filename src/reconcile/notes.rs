//! Jira notes: what each PR's issues should hear, queued for the Jira queue.

use std::collections::BTreeSet;

use super::{RepoMemory, Worker};
use crate::issues::{Event, IssueKey, Note, NotePreview};
use crate::lifecycle::Shown;
use crate::lifecycle::notices::jira_event;
use crate::naming::RepoName;
use crate::naming::ServiceName;
use crate::plan::Preview;

impl Worker {
    /// The Jira keys named by PR `number`'s title, branch and description, as last seen.
    pub(super) fn issue_keys_of(&self, m: &RepoMemory, number: u64) -> Vec<IssueKey> {
        m.prs
            .get(&number)
            .and_then(|p| p.text.as_ref())
            .map(|(title, branch, body)| {
                crate::issues::issue_keys(title, branch, body, &self.settings.jira_projects)
            })
            .unwrap_or_default()
    }

    /// Queues the Jira notes each PR's state calls for.
    pub(super) fn notify_jira(&self, repo: &RepoName, previews: &[&Preview], m: &RepoMemory) {
        let Some(queue) = &self.jira else {
            return;
        };
        for number in Self::numbers(previews, m) {
            let (of_pr, shown) = m.pull_request(previews, number);
            let Some(event) = jira_event(&of_pr, &shown) else {
                continue;
            };
            let title = m
                .prs
                .get(&number)
                .and_then(|p| p.text.as_ref())
                .map(|(title, _, _)| title.clone())
                .unwrap_or_default();
            // The PR's text while it has previews; after a restart, what its newest
            // deployment recorded.
            let mut keys = self.issue_keys_of(m, number);
            if keys.is_empty() {
                keys = shown
                    .iter()
                    .max_by_key(|s| s.id)
                    .map(|s| s.issues.clone())
                    .unwrap_or_default();
            }
            if keys.is_empty() {
                continue;
            }
            let note = Note {
                event,
                repo: repo.clone(),
                number,
                title,
                pr_url: self.fleet.pull_request_url(repo, number),
                previews: self.note_previews(event, &of_pr, &shown),
            };
            for key in keys {
                queue.enqueue(key, note.clone());
            }
        }
    }

    fn note_previews(
        &self,
        event: Event,
        previews: &[&Preview],
        shown: &[Shown],
    ) -> Vec<NotePreview> {
        if event == Event::Ready {
            return previews
                .iter()
                .map(|p| NotePreview {
                    service: p.service.clone(),
                    url: p.url.clone(),
                })
                .collect();
        }
        let services: BTreeSet<&ServiceName> = shown.iter().map(|s| &s.service).collect();
        services
            .into_iter()
            .filter_map(|name| {
                let service = self.fleet.service(name.as_str())?;
                let number = shown.first()?.number;
                let host =
                    service
                        .policy
                        .host_pattern
                        .render(name, number, &self.fleet.base_domain);
                Some(NotePreview {
                    service: name.clone(),
                    url: format!("https://{host}"),
                })
            })
            .collect()
    }
}
