//! Leader election with a Kubernetes `Lease`, so that with several replicas only one writes to
//! GitHub and Jira while every replica keeps answering the plugin.
//!
//! The protocol is client-go's: the holder renews `renewTime` every `renew_every`; another
//! replica may take the lease once it has seen it unchanged for `leaseDurationSeconds` by its
//! own clock (so skewed clocks between nodes cannot steal a live lease), or at once when it
//! was released. Every write carries the `resourceVersion` it read, so two candidates racing
//! for an expired lease cannot both win (the API server answers 409 to the loser). A leader
//! that cannot renew steps down before its lease can expire. Two replicas must not share an
//! identity (the manifests use the pod name).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Where the lease lives and who we are.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Namespace of the Lease (preview-tower's own).
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a lease lasts without renewal.
    pub duration: Duration,
    /// How often the holder renews (well under `duration`).
    pub renew_every: Duration,
}

/// What to do with the lease as read, at `now`.
#[derive(Debug, PartialEq, Eq)]
enum Move {
    /// Nobody has it: create it.
    Create,
    /// Ours, or free, or expired: write ourselves in (renew or take over).
    Claim { transition: bool },
    /// Someone else holds a live lease.
    Wait,
}

/// Another holder's lease as we last saw it, and when, by our own clock: a lease expires when
/// it has not changed for its duration *as we observe it* (client-go's rule), so clocks that
/// disagree between nodes cannot steal a live lease.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    holder: String,
    renewed: Option<String>,
    at: std::time::Instant,
}

fn next_move(
    lease: Option<&Lease>,
    identity: &str,
    seen: &mut Option<Seen>,
    now: std::time::Instant,
) -> Move {
    let Some(spec) = lease.map(|l| l.spec.clone().unwrap_or_default()) else {
        *seen = None;
        return Move::Create;
    };
    let holder = spec.holder_identity.clone().unwrap_or_default();
    if holder == identity {
        *seen = None;
        return Move::Claim { transition: false };
    }
    if holder.is_empty() {
        *seen = None;
        return Move::Claim { transition: true };
    }
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0.to_string());
    let duration =
        Duration::from_secs(u64::try_from(spec.lease_duration_seconds.unwrap_or(0)).unwrap_or(0));
    match seen {
        Some(last) if last.holder == holder && last.renewed == renewed => {
            if now.duration_since(last.at) >= duration {
                *seen = None;
                Move::Claim { transition: true }
            } else {
                Move::Wait
            }
        }
        _ => {
            *seen = Some(Seen {
                holder,
                renewed,
                at: now,
            });
            Move::Wait
        }
    }
}

fn our_spec(config: &LeaseConfig, previous: Option<&LeaseSpec>, transition: bool) -> LeaseSpec {
    let now = MicroTime(Timestamp::now());
    let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(config.identity.clone()),
        lease_duration_seconds: Some(i32::try_from(config.duration.as_secs()).unwrap_or(i32::MAX)),
        acquire_time: if transition {
            Some(now.clone())
        } else {
            previous
                .and_then(|p| p.acquire_time.clone())
                .or(Some(now.clone()))
        },
        renew_time: Some(now),
        lease_transitions: Some(if transition {
            transitions + 1
        } else {
            transitions
        }),
        ..LeaseSpec::default()
    }
}

/// One round: read the lease and claim it when we may. `Ok(true)` when we hold it now.
async fn try_hold(
    api: &Api<Lease>,
    config: &LeaseConfig,
    seen: &mut Option<Seen>,
) -> Result<bool, kube::Error> {
    let current = api.get_opt(&config.name).await?;
    match next_move(
        current.as_ref(),
        &config.identity,
        seen,
        std::time::Instant::now(),
    ) {
        Move::Wait => Ok(false),
        Move::Create => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.name.clone()),
                    namespace: Some(config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(our_spec(config, None, true)),
            };
            settle(api.create(&PostParams::default(), &lease).await)
        }
        Move::Claim { transition } => {
            let Some(mut lease) = current else {
                return Ok(false);
            };
            lease.spec = Some(our_spec(config, lease.spec.as_ref(), transition));
            settle(
                api.replace(&config.name, &PostParams::default(), &lease)
                    .await,
            )
        }
    }
}

