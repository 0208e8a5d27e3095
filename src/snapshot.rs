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
use crate::params::{self, Mode};
use crate::plan::{Plan, Preview};

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
    #[error("not synced with GitHub yet: {}; retry later", services.join(", "))]
    NotSynced {
        /// The services waiting for their first sync.
        services: Vec<String>,
    },
}

/// One preview's answers, rendered once and shared with the next snapshot while the preview
/// does not change.
#[derive(Debug)]
struct Rendered {
    /// The JSON object of its full set.
    full: Bytes,
    /// The whole matrix-mode answer: `{"output":{"parameters":[<matrix set>]}}`.
    matrix: Bytes,
}

impl Rendered {
    fn new(fleet: &Fleet, preview: &Preview) -> Self {
        let set = |mode| Bytes::from(json!(params::render(preview, fleet, mode)).to_string());
        Self {
            full: set(Mode::Full),
            matrix: body([&set(Mode::Matrix)]),
        }
    }
}

/// An immutable, pre-rendered plan.
#[derive(Debug)]
pub struct Snapshot {
    fleet: Arc<Fleet>,
    plan: Plan,
    synced: BTreeSet<ServiceName>,
    /// Aligned with `plan.previews`.
    rendered: Vec<Arc<Rendered>>,
    /// Index into `plan.previews` by service and PR number.
    index: HashMap<(ServiceName, u64), usize>,
    /// Every set of each synced service.
    services: HashMap<ServiceName, Bytes>,
    all: Bytes,
    generation: u64,
}

fn pr_repo(fleet: &Fleet, service: &ServiceName) -> String {
    fleet
        .service(service.as_str())
        .map(|s| s.repo.to_string())
        .unwrap_or_default()
}

/// The full sets of `service`'s previews, in plan order.
fn sets_of<'a>(
    previews: &'a [Preview],
    rendered: &'a [Arc<Rendered>],
    service: &'a ServiceName,
) -> impl Iterator<Item = &'a Bytes> + 'a {
    previews
        .iter()
        .zip(rendered)
        .filter(move |(p, _)| &p.service == service)
        .map(|(_, r)| &r.full)
}

/// `{"output":{"parameters":[...]}}` around already serialized sets.
fn body<'a>(sets: impl IntoIterator<Item = &'a Bytes>) -> Bytes {
    const HEAD: &[u8] = br#"{"output":{"parameters":["#;
    const TAIL: &[u8] = b"]}}";
    let mut out = Vec::from(HEAD);
    for (i, set) in sets.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(set);
    }
    out.extend_from_slice(TAIL);
    Bytes::from(out)
}

impl Snapshot {
    /// A snapshot before any sync: answers nothing but 503.
    pub fn unsynced(fleet: Arc<Fleet>) -> Self {
        Self::build(fleet, Plan::default(), BTreeSet::new(), 0, None)
    }

    /// Renders `plan`, made from the facts of the `synced` services. Previews equal to one of
    /// `previous` reuse its rendering, so a refresh pays only for what changed.
    pub fn build(
        fleet: Arc<Fleet>,
        plan: Plan,
        synced: BTreeSet<ServiceName>,
        generation: u64,
        previous: Option<&Snapshot>,
    ) -> Self {
        let rendered: Vec<Arc<Rendered>> = plan
            .previews
            .iter()
            .map(|preview| {
                previous
                    .and_then(|p| p.rendered_if_unchanged(preview))
                    .unwrap_or_else(|| Arc::new(Rendered::new(&fleet, preview)))
            })
            .collect();
        let index: HashMap<(ServiceName, u64), usize> = plan
            .previews
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.service.clone(), p.pr.number), i))
            .collect();
        let services = synced
            .iter()
            .map(|name| (name.clone(), body(sets_of(&plan.previews, &rendered, name))))
            .collect();
        let all = body(
            fleet
                .services
                .iter()
                .flat_map(|s| sets_of(&plan.previews, &rendered, &s.name)),
        );
        Self {
            fleet,
            plan,
            synced,
            rendered,
            index,
            services,
            all,
            generation,
        }
    }

    fn rendered_if_unchanged(&self, preview: &Preview) -> Option<Arc<Rendered>> {
        let i = *self
            .index
            .get(&(preview.service.clone(), preview.pr.number))?;
        (self.plan.previews.get(i)? == preview).then(|| Arc::clone(&self.rendered[i]))
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

    /// Whether `service`'s repo has been synced at least once: only then is a preview's
    /// absence from the plan evidence that it is gone.
    pub fn is_synced(&self, service: &ServiceName) -> bool {
        self.synced.contains(service)
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

    /// The services whose answer differs from `earlier`'s, in fleet order (see
    /// [`Snapshot::service_changed`]).
    pub fn changed_services(&self, earlier: &Snapshot) -> Vec<ServiceName> {
        self.fleet
            .services
            .iter()
            .filter(|s| self.service_changed(earlier, &s.name))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Whether `service`'s answer differs from `earlier`'s: its parameter sets changed, or it
    /// became answerable (or stopped being). Argo CD should then regenerate the
    /// ApplicationSets serving it; the same facts give the same bytes, so a refresh that
    /// changed nothing gives `false`. Costs a memory comparison of the two pre-rendered bodies.
    pub fn service_changed(&self, earlier: &Snapshot, service: &ServiceName) -> bool {
        let body = |snapshot: &Snapshot| {
            snapshot
                .service(service.as_str())
                .map(|(_, body)| body.clone())
        };
        body(self) != body(earlier)
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
            Query::Service(name) => Ok(self.service(name)?.1.clone()),
            Query::Matrix {
                service,
                number,
                branch,
            } => {
                let (name, _) = self.service(service)?;
                let Some(&i) = self.index.get(&(name.clone(), *number)) else {
                    return Ok(body([]));
                };
                let pr = &self.plan.previews[i].pr;
                match branch {
                    Some(theirs) if *theirs != pr.branch => Err(AnswerError::MatrixMismatch {
                        service: name.to_string(),
                        repo: pr_repo(&self.fleet, name),
                        number: *number,
                        ours: pr.branch.chars().take(100).collect(),
                        theirs: theirs.chars().take(100).collect(),
                    }),
                    _ => Ok(self.rendered[i].matrix.clone()),
                }
            }
        }
    }

    /// The service called `name` and its answer, when it and every service it depends on
    /// have been synced (a dependency's previews decide where its URLs point).
    fn service(&self, name: &str) -> Result<(&ServiceName, &Bytes), AnswerError> {
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
        let waiting: Vec<String> = std::iter::once(&service.name)
            .chain(&service.dependencies)
            .filter(|n| !self.synced.contains(*n))
            .map(ToString::to_string)
            .collect();
        match self.services.get(&service.name) {
            Some(body) if waiting.is_empty() => Ok((&service.name, body)),
            _ => Err(AnswerError::NotSynced { services: waiting }),
        }
    }
}

/// The current snapshot, swapped atomically; readers never block.
pub type SnapshotStore = ArcSwap<Snapshot>;

#[cfg(test)]
mod tests;
