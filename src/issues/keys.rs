//! Jira issue keys: validating one, and finding the ones a pull request names.
//!
//! Pure text work on untrusted input (PR title, branch, body). Every scan is bounded: only
//! so many bytes of each text are looked at, and at most [`MAX_KEYS`] keys come out, so a PR
//! body listing 500 keys cannot make preview-tower comment on 500 issues.

use std::str::FromStr;

use super::IssueKey;

/// Most keys taken from one pull request. Keys are collected title first, then branch, then
/// body, in the order they appear; once this many distinct keys are found the rest is ignored.
pub const MAX_KEYS: usize = 10;

/// Longest project part of a key we accept (Jira's own limit is configurable; 50 is generous).
pub const MAX_PROJECT_LEN: usize = 50;

/// Most digits in the number part of a key.
pub const MAX_NUMBER_DIGITS: usize = 12;

/// Keys must start within the first this many bytes of the title (GitHub caps titles at 256
/// characters).
const TITLE_SCAN_BYTES: usize = 1024;
/// ... of the branch name (git refs are rarely longer).
const BRANCH_SCAN_BYTES: usize = 256;
/// ... of the body (PR bodies can be 64 KiB and more).
const BODY_SCAN_BYTES: usize = 64 * 1024;

/// Why a string is not an issue key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a Jira issue key: expected `PROJECT-123` (an upper-case letter, then upper-case \
     letters, digits or `_`, a dash and a number without leading zero)"
)]
pub struct InvalidIssueKey(pub String);

impl IssueKey {
    /// `text` as a key when it is `[A-Z][A-Z0-9_]+-[1-9][0-9]*`, with a project part of at most
    /// [`MAX_PROJECT_LEN`] characters and at most [`MAX_NUMBER_DIGITS`] digits. Exact: no
    /// trimming, no case folding.
    pub fn parse(text: &str) -> Option<IssueKey> {
        let (project, number) = text.split_once('-')?;
        (valid_project(project) && valid_number(number)).then(|| IssueKey(text.to_owned()))
    }

    /// The project part, `ABC` in `ABC-123`.
    pub fn project(&self) -> &str {
        self.0.split_once('-').map_or(self.0.as_str(), |(p, _)| p)
    }
}

impl FromStr for IssueKey {
    type Err = InvalidIssueKey;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        IssueKey::parse(text).ok_or_else(|| InvalidIssueKey(text.to_owned()))
    }
}

fn valid_project(project: &str) -> bool {
    let bytes = project.as_bytes();
    (2..=MAX_PROJECT_LEN).contains(&bytes.len())
        && bytes[0].is_ascii_uppercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
}

fn valid_number(number: &str) -> bool {
    (1..=MAX_NUMBER_DIGITS).contains(&number.len())
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The issue keys a pull request names, sorted and deduplicated, at most [`MAX_KEYS`].
///
/// - Title and body: upper-case keys at word boundaries (`ABC-1` in `Fix ABC-1.` or
///   `browse/ABC-1`, but not in `XABC-1`, `ABC-12x` or `MY_ABC-1`).
/// - Branch: `_`, `/`, `-` and `.` all separate words (`feat_ABC-1_login` names `ABC-1`).
///   When `projects` is non-empty the branch is also matched case-insensitively and
///   upper-cased (`feature/abc-123-login` names `ABC-123`); without an allow-list only
///   upper-case keys count, because lower-case branch words like `fix-2` are not keys.
/// - `projects` (compared case-insensitively), when non-empty, keeps only keys of those
///   projects.
pub fn issue_keys(title: &str, branch: &str, body: &str, projects: &[String]) -> Vec<IssueKey> {
    let allow: Vec<String> = projects
        .iter()
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    let mut found = Vec::new();
    let prose = Rules {
        word: is_prose_word,
        fold_case: false,
    };
    let branchy = Rules {
        word: char::is_alphanumeric,
        fold_case: !allow.is_empty(),
    };
    scan(title, TITLE_SCAN_BYTES, prose, &allow, &mut found);
    scan(branch, BRANCH_SCAN_BYTES, branchy, &allow, &mut found);
    scan(body, BODY_SCAN_BYTES, prose, &allow, &mut found);
    found.sort();
    found
}

/// How one text is read.
#[derive(Clone, Copy)]
struct Rules {
    /// Characters that glue onto a key and so stop it being one.
    word: fn(char) -> bool,
    /// Whether lower-case keys count (and are upper-cased).
    fold_case: bool,
}

fn is_prose_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Adds to `found` the distinct allowed keys starting in the first `limit` bytes of `text`,
/// until `found` holds [`MAX_KEYS`].
fn scan(text: &str, limit: usize, rules: Rules, allow: &[String], found: &mut Vec<IssueKey>) {
    let mut prev: Option<char> = None;
    let mut resume_at = 0;
    for (at, c) in text.char_indices() {
        if at >= limit || found.len() >= MAX_KEYS {
            return;
        }
        let starts_word = prev.is_none_or(|p| !(rules.word)(p));
        prev = Some(c);
        if at < resume_at || !starts_word || !c.is_ascii_alphabetic() {
            continue;
        }
        let Some((key, len)) = key_at(&text[at..], rules) else {
            continue;
        };
        if allow.is_empty() || allow.iter().any(|p| p == key.project()) {
            resume_at = at + len;
            if !found.contains(&key) {
                found.push(key);
            }
        }
    }
}

/// The key at the very start of `text`, and its length in bytes, when one ends at a word
/// boundary there. Looks at no more than a key's maximum length (plus one character).
fn key_at(text: &str, rules: Rules) -> Option<(IssueKey, usize)> {
    let bytes = text.as_bytes();
    let project_byte = |b: u8| {
        b.is_ascii_uppercase()
            || b.is_ascii_digit()
            || b == b'_'
            || (rules.fold_case && b.is_ascii_lowercase())
    };
    let project_len = bytes
        .iter()
        .take(MAX_PROJECT_LEN + 1)
        .take_while(|b| project_byte(**b))
        .count();
    if bytes.get(project_len) != Some(&b'-') {
        return None;
    }
    let digits = &bytes[project_len + 1..];
    let digit_len = digits
        .iter()
        .take(MAX_NUMBER_DIGITS + 1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let end = project_len + 1 + digit_len;
    if text[end..].chars().next().is_some_and(rules.word) {
        return None;
    }
    let key = IssueKey::parse(&text[..end].to_ascii_uppercase())?;
    Some((key, end))
}

#[cfg(test)]
mod tests;
