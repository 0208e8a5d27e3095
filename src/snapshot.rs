//! The last good plan, rendered once into the bytes the plugin answers with.
//!
//! A [`Snapshot`] is immutable and swapped atomically in a [`SnapshotStore`] after every
//! successful refresh, so the plugin answers from memory in microseconds and never waits on
//! GitHub. It knows which services have been listed at least once: for any other, it refuses to
//! answer (503) rather than answer with nothing, because an empty `200` makes Argo CD delete
//! every preview.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::body::Bytes;
use serde_json::json;

use crate::fleet::{Fleet, ServiceName};
use crate::params::{self, Mode, ParamSet};
use crate::plan::Plan;

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
    /// These services' repos have not been listed successfully yet.
    #[error("not synced with GitHub yet: {}; retry later", services.join(", "))]
    NotSynced {
        /// The services waiting for their first sync.
        services: Vec<String>,
    },
}

/// The sets of one service, pre-rendered.
#[derive(Debug, Default)]
struct ServiceAnswers {
    /// `{"output":{"parameters":[...]}}` with every set of the service.
    body: Bytes,
    /// Matrix-mode one-set bodies by PR number.
    matrix: HashMap<u64, Bytes>,
}

/// An immutable, pre-rendered plan.
#[derive(Debug)]
pub struct Snapshot {
    fleet: Arc<Fleet>,
    plan: Plan,
    synced: BTreeSet<ServiceName>,
    services: HashMap<ServiceName, ServiceAnswers>,
    all: Bytes,
    generation: u64,
}

/// The body of an answer with `sets`.
fn body<'a>(sets: impl IntoIterator<Item = &'a ParamSet>) -> Bytes {
    let sets: Vec<&ParamSet> = sets.into_iter().collect();
    Bytes::from(json!({"output": {"parameters": sets}}).to_string())
}

impl Snapshot {
    /// A snapshot before any sync: answers nothing but 503.
    pub fn unsynced(fleet: Arc<Fleet>) -> Self {
        Self::build(fleet, Plan::default(), BTreeSet::new(), 0)
    }

    /// Renders `plan`, made from the facts of the `synced` services.
    pub fn build(
        fleet: Arc<Fleet>,
        plan: Plan,
        synced: BTreeSet<ServiceName>,
        generation: u64,
    ) -> Self {
        let mut full: HashMap<&ServiceName, Vec<ParamSet>> = HashMap::new();
        let mut services: HashMap<ServiceName, ServiceAnswers> = HashMap::new();
        for preview in &plan.previews {
            full.entry(&preview.service)
                .or_default()
                .push(params::render(preview, &fleet, Mode::Full));
            let matrix = params::render(preview, &fleet, Mode::Matrix);
            services
                .entry(preview.service.clone())
                .or_default()
                .matrix
                .insert(preview.pr.number, body([&matrix]));
        }
        for name in &synced {
            let sets = full.get(name).map(Vec::as_slice).unwrap_or_default();
            services.entry(name.clone()).or_default().body = body(sets);
        }
        let all = body(
            fleet
                .services
                .iter()
                .filter_map(|s| full.get(&s.name))
                .flatten(),
        );
        drop(full);
        Self {
            fleet,
            plan,
            synced,
            services,
            all,
            generation,
        }
    }

    /// The plan this snapshot renders.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The fleet it was planned for.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// Increases with every published snapshot.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether every service of the fleet has been synced at least once.
    pub fn is_complete(&self) -> bool {
        self.fleet
            .services
            .iter()
            .all(|s| self.synced.contains(&s.name))
    }

    /// The services not synced yet, in fleet order.
    pub fn unsynced_services(&self) -> Vec<String> {
        self.fleet
            .services
            .iter()
            .filter(|s| !self.synced.contains(&s.name))
            .map(|s| s.name.to_string())
            .collect()
    }

    /// The answer body for `query`.
    pub fn answer(&self, query: &Query) -> Result<Bytes, AnswerError> {
        match query {
            Query::All => {
                if self.is_complete() {
                    Ok(self.all.clone())
                } else {
                    Err(AnswerError::NotSynced {
                        services: self.unsynced_services(),
                    })
                }
            }
            Query::Service(name) => Ok(self.service(name)?.body.clone()),
            Query::Matrix { service, number } => {
                let answers = self.service(service)?;
                Ok(answers
                    .matrix
                    .get(number)
                    .cloned()
                    .unwrap_or_else(|| body([])))
            }
        }
    }

