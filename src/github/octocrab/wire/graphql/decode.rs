//! GitHub's answers to `HeadFacts`, and what they mean. Pure.
//!
//! A GraphQL answer can be partly read: `data` beside `errors`, each error with the `path` of
//! the field it nulled. Every alias is decoded on its own (`RawValue`s, no JSON tree), so a
//! field GitHub could not resolve, or one we cannot read, spoils only its own facts. A fact not
//! read is left out of [`ChunkFacts`], never answered as missing: the sync then reads it over
//! REST. Only these count as read: a commit GitHub returned whose file is `null` (the path
//! does not exist there), a file entry we can classify, a build whose suites and runs were
//! all returned, a timeline page.
//!
//! What is left to REST on purpose (a "doubt"): a commit GitHub answers `null` for (it may not
//! know it yet), a symbolic link (the contents API follows one to a file), a blob GitHub calls
//! binary or truncated, text with a replacement character (not UTF-8 as stored), more suites or
//! runs than asked for, a run without its id. An error that names no alias asked for spoils
//! the whole answer.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

mod fields;

use super::{Chunk, Query, alias_index};
use crate::github::GitHubError;
use crate::pull_request::{BuildStatus, ConfigFile, PullEvent};
use fields::{build, file, object, page};

/// What one answer said.
#[derive(Debug)]
pub(in crate::github::octocrab) enum Answered {
    /// Data, maybe partial.
    Read(ChunkFacts),
    /// GitHub's primary GraphQL limit (`RATE_LIMITED`).
    RateLimited(String),
    /// The server does not know a field or type we ask for (an older GitHub Enterprise Server):
    /// read this repository over REST.
    Refused(String),
}

/// The facts one answer gave.
#[derive(Debug, Default)]
pub(in crate::github::octocrab) struct ChunkFacts {
    /// By `(sha, path)`.
    pub files: Vec<((String, String), ConfigFile)>,
    /// By `(sha, path)`.
    pub objects: Vec<((String, String), Option<String>)>,
    /// By `(sha, check)`.
    pub builds: Vec<((String, String), BuildStatus)>,
    /// By PR number: the page's events (oldest first) and the cursor of an earlier page.
    pub timelines: Vec<(u64, TimelinePage)>,
    /// Why some facts were not read.
    pub faults: Vec<GitHubError>,
    /// `rateLimit.cost`, when GitHub said.
    pub points: Option<u64>,
}

/// One page of a PR's timeline.
#[derive(Debug, PartialEq)]
pub(in crate::github::octocrab) struct TimelinePage {
    /// Its events, oldest first.
    pub events: Vec<PullEvent>,
    /// The cursor to read the page before this one, when there is one.
    pub earlier: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    data: Option<Data<'a>>,
    #[serde(default)]
    errors: Vec<WireError>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(rename = "rateLimit", default)]
    rate_limit: Option<RateLimit>,
    #[serde(borrow, default)]
    repository: Option<Aliases<'a>>,
}

type Aliases<'a> = HashMap<Cow<'a, str>, &'a RawValue>;

#[derive(Deserialize)]
struct RateLimit {
    cost: u64,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    path: Vec<serde_json::Value>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Deserialize)]
struct Extensions {
    #[serde(default)]
    code: Option<String>,
}

/// GraphQL's static validation failures, by `extensions.code`: the server's schema lacks
/// something the document uses.
const REFUSALS: [&str; 8] = [
    "undefinedField",
    "undefinedType",
    "undefinedEnumValue",
    "argumentNotAccepted",
    "argumentLiteralsIncompatible",
    "missingRequiredArguments",
    "variableMismatch",
    "selectionMismatch",
];

impl WireError {
    fn rate_limited(&self) -> bool {
        matches!(self.kind.as_deref(), Some("RATE_LIMITED" | "RATE_LIMIT"))
    }

    fn refusal(&self) -> bool {
        let code = self.extensions.as_ref().and_then(|e| e.code.as_deref());
        code.is_some_and(|c| REFUSALS.contains(&c))
            || [
                "doesn't exist on type",
                "doesn't accept argument",
                "Unknown type",
            ]
            .iter()
            .any(|m| self.message.contains(m))
    }

    /// Whether this error is about `alias` of the repository (or one of its `field`s), or the
    /// whole repository.
    fn covers(&self, alias: &str, field: Option<&str>) -> bool {
        let at = |i: usize| self.path.get(i).and_then(serde_json::Value::as_str);
        if at(0) != Some("repository") {
            return false;
        }
        match (at(1), field) {
            (None, _) => true,
            (Some(a), _) if a != alias => false,
            (Some(_), None) => true,
            (Some(_), Some(field)) => at(2).is_none_or(|f| f == field),
        }
    }

    fn error(&self) -> GitHubError {
        let message = clean(&self.message);
        match self.kind.as_deref() {
            Some("NOT_FOUND") => GitHubError::Upstream {
                status: 404,
                message,
            },
            Some("FORBIDDEN") => GitHubError::Unauthorized(message),
            _ => GitHubError::Upstream {
                status: 200,
                message,
            },
        }
    }
}

