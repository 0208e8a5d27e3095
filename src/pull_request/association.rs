//! How the author of a comment or review is associated with the repository, as GitHub says it
//! (`author_association`): what decides whether their comment is activity. Pure.

use std::fmt;

/// GitHub's `author_association` of a comment's or review's author with the repository (the
/// REST schema's `author-association` enum, all eight values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthorAssociation {
    /// Owns the repository.
    Owner,
    /// A member of the organization that owns the repository.
    Member,
    /// Invited to collaborate on the repository.
    Collaborator,
    /// Has previously committed to the repository.
    Contributor,
    /// Has not previously committed to the repository.
    FirstTimeContributor,
    /// Has not previously committed to GitHub.
    FirstTimer,
    /// A placeholder for an unclaimed user (imported from elsewhere).
    Mannequin,
    /// No association with the repository.
    None,
}

impl AuthorAssociation {
    /// Every value, in GitHub's order of closeness to the repository.
    pub const ALL: [Self; 8] = [
        Self::Owner,
        Self::Member,
        Self::Collaborator,
        Self::Contributor,
        Self::FirstTimeContributor,
        Self::FirstTimer,
        Self::Mannequin,
        Self::None,
    ];

    /// Whose comments and reviews are activity unless the fleet says otherwise: the
    /// repository's own people. On GitHub an account with write access is always one of these.
    pub const COUNTED_BY_DEFAULT: [Self; 3] = [Self::Owner, Self::Member, Self::Collaborator];

    /// The value exactly as GitHub writes it (`FIRST_TIME_CONTRIBUTOR`), `None` for any other
    /// text (no case folding: GitHub's values are upper case).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|value| value.as_str() == text)
    }

    /// As GitHub writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "OWNER",
            Self::Member => "MEMBER",
            Self::Collaborator => "COLLABORATOR",
            Self::Contributor => "CONTRIBUTOR",
            Self::FirstTimeContributor => "FIRST_TIME_CONTRIBUTOR",
            Self::FirstTimer => "FIRST_TIMER",
            Self::Mannequin => "MANNEQUIN",
            Self::None => "NONE",
        }
    }
}

impl fmt::Display for AuthorAssociation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_exactly_and_nothing_else_does() {
        for value in AuthorAssociation::ALL {
            assert_eq!(AuthorAssociation::parse(value.as_str()), Some(value));
        }
        for text in ["member", "Member", " MEMBER", "SPONSOR", ""] {
            assert_eq!(AuthorAssociation::parse(text), None, "{text:?}");
        }
    }
}
