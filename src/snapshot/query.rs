//! What Argo CD asks the snapshot for ([`Query`]), and why a query gets no answer
//! ([`AnswerError`]: a `400` for a wrong question, a `503` for one that cannot be answered in
//! full yet).

use super::notes;

/// What Argo CD asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// Every service's previews (`input.parameters` without `service`).
    All,
    /// One service's previews.
    Service(String),
    /// Matrix mode: the one set for PR `number` of `service`.
    Matrix {
        /// The service.
        service: String,
        /// The PR number, from the pullRequest generator.
        number: u64,
        /// The PR's branch according to the pullRequest generator, to check that it lists the
        /// service's repository.
        branch: Option<String>,
    },
}

/// Why a query gets no answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    /// The service is not in the fleet.
    #[error("unknown service `{name}`; known services: {}", known.join(", "))]
    UnknownService {
        /// The name asked for.
        name: String,
        /// The fleet's services.
        known: Vec<String>,
    },
    /// The pullRequest generator's PR is not the PR of that number in the service's repo.
    #[error(
        "PR {number} of `{service}` is on branch {ours:?} but the pullRequest generator says {theirs:?}: does the generator list `{service}`'s repository ({repo})?"
    )]
    MatrixMismatch {
        /// The service.
        service: String,
        /// The service's repository.
        repo: String,
        /// The PR number.
        number: u64,
        /// Our branch (cut to 100 characters).
        ours: String,
        /// The generator's branch (cut to 100 characters).
        theirs: String,
    },
    /// These services' repos have not been listed successfully yet.
    #[error("not synced with GitHub yet: {}{}; retry later", services.join(", "), notes::github(github))]
    NotSynced {
        /// The services waiting for their first sync.
        services: Vec<String>,
        /// What went wrong with their repos, per repo.
        github: Vec<String>,
    },
    /// These services may hold previews whose facts are not read yet: an answer would leave
    /// them out, and Argo CD would delete them.
    #[error(
        "kept as they are: {held}{}; Argo CD leaves every preview unchanged until they are read; retry later",
        notes::github(github)
    )]
    Held {
        /// The held PRs per service, with why and since when.
        held: String,
        /// What went wrong with their repos, per repo.
        github: Vec<String>,
    },
}