/// What a `200` answer to `query` (made of `chunk`) says. `own_login`: preview-tower's own
/// account, whose events are not activity.
pub(in crate::github::octocrab) fn decode(
    body: &[u8],
    query: &Query,
    chunk: &Chunk,
    own_login: &str,
) -> Result<Answered, GitHubError> {
    let envelope: Envelope<'_> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable GraphQL answer: {e}")))?;
    if let Some(limited) = envelope.errors.iter().find(|e| e.rate_limited()) {
        return Ok(Answered::RateLimited(clean(&limited.message)));
    }
    let Some(data) = envelope.data else {
        if let Some(refusal) = envelope.errors.iter().find(|e| e.refusal()) {
            return Ok(Answered::Refused(clean(&refusal.message)));
        }
        let first = envelope.errors.first().map_or_else(
            || GitHubError::Malformed("a GraphQL answer with neither data nor errors".into()),
            WireError::error,
        );
        return Err(first);
    };
    let Some(repository) = data.repository else {
        let why = envelope
            .errors
            .first()
            .map_or_else(|| "no repository".to_owned(), |e| clean(&e.message));
        return Err(GitHubError::Unauthorized(format!(
            "the repository does not exist or these credentials cannot see it ({why})"
        )));
    };
    let errors = &envelope.errors;
    // An error that names no alias we asked for (no path, a path outside the repository, an
    // alias we do not know) could be about anything: nothing of this answer is read.
    let known = |alias: &str| {
        alias
            .strip_prefix('c')
            .and_then(|i| i.parse::<usize>().ok())
            .is_some_and(|i| i < chunk.commits.len())
            || alias
                .strip_prefix('p')
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| chunk.timelines.iter().any(|t| t.number == n))
    };
    if let Some(stray) = errors.iter().find(|e| {
        let at = |i: usize| e.path.get(i).and_then(serde_json::Value::as_str);
        at(0) != Some("repository") || at(1).is_some_and(|alias| !known(alias))
    }) {
        return Err(stray.error());
    }
    let mut facts = ChunkFacts {
        points: data.rate_limit.map(|r| r.cost),
        ..ChunkFacts::default()
    };
    let covering =
        |alias: &str, field: Option<&str>| errors.iter().find(|e| e.covers(alias, field));
    for (i, wants) in chunk.commits.iter().enumerate() {
        let alias = format!("c{i}");
        if let Some(error) = covering(&alias, None).filter(|e| e.path.len() <= 2) {
            facts.faults.push(error.error());
            continue;
        }
        let commit: Option<Aliases<'_>> = match repository.get(alias.as_str()) {
            Some(raw) => match serde_json::from_str(raw.get()) {
                Ok(commit) => commit,
                Err(e) => {
                    facts.faults.push(malformed(&alias, &e));
                    continue;
                }
            },
            None => None,
        };
        let Some(commit) = commit else {
            // GitHub does not know the commit (yet): no evidence about its files.
            continue;
        };
        let sha = &wants.sha;
        for path in &wants.files {
            let name = format!("f{}", alias_index(&query.files, path));
            if let Some(error) = covering(&alias, Some(&name)) {
                facts.faults.push(error.error());
                continue;
            }
            match commit.get(name.as_str()).map(|raw| file(raw, path)) {
                Some(Ok(Some(file))) => facts.files.push(((sha.clone(), path.clone()), file)),
                Some(Ok(None)) => {}
                Some(Err(e)) => facts.faults.push(malformed(&name, &e)),
                None => facts.faults.push(malformed(&name, &"no such field")),
            }
        }
        for path in &wants.objects {
            let name = format!("o{}", alias_index(&query.objects, path));
            if let Some(error) = covering(&alias, Some(&name)) {
                facts.faults.push(error.error());
                continue;
            }
            match commit.get(name.as_str()).map(|raw| object(raw)) {
                Some(Ok(oid)) => facts.objects.push(((sha.clone(), path.clone()), oid)),
                Some(Err(e)) => facts.faults.push(malformed(&name, &e)),
                None => facts.faults.push(malformed(&name, &"no such field")),
            }
        }
        for check in &wants.checks {
            let name = format!("b{}", alias_index(&query.checks, check));
            if let Some(error) = covering(&alias, Some(&name)) {
                facts.faults.push(error.error());
                continue;
            }
            match commit.get(name.as_str()).map(|raw| build(raw, check)) {
                Some(Ok(Some(status))) => {
                    facts.builds.push(((sha.clone(), check.clone()), status));
                }
                Some(Ok(None)) => {}
                Some(Err(e)) => facts.faults.push(malformed(&name, &e)),
                None => facts.faults.push(malformed(&name, &"no such field")),
            }
        }
    }
    for timeline in &chunk.timelines {
        let alias = format!("p{}", timeline.number);
        if let Some(error) = covering(&alias, None) {
            facts.faults.push(error.error());
            continue;
        }
        let Some(raw) = repository.get(alias.as_str()) else {
            continue;
        };
        match page(raw, own_login) {
            Ok(Some(page)) => facts.timelines.push((timeline.number, page)),
            Ok(None) => {}
            Err(e) => facts.faults.push(e),
        }
    }
    Ok(Answered::Read(facts))
}

fn malformed(alias: &str, error: &dyn std::fmt::Display) -> GitHubError {
    GitHubError::Malformed(format!("unreadable `{alias}` in a GraphQL answer: {error}"))
}

/// At most 300 printable characters on one line (GitHub's messages end up in logs).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests;
