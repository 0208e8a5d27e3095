//! The validated names the rest is built from: a fleet service's name, a GitHub repository's
//! `owner/name`, and the key of a preview (service and PR number). Leaves: they import nothing
//! of this crate. Pure.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A service name: a DNS label short enough that every name derived from it fits
/// (see [`crate::naming`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ServiceName(String);

impl ServiceName {
    /// Longest service name: leaves room for `<prefix>-<name>-pr-<10 digits>` in 63 characters
    /// with the default prefix `preview`.
    pub const MAX_LEN: usize = 40;

    /// Wraps `name` when it is a DNS label of at most [`Self::MAX_LEN`] characters.
    pub fn new(name: &str) -> Option<Self> {
        (name.len() <= Self::MAX_LEN && super::is_dns_label(name)).then(|| Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which preview: a service and the number of a pull request of its repository. The key of
/// every per-preview map and set. Orders by service, then number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PreviewKey {
    /// The service.
    pub service: ServiceName,
    /// The pull request's number.
    pub number: u64,
}

impl PreviewKey {
    /// The key of `service`'s preview of PR `number`.
    pub fn new(service: ServiceName, number: u64) -> Self {
        Self { service, number }
    }
}

/// `owner/name` of a GitHub repository, validated to GitHub's character set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName {
    owner: String,
    name: String,
}

/// Why a string is not a valid `owner/name`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a GitHub repository: expected `owner/name` with letters, digits, `-`, `_` or `.`"
)]
pub struct InvalidRepoName(pub String);

impl RepoName {
    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository name without its owner.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl TryFrom<String> for RepoName {
    type Error = InvalidRepoName;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl std::str::FromStr for RepoName {
    type Err = InvalidRepoName;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let valid_part = |part: &str| {
            !part.is_empty()
                && part.len() <= 100
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match value.split_once('/') {
            Some((owner, name)) if valid_part(owner) && valid_part(name) => Ok(Self {
                owner: owner.to_owned(),
                name: name.to_owned(),
            }),
            _ => Err(InvalidRepoName(value.to_owned())),
        }
    }
}

impl From<RepoName> for String {
    fn from(repo: RepoName) -> Self {
        repo.to_string()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_parse_and_reject_paths() {
        let repo: RepoName = "acme/web.app".parse().expect("valid");
        assert_eq!(repo.owner(), "acme");
        assert_eq!(repo.to_string(), "acme/web.app");
        for bad in [
            "acme",
            "acme/",
            "/web",
            "acme/../x",
            "a/b/c",
            "acme/w b",
            "acme/..",
        ] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad}");
        }
    }
}
