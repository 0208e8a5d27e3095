//! What a `503` says: which PRs are held and why, since when, and GitHub's last failure on the
//! repos concerned. Argo CD shows the message in the ApplicationSet's conditions, so it names
//! what an operator can check, and stays short (at most [`MAX_NUMBERS`] PR numbers a group).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::fleet::Fleet;
use crate::naming::RepoName;
use crate::naming::ServiceName;
use crate::plan::Held;

/// Most PR numbers named per service and reason.
pub const MAX_NUMBERS: usize = 10;
/// Most groups (service and reason) named; the rest are counted.
pub const MAX_GROUPS: usize = 10;

/// Why the sync cannot answer some services in full, as the sync last knew it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// The last failure of each repo's refresh (cleared by a clean refresh).
    pub faults: BTreeMap<RepoName, String>,
    /// Since when each service has had held PRs.
    pub held_since: BTreeMap<ServiceName, DateTime<Utc>>,
}

impl Notes {
    /// `acme/web: <failure>` for each repo of `services` (and of their dependencies) that
    /// failed last.
    pub fn faults_of(&self, fleet: &Fleet, services: &[String]) -> Vec<String> {
        let mut repos: Vec<&RepoName> = services
            .iter()
            .filter_map(|name| fleet.service(name))
            .flat_map(|s| {
                let dependencies = s
                    .dependencies
                    .iter()
                    .filter_map(|d| fleet.service(d.as_str()));
                std::iter::once(s).chain(dependencies).map(|s| &s.repo)
            })
            .collect();
        repos.sort();
        repos.dedup();
        repos
            .into_iter()
            .filter_map(|repo| Some(format!("{repo}: {}", self.faults.get(repo)?)))
            .collect()
    }

    /// `held` for the message: [`Notes::list`], then since when per service.
    pub fn held(&self, held: &[&Held]) -> String {
        let mut out = Self::list(held);
        let mut services: Vec<&ServiceName> = held.iter().map(|h| &h.service).collect();
        services.dedup();
        for service in services {
            if let Some(since) = self.held_since.get(service) {
                let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
                let _ = write!(out, "; {service} held since {since}");
            }
        }
        out
    }

    /// `web PR 3, 5 (its commit's files are not read yet), web PR 9 (…)`: `held` (in plan
    /// order) grouped by service and reason, at most [`MAX_NUMBERS`] numbers a group and
    /// [`MAX_GROUPS`] groups (the rest counted): a few hundred characters whatever is held.
    pub fn list(held: &[&Held]) -> String {
        let mut groups: Vec<(&ServiceName, String, Vec<u64>)> = Vec::new();
        let mut index: HashMap<(&ServiceName, String), usize> = HashMap::new();
        for h in held {
            let key = (&h.service, h.reason.describe());
            let at = *index.entry(key.clone()).or_insert_with(|| {
                groups.push((key.0, key.1, Vec::new()));
                groups.len() - 1
            });
            groups[at].2.push(h.number);
        }
        let hidden: usize = groups
            .iter()
            .skip(MAX_GROUPS)
            .map(|(_, _, numbers)| numbers.len())
            .sum();
        let mut parts: Vec<String> = groups
            .into_iter()
            .take(MAX_GROUPS)
            .map(|(service, why, numbers)| {
                let shown: Vec<String> = numbers
                    .iter()
                    .take(MAX_NUMBERS)
                    .map(ToString::to_string)
                    .collect();
                let more = numbers.len().saturating_sub(MAX_NUMBERS);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{service} PR {}{more} ({why})", shown.join(", "))
            })
            .collect();
        if hidden > 0 {
            parts.push(format!("{hidden} more held PRs"));
        }
        parts.join(", ")
    }
}

/// ` (GitHub: a; b)`, or nothing when there is no failure to tell.
pub(super) fn github(faults: &[String]) -> String {
    if faults.is_empty() {
        String::new()
    } else {
        format!(" (GitHub: {})", faults.join("; "))
    }
}
