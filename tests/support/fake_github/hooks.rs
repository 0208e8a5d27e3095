//! Test hooks of the write side: read the deployments and comments the fake holds, add
//! other tools' and people's, steer GitHub's rules (auto-merge, pending checks, write spacing),
//! and count writes.

use std::time::Duration;

use serde_json::Value;

use super::reporting::{BOT_LOGIN, FakeComment, FakeDeployment, FakeStatus};
use super::{FakeGitHub, comments, deployments};

impl FakeGitHub {
    /// The deployments of `repo`, oldest first, each with its statuses (oldest first).
    pub fn deployments(&self, repo: &str) -> Vec<FakeDeployment> {
        self.with(|s| s.repo_mut(repo).deployments.clone())
    }

    /// A deployment made earlier by the account behind the token ([`BOT_LOGIN`]: as by an
    /// earlier run of preview-tower, or by another tool sharing its token), with no status;
    /// its id.
    pub fn add_deployment(
        &self,
        repo: &str,
        task: &str,
        environment: &str,
        sha: &str,
        payload: Value,
    ) -> u64 {
        self.add_deployment_by(BOT_LOGIN, repo, task, environment, sha, payload)
    }

    /// A deployment made by `creator`, with no status; its id.
    pub fn add_deployment_by(
        &self,
        creator: &str,
        repo: &str,
        task: &str,
        environment: &str,
        sha: &str,
        payload: Value,
    ) -> u64 {
        self.with(|s| {
            let id = deployments::insert(s, repo, creator, sha, sha);
            let deployment = s.repo_mut(repo).deployments.last_mut().expect("just added");
            deployment.task = task.to_owned();
            deployment.environment = environment.to_owned();
            deployment.payload = payload;
            id
        })
    }

    /// Adds a status `state` to deployment `id`, as another tool would; the status id.
    pub fn add_status(&self, repo: &str, id: u64, state: &str) -> u64 {
        self.with(|s| {
            let status = s.reporting.next_status;
            s.reporting.next_status += 1;
            let deployment = s
                .repo_mut(repo)
                .deployments
                .iter_mut()
                .find(|d| d.id == id)
                .unwrap_or_else(|| panic!("fake GitHub: no deployment {id} in {repo}"));
            deployment.statuses.push(FakeStatus {
                id: status,
                state: state.to_owned(),
                environment_url: String::new(),
                log_url: String::new(),
                description: String::new(),
            });
            status
        })
    }

    /// The comments on PR `number` of `repo`, oldest first: `(id, body)`.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<(u64, String)> {
        self.with(|s| {
            let repo = s.repo_mut(repo);
            let on_pr = repo.comments.iter().filter(|c| c.number == number);
            on_pr.map(|c| (c.id, c.body.clone())).collect()
        })
    }

    /// The comments on PR `number` of `repo`, oldest first, with their authors.
    pub fn comment_records(&self, repo: &str, number: u64) -> Vec<FakeComment> {
        self.with(|s| {
            let repo = s.repo_mut(repo);
            let on_pr = repo.comments.iter().filter(|c| c.number == number);
            on_pr.cloned().collect()
        })
    }

    /// Someone (`login`) comments on PR `number` (now); the comment id. Not a write through the
    /// API: it neither counts as one nor meets the pacing rule. The PR's `updated_at` moves,
    /// as on GitHub, and the timeline shows a `commented` event.
    pub fn comment_as(&self, repo: &str, number: u64, login: &str, body: &str) -> u64 {
        let id = self.with(|s| comments::insert(s, repo, number, login, body));
        self.edit_pull(repo, number, |_| {});
        id
    }

    /// Like [`FakeGitHub::comment_as`], by an account whose `author_association` with the
    /// repository is `association` (`OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`,
    /// `FIRST_TIME_CONTRIBUTOR`, `FIRST_TIMER`, `MANNEQUIN` or `NONE`: the timeline checks it
    /// against GitHub's schema).
    pub fn comment_with(
        &self,
        repo: &str,
        number: u64,
        login: &str,
        association: &str,
        body: &str,
    ) -> u64 {
        let id = self.with(|s| comments::insert_with(s, repo, number, login, association, body));
        self.edit_pull(repo, number, |_| {});
        id
    }

    /// The App registered with [`FakeGitHub::register_app`] is named `slug` (instead of
    /// `preview-tower`): `GET /app` says so, and its installation tokens write as
    /// `<slug>[bot]`.
    pub fn name_app(&self, slug: &str) {
        self.with(|s| s.app_slug = Some(slug.to_owned()));
    }

    /// Refs are behind the base branch: a deployment without `auto_merge: false` answers 202
    /// "Auto-merged main into ..." and creates nothing.
    pub fn deployments_behind_base(&self, behind: bool) {
        self.with(|s| s.reporting.behind_base = behind);
    }

    /// Status checks are pending: a deployment without `required_contexts: []` answers 409.
    pub fn checks_pending(&self, pending: bool) {
        self.with(|s| s.reporting.checks_pending = pending);
    }

    /// From now on, a write (POST/PATCH on these endpoints) less than `spacing` after the
    /// previous one answers a secondary rate limit (403, `retry-after`). Zero turns it off.
    pub fn enforce_write_spacing(&self, spacing: Duration) {
        self.with(|s| s.reporting.write_spacing = (!spacing.is_zero()).then_some(spacing));
    }

    /// Write requests received so far: refused by the pacing rule or a validation included,
    /// answered by an injected [`super::Fault`] not (those never reach GitHub's handlers).
    pub fn write_count(&self) -> usize {
        self.with(|s| s.reporting.writes.len())
    }

    /// The most write requests received within any 60 seconds.
    pub fn max_writes_per_minute(&self) -> usize {
        self.with(|s| {
            let writes = &s.reporting.writes;
            (0..writes.len())
                .map(|i| {
                    let end = writes[i] + Duration::from_secs(60);
                    writes[i..].iter().take_while(|at| **at < end).count()
                })
                .max()
                .unwrap_or(0)
        })
    }

    /// The shortest time between two consecutive write requests, `None` with fewer than two.
    pub fn min_write_gap(&self) -> Option<Duration> {
        self.with(|s| {
            let writes = &s.reporting.writes;
            writes.windows(2).map(|w| w[1].duration_since(w[0])).min()
        })
    }
}