    fn service(&self, name: &str) -> Result<&ServiceAnswers, AnswerError> {
        let Some(service) = self.fleet.service(name) else {
            return Err(AnswerError::UnknownService {
                name: name.chars().take(64).collect(),
                known: self
                    .fleet
                    .services
                    .iter()
                    .map(|s| s.name.to_string())
                    .collect(),
            });
        };
        match self.services.get(&service.name) {
            Some(answers) if self.synced.contains(&service.name) => Ok(answers),
            _ => Err(AnswerError::NotSynced {
                services: vec![service.name.to_string()],
            }),
        }
    }
}

/// The current snapshot, swapped atomically; readers never block.
pub type SnapshotStore = ArcSwap<Snapshot>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::{PlanInput, plan};
    use crate::testing::{facts, fleet, name, now, pr};

    fn snapshot(synced: &[&str]) -> Snapshot {
        let fleet = Arc::new(fleet());
        let web = [facts(pr(1), None), facts(pr(2), None)];
        let services: BTreeMap<_, _> = synced.iter().map(|s| (name(s), &web[..])).collect();
        let plan = plan(&PlanInput {
            fleet: &fleet,
            services,
            now: now(),
        });
        Snapshot::build(fleet, plan, synced.iter().map(|s| name(s)).collect(), 1)
    }

    fn sets(body: &Bytes) -> Vec<serde_json::Value> {
        let value: serde_json::Value = serde_json::from_slice(body).expect("json");
        value["output"]["parameters"]
            .as_array()
            .cloned()
            .expect("list")
    }

    #[test]
    fn nothing_is_answered_before_the_first_sync() {
        let snapshot = Snapshot::unsynced(Arc::new(fleet()));
        assert!(matches!(
            snapshot.answer(&Query::All),
            Err(AnswerError::NotSynced { .. })
        ));
        assert!(matches!(
            snapshot.answer(&Query::Service("web".into())),
            Err(AnswerError::NotSynced { .. })
        ));
    }

    #[test]
    fn all_services_wait_for_every_service_but_one_service_does_not() {
        let snapshot = snapshot(&["web"]);
        assert_eq!(
            snapshot.answer(&Query::All),
            Err(AnswerError::NotSynced {
                services: vec!["api".into(), "billing".into()]
            })
        );
        let body = snapshot
            .answer(&Query::Service("web".into()))
            .expect("web synced");
        assert_eq!(sets(&body).len(), 2);
    }

    #[test]
    fn a_synced_service_without_previews_answers_an_empty_list() {
        let snapshot = snapshot(&["web", "api", "billing"]);
        assert_eq!(
            sets(&snapshot.answer(&Query::All).expect("complete")).len(),
            6
        );
        let fleet = Arc::new(fleet());
        let empty = Snapshot::build(
            fleet,
            Plan::default(),
            ["web", "api", "billing"].iter().map(|s| name(s)).collect(),
            2,
        );
        assert!(sets(&empty.answer(&Query::Service("api".into())).expect("synced")).is_empty());
    }

    #[test]
    fn unknown_services_are_named_with_the_known_ones() {
        let snapshot = snapshot(&["web"]);
        let error = snapshot
            .answer(&Query::Service("nope".into()))
            .expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "unknown service `nope`; known services: web, api, billing"
        );
    }

    #[test]
    fn matrix_queries_get_the_one_set_or_none() {
        let snapshot = snapshot(&["web"]);
        let one = snapshot
            .answer(&Query::Matrix {
                service: "web".into(),
                number: 2,
            })
            .expect("answer");
        let one = sets(&one);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["name"], "preview-web-pr-2");
        assert!(one[0].get("number").is_none());
        let none = snapshot
            .answer(&Query::Matrix {
                service: "web".into(),
                number: 99,
            })
            .expect("answer");
        assert!(sets(&none).is_empty());
    }
}
