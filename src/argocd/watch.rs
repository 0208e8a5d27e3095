//! The watch of the previews' Applications: kube-rs's watcher, applied to an
//! [`ApplicationIndex`]. A dropped connection resumes from the last resource version; a `410
//! Gone` or a restart relists, and the index swaps the new list in whole.

use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Application, ApplicationIndex, PREVIEW_LABEL};
use crate::metrics::Metrics;

/// Watches the Applications labelled [`PREVIEW_LABEL`] in `namespace` until `cancel` fires.
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
    let config = watcher::Config::default().labels(PREVIEW_LABEL);
    let stream = watcher(api, config).default_backoff();
    futures::pin_mut!(stream);
    info!(
        namespace,
        selector = PREVIEW_LABEL,
        "watching Argo CD Applications"
    );
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = stream.next() => next,
        };
        match next {
            Some(Ok(event)) => {
                if matches!(event, watcher::Event::InitDone) {
                    metrics.lifecycle_watch_relists.inc();
                }
                index.apply(event);
            }
            Some(Err(error)) => {
                metrics.lifecycle_watch_errors.inc();
                warn!(error = %error, "watch of Applications failed; retrying");
            }
            None => {
                warn!("the watch of Applications ended");
                return;
            }
        }
    }
}
