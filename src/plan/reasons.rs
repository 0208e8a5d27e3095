//! Why an open PR gets no preview ([`ExclusionReason`]: evidence from GitHub, or what is not
//! read yet), and what a human should know about a preview ([`Diagnostic`]), each in words for
//! `plan` and the PR comment. Pure.

use serde::Serialize;

use super::{ConfigSource, QuotaScope};
use crate::naming::{PreviewKey, ServiceName};

/// An open PR of a planned service that gets no preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// The service.
    pub service: ServiceName,
    /// The PR number.
    pub number: u64,
    /// Why.
    pub reason: ExclusionReason,
    /// The PR as listed (for the previews board); `None` in hand-made plans.
    #[serde(skip)]
    pub pr: Option<std::sync::Arc<crate::pull_request::PullRequest>>,
}

impl Exclusion {
    /// Which preview is left out.
    pub fn key(&self) -> PreviewKey {
        PreviewKey::new(self.service.clone(), self.number)
    }
}

/// Why an open PR gets no preview. Each is positive evidence from GitHub but `Pending` and
/// `BuildUnknown` (see [`ExclusionReason::is_evidence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// The PR does not carry the opt-in label.
    NotLabelled,
    /// The PR is a draft and the policy leaves drafts out.
    Draft,
    /// The PR comes from a fork and the policy leaves forks out.
    Fork,
    /// The head facts could not be read yet. Not evidence: a PR that may hold a preview is
    /// held instead (the sync also keeps a PR's last good facts while its new commit is
    /// unreadable).
    Pending,
    /// The service has a build check and no commit of the PR has passed it yet: its image may
    /// not exist. (A PR with an earlier built commit keeps a preview of that one instead.)
    WaitingForBuild,
    /// The service has a build check, and what it says about the PR is not read yet (the
    /// head's status, or the PR's earlier commits after a restart). Not evidence, like
    /// `Pending`.
    BuildUnknown,
    /// Idle past its TTL (read after it was due): deleted until new activity.
    Expired,
    /// The quota is full: waiting at `position` (1 is next) of the queue.
    Queued {
        /// Place in the queue of the `scope`, from 1.
        position: u32,
        /// Which limit is full.
        scope: QuotaScope,
        /// That limit.
        limit: u32,
    },
}

impl ExclusionReason {
    /// A few words for humans.
    pub fn describe(self) -> String {
        match self {
            Self::NotLabelled => "not labelled for preview".into(),
            Self::Draft => "draft (drafts are not previewed)".into(),
            Self::Fork => "from a fork (forks are not previewed)".into(),
            Self::Pending => "waiting for the head commit's files".into(),
            Self::WaitingForBuild => "waiting for the head commit's image build".into(),
            Self::BuildUnknown => "waiting to read the build check of its commits".into(),
            Self::Expired => "deleted after sitting idle past its time to live: push, comment \
                 or `/preview extend 3d` to bring it back, with fresh seed data"
                .into(),
            Self::Queued {
                position,
                scope,
                limit,
            } => format!(
                "queued: {} (at most {limit} previews); number {position} in line, in order of \
                 labelling (the priority label goes first)",
                scope.describe()
            ),
        }
    }

    /// Whether the PR's sticky comment lists the service as waiting: the PR asked for a
    /// preview and gets one once something outside the author's hands is done.
    pub fn shown_on_pr(self) -> bool {
        match self {
            Self::WaitingForBuild | Self::Expired | Self::Queued { .. } => true,
            Self::NotLabelled | Self::Draft | Self::Fork | Self::Pending | Self::BuildUnknown => {
                false
            }
        }
    }

    /// Whether this is what GitHub says about the PR (so that a preview may leave the set for
    /// it), rather than what is not read yet. Only evidence may remove a preview.
    pub fn is_evidence(self) -> bool {
        !matches!(self, Self::Pending | Self::BuildUnknown)
    }
}

/// Something a human should know about a preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Diagnostic {
    /// The repo config file is invalid; `fallback` says what is used instead.
    ConfigInvalid {
        /// The errors, with lines.
        errors: Vec<crate::repo_config::ConfigError>,
        /// What is used instead.
        fallback: ConfigSource,
    },
    /// Something is at the config path but it is not a readable file.
    ConfigUnreadable {
        /// Why.
        message: String,
        /// What is used instead.
        fallback: ConfigSource,
    },
    /// A dependency asked for a PR preview that is not in the plan; staging is used.
    DependencyPreviewMissing {
        /// The dependency.
        dependency: ServiceName,
        /// The PR number asked for.
        number: u64,
    },
    /// The service declares a seed path that does not exist at the revision.
    SeedPathMissing {
        /// The seed path.
        path: String,
    },
    /// The head's build check has not succeeded yet: the preview stays on the PR's newest
    /// built commit (its `revision`).
    BuildPending {
        /// The head commit not deployed yet.
        sha: String,
        /// The build check waited for.
        check: String,
    },
    /// The head's build check failed: the preview stays on the PR's newest built commit until
    /// a push (or a re-run) passes it.
    BuildFailed {
        /// The head commit not deployed.
        sha: String,
        /// The build check.
        check: String,
        /// GitHub's conclusion (`failure`, `cancelled`, `timed_out`, `skipped`...).
        conclusion: String,
    },
}

impl Diagnostic {
    /// A one-line human message.
    pub fn message(&self) -> String {
        match self {
            Self::ConfigInvalid { errors, fallback } => format!(
                "repo config invalid ({} error{}); using {}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                fallback.describe()
            ),
            Self::ConfigUnreadable { message, fallback } => {
                format!(
                    "repo config unreadable: {message}; using {}",
                    fallback.describe()
                )
            }
            Self::DependencyPreviewMissing { dependency, number } => format!(
                "{dependency}: no preview of PR {number} exists; using {dependency}'s staging"
            ),
            Self::SeedPathMissing { path } => {
                format!("seed path `{path}` does not exist at this commit; no seed image")
            }
            Self::BuildPending { sha, check } => format!(
                "commit {} is deployed once check `{check}` succeeds (still building); the preview runs the last built commit meanwhile",
                short(sha)
            ),
            Self::BuildFailed {
                sha,
                check,
                conclusion,
            } => format!(
                "check `{check}` ended `{conclusion}` on commit {}, so it is not deployed; the preview runs the last built commit until a push or a re-run passes",
                short(sha)
            ),
        }
    }
}

/// The first 8 characters of a SHA, as GitHub shows commits.
fn short(sha: &str) -> &str {
    crate::naming::short_sha(sha, 8)
}
