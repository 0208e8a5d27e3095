//! The last good plan, rendered once into the bytes the plugin answers with.
//!
//! A [`Snapshot`] is immutable and swapped atomically in a [`SnapshotStore`] after every
//! successful refresh, so the plugin answers from memory in microseconds and never waits on
//! GitHub. It knows which services have been listed at least once: for any other, it refuses to
//! answer (503) rather than answer with nothing, because an empty `200` makes Argo CD delete
//! every preview. Likewise a service with held PRs (previews that may exist and whose facts
//! are not read, see [`crate::plan::Held`]) answers 503, naming them and GitHub's last failure
//! ([`Notes`]): an answer that left them out would delete them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::body::Bytes;

use crate::fleet::Fleet;
use crate::naming::{PreviewKey, ServiceName};
use crate::params::{self, Mode};
use crate::plan::{Plan, Preview};

mod answer;
mod notes;
mod query;

pub use answer::Answer;
pub use notes::Notes;
pub use query::{AnswerError, Query};

/// An immutable, pre-rendered plan.
///
/// Each service's answer is one buffer; a preview's full set is a slice of it, and the
/// all-services answer is made of slices of every service's buffer, so the snapshot holds each
/// set once. The next snapshot copies the sets of unchanged previews into the buffers of the
/// services that changed, and shares the buffers of the services that did not.
#[derive(Clone, Debug)]
pub struct Snapshot {
    fleet: Arc<Fleet>,
    plan: Arc<Plan>,
    synced: BTreeSet<ServiceName>,
    /// The services with held PRs, and those PRs: never answered.
    held: HashSet<PreviewKey>,
    held_services: BTreeSet<ServiceName>,
    /// What the 503s say beside the services and PRs.
    notes: Notes,
    /// Each preview's full set, aligned with `plan.previews`: a slice of its service's answer
    /// (empty for a preview of a service outside the fleet, which is never answered).
    sets: Vec<Bytes>,
    /// Index into `plan.previews` by service and PR number.
    index: HashMap<PreviewKey, usize>,
    /// The answer of every service that is synced or has previews.
    services: HashMap<ServiceName, Bytes>,
    /// The all-services answer, in chunks of the services' answers.
    all: Arc<[Bytes]>,
    generation: u64,
}

fn pr_repo(fleet: &Fleet, service: &ServiceName) -> String {
    fleet
        .service(service.as_str())
        .map(|s| s.repo.to_string())
        .unwrap_or_default()
}

/// `preview`'s parameter set in `mode`, serialized.
fn render_set(fleet: &Fleet, preview: &Preview, mode: Mode) -> Bytes {
    Bytes::from(serde_json::Value::Object(params::render(preview, fleet, mode)).to_string())
}

impl Snapshot {
    /// A snapshot before any sync: answers nothing but 503.
    pub fn unsynced(fleet: Arc<Fleet>) -> Self {
        Self::build(fleet, Plan::default(), BTreeSet::new(), 0, None)
    }

