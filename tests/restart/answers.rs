//! The answers the restart matrix sees: each plugin query asked, and each 2xx checked at once
//! to hold every preview (billing's on its built parent).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{DEADLINE, built_parent, expected};
use crate::support::serve::Serve;

/// One answer seen.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) query: &'static str,
    pub(crate) status: u16,
    pub(crate) message: String,
    /// Whether a 2xx held every expected preview (checked at once: never false for a 2xx).
    pub(crate) full: bool,
}

impl Seen {
    /// `200 all`, `503 not synced`, `503 held` (or `503` with another message).
    pub(crate) fn kind(&self) -> &'static str {
        match self.status {
            200..=299 => "200 all",
            503 if self.message.starts_with("not synced") => "503 not synced",
            503 if self.message.starts_with("kept as they are") => "503 held",
            _ => "503",
        }
    }
}

/// Every answer seen by one life of the service.
#[derive(Default)]
pub(crate) struct Answers {
    pub(crate) seen: Vec<Seen>,
}

impl Answers {
    /// Asks every query once; panics on a 2xx that leaves a preview out.
    pub(crate) async fn ask(&mut self, serve: &Serve) {
        let queries: [(&'static str, Value); 4] = [
            ("all", json!({})),
            ("web", json!({"service": "web"})),
            ("api", json!({"service": "api"})),
            ("billing", json!({"service": "billing"})),
        ];
        for (query, parameters) in queries {
            // Not listening yet: nothing was answered.
            let Ok((status, body)) = serve.try_plugin(&parameters).await else {
                return;
            };
            let seen = Seen {
                query,
                status,
                message: body["message"].as_str().unwrap_or_default().to_owned(),
                full: (200..300).contains(&status),
            };
            match status {
                200..=299 => check_full(query, &body, serve),
                503 => {}
                other => panic!("{query}: unexpected {other}: {body}\n{}", serve.output()),
            }
            self.seen.push(seen);
        }
    }

    /// Asks until `done` holds (every 2xx checked on the way).
    pub(crate) async fn until(
        &mut self,
        serve: &mut Serve,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) {
        let until = Instant::now() + DEADLINE;
        loop {
            serve.assert_running();
            self.ask(serve).await;
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < until,
                "{what}: not within {} s; answers: {:#?}\npreview-tower serve said:\n{}",
                DEADLINE.as_secs(),
                self.summary(),
                serve.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks for `how_long` more (every 2xx checked).
    pub(crate) async fn linger(&mut self, serve: &mut Serve, how_long: Duration) {
        let until = Instant::now() + how_long;
        while Instant::now() < until {
            serve.assert_running();
            self.ask(serve).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `query` was answered in full (2xx) at least once.
    pub(crate) fn full(&self, query: &str) -> bool {
        self.seen.iter().any(|s| s.query == query && s.full)
    }

    /// Whether `query` was answered 503 with a message containing every part of `parts`.
    pub(crate) fn refused(&self, query: &str, parts: &[&str]) -> bool {
        self.seen.iter().any(|s| {
            s.query == query && s.status == 503 && parts.iter().all(|p| s.message.contains(p))
        })
    }

    /// Whether `query` was ever answered 503 with a message containing `part`.
    pub(crate) fn ever_refused_with(&self, query: &str, part: &str) -> bool {
        self.refused(query, &[part])
    }

    /// Per query, the distinct kinds of answer seen in order (see [`Seen::kind`]), and the
    /// last 503 message.
    pub(crate) fn summary(&self) -> BTreeMap<&'static str, (Vec<&'static str>, String)> {
        let mut out: BTreeMap<&'static str, (Vec<&'static str>, String)> = BTreeMap::new();
        for s in &self.seen {
            let entry = out.entry(s.query).or_default();
            if entry.0.last() != Some(&s.kind()) {
                entry.0.push(s.kind());
            }
            if s.status == 503 {
                entry.1.clone_from(&s.message);
            }
        }
        out
    }

    /// What the plugin answered so far, in a few words for the docs' table.
    pub(crate) fn during(&self) -> String {
        let summary = self.summary();
        let parts: Vec<String> = ["web", "api", "billing"]
            .iter()
            .map(|q| {
                let kinds = summary
                    .get(q)
                    .map(|(k, _)| k.join(" → "))
                    .unwrap_or_default();
                format!("{q}: {kinds}")
            })
            .collect();
        parts.join("; ")
    }
}

/// Panics unless the 2xx `body` for `query` holds every expected preview (and billing PR 31 on
/// its built parent).
pub(crate) fn check_full(query: &str, body: &Value, serve: &Serve) {
    let sets = body["output"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: no parameters: {body}"));
    let mut got: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for set in sets {
        let service = set["service"].as_str().unwrap().to_owned();
        let number: u64 = set["number"].as_str().unwrap().parse().unwrap();
        if service == "billing" {
            assert_eq!(
                set["revision"].as_str(),
                Some(built_parent().as_str()),
                "billing PR 31 runs its newest built commit: {set}"
            );
        }
        got.entry(service).or_default().insert(number);
    }
    let wanted: BTreeMap<String, BTreeSet<u64>> = expected()
        .into_iter()
        .filter(|(service, _)| query == "all" || query == *service)
        .map(|(service, numbers)| (service.to_owned(), numbers))
        .collect();
    assert_eq!(
        got,
        wanted,
        "{query}: a 2xx that leaves previews out (Argo CD would delete them)\npreview-tower serve said:\n{}",
        serve.output()
    );
}
