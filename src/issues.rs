//! Issues a pull request names and what preview-tower tells them: the Jira issue key
//! ([`IssueKey`], [`issue_keys`]), the notes ([`Note`]: ready or gone, with the PR's previews)
//! and their text for each Jira edition ([`render_adf`], [`render_wiki`], [`Note::marker`]).
//!
//! Pure: untrusted text in, values and markup out; no I/O, no clock. It must not import an I/O
//! module: the REST adapter and the trait it implements (`IssueNotifier`) live in `jira`,
//! which imports this module, never the other way round.

use crate::naming::RepoName;
use crate::naming::ServiceName;

mod keys;
mod render;

pub use keys::{InvalidIssueKey, MAX_KEYS, MAX_NUMBER_DIGITS, MAX_PROJECT_LEN, issue_keys};
pub(crate) use render::wiki_marker;
pub use render::{MAX_TITLE_CHARS, render_adf, render_wiki};

/// A Jira issue key, `PROJECT-123`, validated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssueKey(String);

impl IssueKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IssueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two moments a Jira issue hears about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// The PR's previews first became healthy.
    Ready,
    /// They were torn down (PR merged or closed, unlabelled, or expired).
    Gone,
}

impl Event {
    /// `ready` or `gone`, as written in [`Note::marker`].
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Ready => "ready",
            Event::Gone => "gone",
        }
    }
}

/// One preview named in a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotePreview {
    /// The service.
    pub service: ServiceName,
    /// Its URL.
    pub url: String,
}

/// What preview-tower tells a Jira issue about one pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Ready or gone.
    pub event: Event,
    /// The repository of the PR.
    pub repo: RepoName,
    /// The PR number.
    pub number: u64,
    /// Untrusted: the PR title.
    pub title: String,
    /// The PR's page on GitHub.
    pub pr_url: String,
    /// The PR's previews.
    pub previews: Vec<NotePreview>,
}