    /// Renders `plan`, made from the facts of the `synced` services. Previews equal to one of
    /// `previous` reuse its rendering, and a service whose previews all did reuses its whole
    /// answer, so a refresh pays only for what changed.
    pub fn build(
        fleet: Arc<Fleet>,
        plan: Plan,
        synced: BTreeSet<ServiceName>,
        generation: u64,
        previous: Option<&Snapshot>,
    ) -> Self {
        let index: HashMap<PreviewKey, usize> = plan
            .previews
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key(), i))
            .collect();
        let mut members: HashMap<&ServiceName, Vec<usize>> = HashMap::new();
        for (i, preview) in plan.previews.iter().enumerate() {
            members.entry(&preview.service).or_default().push(i);
        }
        let mut sets = vec![Bytes::new(); plan.previews.len()];
        let mut services = HashMap::new();
        for service in &fleet.services {
            let members = members.get(&service.name).map_or(&[][..], Vec::as_slice);
            if members.is_empty() && !synced.contains(&service.name) {
                continue;
            }
            let earlier = previous.and_then(|p| Some((p, p.services.get(&service.name)?)));
            let body = service_answer(&fleet, &plan.previews, members, earlier, &mut sets);
            services.insert(service.name.clone(), body);
        }
        let all = answer::joined(fleet.services.iter().filter_map(|s| services.get(&s.name)));
        let held: HashSet<PreviewKey> = plan.held.iter().map(crate::plan::Held::key).collect();
        let held_services = held.iter().map(|key| key.service.clone()).collect();
        Self {
            fleet,
            plan: Arc::new(plan),
            synced,
            held,
            held_services,
            notes: Notes::default(),
            sets,
            index,
            services,
            all,
            generation,
        }
    }

    /// The full set of `preview` in this snapshot, if it has the same preview.
    fn set_if_unchanged(&self, preview: &Preview) -> Option<&Bytes> {
        let i = *self.index.get(&preview.key())?;
        (self.plan.previews.get(i)? == preview).then(|| &self.sets[i])
    }

    /// The plan this snapshot renders.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The same snapshot saying `notes` in its 503s.
    #[must_use]
    pub fn with_notes(mut self, notes: Notes) -> Self {
        self.notes = notes;
        self
    }

    /// What its 503s say beside the services and PRs.
    pub fn notes(&self) -> &Notes {
        &self.notes
    }

    /// Whether `service` answers (2xx): it and its dependencies are synced, and it holds no PR.
    pub fn answers(&self, service: &ServiceName) -> bool {
        let ready = |name: &ServiceName| self.synced.contains(name);
        self.fleet.service(service.as_str()).is_some_and(|s| {
            ready(&s.name)
                && s.dependencies.iter().all(ready)
                && self.services.contains_key(&s.name)
                && !self.held_services.contains(&s.name)
        })
    }

    /// Whether the all-services answer is a 2xx: every service answers.
    pub fn answers_all(&self) -> bool {
        self.is_complete() && self.held_services.is_empty()
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
    /// became answerable (or stopped being: held, Argo CD then shows the 503's message). Argo CD should then regenerate the
    /// ApplicationSets serving it; the same facts give the same bytes, so a refresh that
    /// changed nothing gives `false`. Free when the service's answer was reused; otherwise a
    /// memory comparison of the two answers.
    pub fn service_changed(&self, earlier: &Snapshot, service: &ServiceName) -> bool {
        match (
            self.service(service.as_str()),
            earlier.service(service.as_str()),
        ) {
            (Ok((_, now)), Ok((_, then))) => !same_bytes(now, then),
            (Err(_), Err(_)) => false,
            _ => true,
        }
    }

    /// The answer body for `query`, in one buffer. The all-services answer is then a copy of
    /// every set: the plugin sends [`Snapshot::answer_chunks`] instead.
    pub fn answer(&self, query: &Query) -> Result<Bytes, AnswerError> {
        self.answer_chunks(query).map(|answer| answer.to_bytes())
    }

    /// The answer body for `query`, sharing the snapshot's buffers: the all-services answer is
    /// made of the services' answers, and a matrix answer is rendered for the request (it is
    /// asked once per pull request and Argo CD reconcile, not worth keeping 5,000 of).
    pub fn answer_chunks(&self, query: &Query) -> Result<Answer, AnswerError> {
        match query {
            Query::All => {
                if !self.is_complete() {
                    let services = self.unsynced_services();
                    let github = self.notes.faults_of(&self.fleet, &services);
                    return Err(AnswerError::NotSynced { services, github });
                }
                if !self.held_services.is_empty() {
                    return Err(self.held_error(|_| true));
                }
                Ok(Answer::from_chunks(Arc::clone(&self.all)))
            }
            Query::Service(name) => Ok(Answer::one(self.service(name)?.1.clone())),
            Query::Matrix {
                service,
                number,
                branch,
            } => {
                let (name, _) = self.synced_service(service)?;
                let key = PreviewKey::new(name.clone(), *number);
                if self.held.contains(&key) {
                    return Err(self.held_error(|h| &h.service == name && h.number == *number));
                }
                let Some(&i) = self.index.get(&key) else {
                    return Ok(Answer::one(answer::body([])));
                };
                let preview = &self.plan.previews[i];
                let pr = &preview.pr;
                match branch {
                    Some(theirs) if *theirs != pr.branch => Err(AnswerError::MatrixMismatch {
                        service: name.to_string(),
                        repo: pr_repo(&self.fleet, name),
                        number: *number,
                        ours: pr.branch.chars().take(100).collect(),
                        theirs: theirs.chars().take(100).collect(),
                    }),
                    _ => {
                        let set = render_set(&self.fleet, preview, Mode::Matrix);
                        Ok(Answer::one(answer::body([&set[..]])))
                    }
                }
            }
        }
    }

    /// The service called `name` and its answer, when it and every service it depends on
    /// have been synced (a dependency's previews decide where its URLs point) and it holds no
    /// PR.
    fn service(&self, name: &str) -> Result<(&ServiceName, &Bytes), AnswerError> {
        let (name, body) = self.synced_service(name)?;
        if self.held_services.contains(name) {
            return Err(self.held_error(|h| &h.service == name));
        }
        Ok((name, body))
    }

    /// The 503 for the held PRs that `which` picks.
    fn held_error(&self, which: impl Fn(&crate::plan::Held) -> bool) -> AnswerError {
        let held: Vec<&crate::plan::Held> = self.plan.held.iter().filter(|h| which(h)).collect();
        let services: Vec<String> = self
            .fleet
            .services
            .iter()
            .filter(|s| held.iter().any(|h| h.service == s.name))
            .map(|s| s.name.to_string())
            .collect();
        AnswerError::Held {
            held: self.notes.held(&held),
            github: self.notes.faults_of(&self.fleet, &services),
        }
    }

    /// [`Snapshot::service`] but for the held PRs.
    fn synced_service(&self, name: &str) -> Result<(&ServiceName, &Bytes), AnswerError> {
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
            _ => {
                let github = self.notes.faults_of(&self.fleet, &waiting);
                Err(AnswerError::NotSynced {
                    services: waiting,
                    github,
                })
            }
        }
    }
}

