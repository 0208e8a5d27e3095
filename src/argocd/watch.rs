//! The watch of the previews' Applications: kube-rs's watcher, applied to an
//! [`ApplicationIndex`]. A dropped connection resumes from the last resource version; a `410
//! Gone` or a restart relists, and the index swaps the new list in whole.
//!
//! The watch selects nothing on the server: an Application made by a template without the
//! preview labels is still a preview that must survive a restart, and is recognised by its
//! name (see [`super::may_be_preview`]); the others of the namespace are dropped as they
//! arrive. Lists come in pages of [`PAGE_SIZE`], so a large Argo CD never sits in memory at
//! once.

use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Application, ApplicationIndex, may_be_preview};
use crate::metrics::Metrics;

/// Applications per page of a list.
pub const PAGE_SIZE: u32 = 100;

/// A new index of the previews' Applications in `namespace`, and the task that keeps it
/// up to date (see [`run`]).
pub fn spawn(
    client: Client,
    namespace: String,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) -> (Arc<ApplicationIndex>, tokio::task::JoinHandle<()>) {
    let index = Arc::new(ApplicationIndex::default());
    let task = tokio::spawn(run(client, namespace, Arc::clone(&index), metrics, cancel));
    (index, task)
}

/// Watches the previews' Applications in `namespace` until `cancel` fires.
/// Errors (API down, watch expired) are logged, counted, and retried with kube-rs's default
/// backoff; they never end the watch.
pub async fn run(
    client: Client,
    namespace: String,
    index: Arc<ApplicationIndex>,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) {
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let config = watcher::Config::default().page_size(PAGE_SIZE);
    let stream = watcher(api, config).default_backoff();
    futures::pin_mut!(stream);
    info!(namespace, "watching Argo CD Applications");
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = stream.next() => next,
        };
        match next {
            Some(Ok(event)) => {
                let event = match event {
                    watcher::Event::InitApply(app) if !may_be_preview(&app) => continue,
                    // No longer looks like a preview (its labels removed): forgotten.
                    watcher::Event::Apply(app) if !may_be_preview(&app) => {
                        watcher::Event::Delete(app)
                    }
                    watcher::Event::InitDone => {
                        metrics.watch.relists.inc();
                        watcher::Event::InitDone
                    }
                    other => other,
                };
                index.apply(event);
            }
            Some(Err(error)) => {
                metrics.watch.errors.inc();
                warn!(error = %error, "watch of Applications failed; retrying");
            }
            None => {
                warn!("the watch of Applications ended");
                return;
            }
        }
    }
}
