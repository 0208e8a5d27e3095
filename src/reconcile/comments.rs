//! The sticky PR comment: found again by its marker, edited in place, created only for a PR
//! that has previews.

use std::collections::BTreeSet;

use tracing::info;

use super::error::RoundError;
use super::{PrMemory, RepoMemory, Worker};
use crate::github::GitHubError;
use crate::lifecycle::comment::{Costs, MARKER, recorded_costs};
use crate::lifecycle::notices::sticky_comment;
use crate::naming::{PreviewKey, RepoName, ServiceName};
use crate::plan::{Exclusion, ExclusionReason, Held, Preview};

impl Worker {
    /// What PR `number`'s `previews` and its `unplanned` ones (held, deleted while idle) have
    /// cost so far, from the cost meter, and the figures its comment showed (`recorded`), for
    /// the comment's cost lines.
    fn costs(
        &self,
        number: u64,
        previews: &[&Preview],
        unplanned: &[PreviewKey],
        recorded: &[(ServiceName, f64)],
    ) -> Costs {
        let meter = self.meter.lock();
        let planned = previews
            .iter()
            .filter_map(|p| Some((p.key(), meter.cost_of(&self.fleet, p)?)));
        let unplanned = unplanned
            .iter()
            .filter_map(|key| Some((key.clone(), meter.unplanned_cost_of(&self.fleet, key)?)));
        Costs {
            currency: self.fleet.currency.clone(),
            previews: planned.chain(unplanned).collect(),
            shown: recorded
                .iter()
                .map(|(service, amount)| (PreviewKey::new(service.clone(), number), *amount))
                .collect(),
        }
    }

    /// PR numbers with a preview or a deployment.
    pub(super) fn numbers(previews: &[&Preview], m: &RepoMemory) -> BTreeSet<u64> {
        previews
            .iter()
            .map(|p| p.pr.number)
            .chain(m.ledger.iter().flatten().map(|s| s.number))
            .collect()
    }

    /// PR numbers with a preview, a deployment, a service waiting for its preview, a held
    /// preview, or our comment.
    fn commented_numbers(
        previews: &[&Preview],
        waiting: &[&Exclusion],
        held: &[&Held],
        m: &RepoMemory,
    ) -> BTreeSet<u64> {
        let mut numbers = Self::numbers(previews, m);
        numbers.extend(waiting.iter().map(|w| w.number));
        numbers.extend(held.iter().map(|h| h.number));
        numbers.extend(
            m.prs
                .iter()
                .filter(|(_, memory)| memory.comment.is_some())
                .map(|(number, _)| *number),
        );
        numbers
    }