/// Whether two buffers hold the same bytes; free when they are the same buffer.
fn same_bytes(a: &Bytes, b: &Bytes) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

/// The answer of one service whose previews are `members` (indices into `previews`, in plan
/// order), and the slice of it for each of them in `sets`. `earlier` is the previous snapshot
/// with this service's answer there: each unchanged preview's set is copied from it instead of
/// rendered again, and when every set is reused in the same order, its answer is the answer.
fn service_answer(
    fleet: &Fleet,
    previews: &[Preview],
    members: &[usize],
    earlier: Option<(&Snapshot, &Bytes)>,
    sets: &mut [Bytes],
) -> Bytes {
    let reused: Vec<Option<&Bytes>> = members
        .iter()
        .map(|&i| earlier.and_then(|(snapshot, _)| snapshot.set_if_unchanged(&previews[i])))
        .collect();
    if let Some((_, body)) = earlier
        && let Some(old) = reused.iter().copied().collect::<Option<Vec<&Bytes>>>()
        && answer::spans_exactly(body, &old)
    {
        for (&i, set) in members.iter().zip(old) {
            sets[i] = set.clone();
        }
        return body.clone();
    }
    let parts: Vec<Bytes> = members
        .iter()
        .zip(reused)
        .map(|(&i, old)| {
            old.cloned()
                .unwrap_or_else(|| render_set(fleet, &previews[i], Mode::Full))
        })
        .collect();
    let body = answer::body(parts.iter().map(|part| &part[..]));
    for (&i, range) in members
        .iter()
        .zip(answer::set_ranges(parts.iter().map(Bytes::len)))
    {
        sets[i] = body.slice(range);
    }
    body
}

/// The current snapshot, swapped atomically; readers never block.
pub type SnapshotStore = ArcSwap<Snapshot>;

#[cfg(test)]
mod tests;
