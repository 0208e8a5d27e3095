//! Following Argo CD's Applications: the plan is made again whenever the previews they say
//! exist change, and a repo with a PR that now may hold a preview and is missing from its
//! listing is refreshed at once (see `sync/hold.rs`).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::Syncer;
use crate::argocd::ApplicationIndex;
use crate::naming::{PreviewKey, RepoName};
use crate::plan;

/// How long the Applications are left to settle after a change before the plan is made again
/// (a relist or a burst of new Applications is one change).
const SETTLE: Duration = Duration::from_secs(1);

/// Plans again whenever the set of previews Argo CD has changes (an Application created or
/// deleted, the first list done), and refreshes the repos with a PR that may now hold a preview
/// and is missing from their listing, so that GitHub is asked about it at once. Runs until
/// `cancel` fires.
pub async fn follow_applications(
    syncer: Arc<Syncer>,
    index: Arc<ApplicationIndex>,
    cancel: CancellationToken,
) {
    let mut changes = index.subscribe();
    let mut last: Option<Vec<PreviewKey>> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(SETTLE) => {}
        }
        changes.borrow_and_update();
        let keys: Option<Vec<PreviewKey>> = syncer
            .argo_previews()
            .map(|previews| previews.into_keys().collect());
        if keys == last {
            continue;
        }
        last = keys;
        syncer.replan();
        let repos: Vec<RepoName> = {
            let snapshot = syncer.snapshot();
            let unlisted = snapshot
                .plan()
                .held
                .iter()
                .filter(|h| h.reason == plan::HoldReason::Unlisted);
            let mut repos: Vec<RepoName> = unlisted
                .filter_map(|h| syncer.fleet.service(h.service.as_str()))
                .map(|s| s.repo.clone())
                .collect();
            repos.sort();
            repos.dedup();
            repos
        };
        for repo in repos {
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                result = syncer.refresh(&repo) => result,
            };
            if let Err(error) = result {
                warn!(repo = %repo, error = %error, "refresh after the Applications changed failed; the poll retries");
            }
        }
    }
}
