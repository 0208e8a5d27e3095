//! Why a round stopped short: this replica lost its lease, or GitHub failed.

use std::time::Duration;

use crate::github::GitHubError;

/// Why a round (or one of its writes) did not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RoundError {
    /// This replica no longer holds the lease, found before a write: nothing was sent, and
    /// the next leader reads back and does what is left. Not GitHub's doing (no `401` was
    /// answered), so it is never counted or logged as one.
    #[error("this replica no longer holds the lease")]
    LostLeadership,
    /// A read from or a write to GitHub failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
}

impl RoundError {
    /// A short label for metrics and logs: `lost_leadership`, or the kind of GitHub's error
    /// ([`GitHubError::kind`]).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::LostLeadership => "lost_leadership",
            Self::GitHub(error) => error.kind(),
        }
    }

    /// How long GitHub asked to wait before trying again, when it said so.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::LostLeadership => None,
            Self::GitHub(error) => error.retry_after(),
        }
    }

    /// Whether a failed write surely changed nothing on GitHub (it was refused, or never
    /// sent), as opposed to an unknown outcome (the request may have been applied before the
    /// answer was lost).
    pub(crate) fn surely_refused(&self) -> bool {
        match self {
            Self::LostLeadership => true,
            Self::GitHub(error) => match error {
                GitHubError::RateLimited { .. }
                | GitHubError::Unauthorized(_)
                | GitHubError::Auth(_) => true,
                GitHubError::Upstream { status, .. } => (400..500).contains(status),
                GitHubError::Timeout | GitHubError::Transport(_) | GitHubError::Malformed(_) => {
                    false
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_lease_is_not_a_github_error() {
        let lost = RoundError::LostLeadership;
        assert_eq!(lost.kind(), "lost_leadership");
        assert_eq!(lost.to_string(), "this replica no longer holds the lease");
        assert!(lost.surely_refused(), "nothing was sent");
        assert_eq!(lost.retry_after(), None);
        let refused = RoundError::from(GitHubError::Unauthorized("bad credentials".into()));
        assert_eq!(refused.kind(), "unauthorized");
        assert_eq!(refused.to_string(), "not authorized: bad credentials");
    }

    #[test]
    fn github_errors_keep_their_kind_wait_and_outcome() {
        let limited = RoundError::from(GitHubError::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
        });
        assert_eq!(limited.kind(), "rate_limited");
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(30)));
        assert!(limited.surely_refused());
        let unknown = RoundError::from(GitHubError::Timeout);
        assert!(!unknown.surely_refused(), "a timeout's outcome is unknown");
        let refused = RoundError::from(GitHubError::Upstream {
            status: 422,
            message: "invalid".into(),
        });
        assert!(refused.surely_refused());
        let failed = RoundError::from(GitHubError::Upstream {
            status: 502,
            message: "bad gateway".into(),
        });
        assert!(!failed.surely_refused());
    }
}