    /// Brings each PR's sticky comment up to date: found again by its marker, edited in place,
    /// created only for a PR that has previews or waits for one (`waiting`: this repo's
    /// services whose PRs the comment lists as waiting; `held`: its previews kept as they are
    /// while GitHub cannot be read, said in an existing comment). A PR's comment is looked up
    /// before its cost lines are rendered: after a restart the figures it shows are carried
    /// into the cost meter, so that they resume where they were rather than drop (and every
    /// comment be rewritten at each deploy).
    pub(super) async fn comments(
        &self,
        repo: &RepoName,
        previews: &[&Preview],
        waiting: &[&Exclusion],
        held: &[&Held],
        m: &mut RepoMemory,
    ) -> Result<(), RoundError> {
        let mut first_error = None;
        for number in Self::commented_numbers(previews, waiting, held, m) {
            let (of_pr, shown) = m.pull_request(previews, number);
            let holds: Vec<&Held> = held
                .iter()
                .copied()
                .filter(|h| h.number == number)
                .collect();
            let waits: Vec<&Exclusion> = waiting
                .iter()
                .copied()
                .filter(|w| w.number == number)
                .collect();
            // Previews that run or may come back, not planned now: their figures stay.
            let unplanned: Vec<PreviewKey> = holds
                .iter()
                .map(|h| h.key())
                .chain(
                    waits
                        .iter()
                        .filter(|w| w.reason == ExclusionReason::Expired)
                        .map(|w| w.key()),
                )
                .collect();
            if !of_pr.is_empty() || !unplanned.is_empty() {
                let memory = m.prs.entry(number).or_default();
                match self.look_up_comment(repo, number, memory).await {
                    Err(error @ RoundError::GitHub(GitHubError::RateLimited { .. })) => {
                        return Err(error);
                    }
                    Err(error) => {
                        first_error.get_or_insert(error);
                        continue;
                    }
                    Ok(()) => self.carry_costs(&of_pr, &unplanned, memory),
                }
            }
            let recorded = m
                .prs
                .get(&number)
                .and_then(|p| p.comment.as_ref())
                .map(|c| recorded_costs(&c.body))
                .unwrap_or_default();
            let costs = self.costs(number, &of_pr, &unplanned, &recorded);
            let commented = m.prs.get(&number).is_some_and(|p| p.comment.is_some());
            let Some(body) = sticky_comment(
                &of_pr,
                &waits,
                &holds,
                &shown,
                commented,
                &costs,
                &self.fleet.repo_config_path,
            ) else {
                continue;
            };
            let may_create = !of_pr.is_empty() || !waits.is_empty();
            let memory = m.prs.entry(number).or_default();
            match self
                .update_comment_of(repo, number, body, may_create, memory)
                .await
            {
                Err(error @ RoundError::GitHub(GitHubError::RateLimited { .. })) => {
                    return Err(error);
                }
                // One PR's comment failing does not hold back the others'.
                Err(error) => {
                    first_error.get_or_insert(error);
                }
                Ok(()) => {}
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn update_comment_of(
        &self,
        repo: &RepoName,
        number: u64,
        body: String,
        may_create: bool,
        memory: &mut PrMemory,
    ) -> Result<(), RoundError> {
        if memory.comment.as_ref().is_some_and(|c| c.body == body) {
            return Ok(());
        }
        if !memory.comment_looked_up {
            self.look_up_comment(repo, number, memory).await?;
            if memory.comment.as_ref().is_some_and(|c| c.body == body) {
                return Ok(());
            }
        }
        self.write_comment(repo, number, body, may_create, memory)
            .await
    }

    /// Finds the PR's comment by its marker, once per term (or again after a write whose
    /// outcome is unknown).
    async fn look_up_comment(
        &self,
        repo: &RepoName,
        number: u64,
        memory: &mut PrMemory,
    ) -> Result<(), RoundError> {
        if memory.comment_looked_up {
            return Ok(());
        }
        let result = self.github.find_comment(repo, number, MARKER).await;
        self.count("read_back", result.as_ref().map(|_| ()));
        memory.comment = result?;
        memory.comment_looked_up = true;
        Ok(())
    }

    /// Carries what the PR's comment shows beyond what the meter counted into the meter, for
    /// its `previews` and `unplanned` ones: after a restart, the figure the comment showed; a
    /// figure this process wrote is no more than it counted, and carries nothing.
    fn carry_costs(&self, previews: &[&Preview], unplanned: &[PreviewKey], memory: &PrMemory) {
        let Some(comment) = &memory.comment else {
            return;
        };
        let keys: Vec<PreviewKey> = previews
            .iter()
            .map(|p| p.key())
            .chain(unplanned.iter().cloned())
            .collect();
        let mut meter = self.meter.lock();
        for (service, amount) in recorded_costs(&comment.body) {
            let Some(key) = keys.iter().find(|k| k.service == service) else {
                continue;
            };
            let Some(counted) = meter.so_far(&self.fleet, key) else {
                continue;
            };
            // A figure we wrote is the meter's rounded down (to within float error).
            if amount > counted + 1e-6 {
                meter.carry(key.clone(), amount - counted);
            }
        }
    }

    async fn write_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: String,
        may_create: bool,
        memory: &mut PrMemory,
    ) -> Result<(), RoundError> {
        match &memory.comment {
            Some(comment) => {
                let id = comment.id;
                let result = self
                    .write(
                        "update_comment",
                        self.github.update_comment(repo, id, &body),
                    )
                    .await;
                // Unknown outcome: look again. Gone (someone deleted it): look again, and
                // create a new one if there is none.
                let deleted = matches!(
                    result,
                    Err(RoundError::GitHub(GitHubError::Upstream {
                        status: 404,
                        ..
                    }))
                );
                if deleted || result.as_ref().is_err_and(|e| !e.surely_refused()) {
                    memory.comment = None;
                    memory.comment_looked_up = false;
                }
                result?;
                info!(repo = %repo, pr = number, comment = id, "updated the PR comment");
                memory.comment = Some(crate::github::IssueComment { id, body });
            }
            // Never open a comment on a PR whose previews are already gone.
            None if !may_create => {}
            None => {
                let result = self
                    .write(
                        "create_comment",
                        self.github.create_comment(repo, number, &body),
                    )
                    .await;
                if result.as_ref().is_err_and(|e| !e.surely_refused()) {
                    memory.comment_looked_up = false;
                }
                let id = result?;
                info!(repo = %repo, pr = number, comment = id, "created the PR comment");
                memory.comment = Some(crate::github::IssueComment { id, body });
            }
        }
        Ok(())
    }
}