/// A write's outcome: a conflict (another replica won the race) is "not leader", not an error.
fn settle(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error),
    }
}

/// Runs the election until `cancel` fires, publishing whether this replica leads on `leading`.
/// On shutdown the leader gives the lease up so that another replica takes over at once:
/// cancel it only after everything that acts on `leading` has stopped.
pub async fn run(
    client: Client,
    config: LeaseConfig,
    leading: watch::Sender<bool>,
    cancel: CancellationToken,
) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut seen: Option<Seen> = None;
    // When we last wrote ourselves into the lease.
    let mut renewed_at: Option<tokio::time::Instant> = None;
    loop {
        let attempt = tokio::time::Instant::now();
        // An API server that hangs must not keep us "leading" past the lease: every attempt
        // ends within a renewal period, and a timeout counts as a failed renewal.
        let result = tokio::time::timeout(config.renew_every, try_hold(&api, &config, &mut seen))
            .await
            .unwrap_or_else(|_| Err(kube::Error::Service("the lease request timed out".into())));
        let held = match result {
            Ok(true) => {
                renewed_at = Some(attempt);
                true
            }
            Ok(false) => {
                renewed_at = None;
                false
            }
            Err(error) => {
                warn!(error = %error, lease = config.name, "cannot read or renew the lease");
                // Keep leading only while the lease we last wrote is surely still ours, with a
                // renewal period to spare.
                renewed_at.is_some_and(|at| at.elapsed() + config.renew_every < config.duration)
            }
        };
        if leading.send_replace(held) != held {
            info!(
                identity = config.identity,
                leading = held,
                "leadership changed"
            );
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(config.renew_every) => {}
        }
    }
    if leading.send_replace(false) {
        release(&api, &config).await;
    }
}

/// Gives the lease up: another replica may take it at once.
async fn release(api: &Api<Lease>, config: &LeaseConfig) {
    let Ok(Some(mut lease)) = api.get_opt(&config.name).await else {
        return;
    };
    let ours = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        == Some(config.identity.as_str());
    if ours {
        if let Some(spec) = lease.spec.as_mut() {
            spec.holder_identity = None;
            spec.renew_time = None;
        }
        let _ = api
            .replace(&config.name, &PostParams::default(), &lease)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use k8s_openapi::jiff::SignedDuration;

    use super::*;

    fn lease(holder: Option<&str>, renewed: i64, duration: i32) -> Lease {
        Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                lease_duration_seconds: Some(duration),
                renew_time: Some(MicroTime(
                    Timestamp::UNIX_EPOCH + SignedDuration::from_secs(renewed),
                )),
                ..LeaseSpec::default()
            }),
        }
    }

    #[test]
    fn another_replicas_lease_expires_only_after_it_stood_still_for_its_duration_here() {
        let start = Instant::now();
        let mut seen = None;
        // Its renew time is far in the past by our clock (skew): still respected.
        let stale = lease(Some("pod-b"), 1, 15);
        assert_eq!(
            next_move(Some(&stale), "pod-a", &mut seen, start),
            Move::Wait
        );
        let later = start + Duration::from_secs(10);
        assert_eq!(
            next_move(Some(&stale), "pod-a", &mut seen, later),
            Move::Wait
        );
        // It renewed: the clock starts again.
        let renewed = lease(Some("pod-b"), 2, 15);
        let after = start + Duration::from_secs(20);
        assert_eq!(
            next_move(Some(&renewed), "pod-a", &mut seen, after),
            Move::Wait
        );
        let expired = after + Duration::from_secs(15);
        assert_eq!(
            next_move(Some(&renewed), "pod-a", &mut seen, expired),
            Move::Claim { transition: true }
        );
    }

    #[test]
    fn a_released_lease_is_taken_at_once_ours_renewed_a_missing_one_created() {
        let now = Instant::now();
        let mut seen = None;
        assert_eq!(
            next_move(Some(&lease(None, 1, 15)), "pod-a", &mut seen, now),
            Move::Claim { transition: true }
        );
        assert_eq!(
            next_move(Some(&lease(Some("pod-a"), 1, 15)), "pod-a", &mut seen, now),
            Move::Claim { transition: false }
        );
        assert_eq!(next_move(None, "pod-a", &mut seen, now), Move::Create);
    }
}
