//! What the demo pretends beside its pull requests, for the previews board: Argo CD's
//! Applications ([`applications`], read by the sync as in production) and the cost meter's
//! hours since the demo's PRs were opened ([`seed_meter`]).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use kube::runtime::watcher::Event;

use super::{DemoHealth, DemoSource};
use crate::argocd::{Application, ApplicationIndex};
use crate::cost::meter::Meter;
use crate::cost::replay::{Scenario, Window, replay_plans};
use crate::cost::trace::{EventKind, TraceEvent};
use crate::fleet::Fleet;

/// Argo CD's Applications as the demo pretends them: one per demo PR whose `application`
/// says its health (synced at the PR's newest built commit), in an index listed once, as
/// `argocd::watch` would leave it. The sync reads it (which previews exist: the quota keeps
/// their places, so `web` PR 105, which has none, queues) and so does the board.
pub fn applications(fleet: &Fleet) -> Arc<ApplicationIndex> {
    let index = Arc::new(ApplicationIndex::default());
    index.apply(Event::Init);
    let pulls = DemoSource::new().map(|s| s.pulls).unwrap_or_default();
    for pull in &pulls {
        let (Some(health), Some(service)) =
            (pull.application, fleet.services_of(&pull.repo).next())
        else {
            continue;
        };
        let revision = pull.newest_built().unwrap_or(&pull.head_sha);
        let name = crate::naming::preview_name(&fleet.namespace_prefix, &service.name, pull.number);
        let host =
            service
                .policy
                .host_pattern
                .render(&service.name, pull.number, &fleet.base_domain);
        let (health, message) = match health {
            DemoHealth::Healthy => ("Healthy", None),
            DemoHealth::Progressing => ("Progressing", None),
            DemoHealth::Degraded => (
                "Degraded",
                Some("Deployment api: container crashed 5 times (ImproperlyConfigured)"),
            ),
        };
        let app = serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": name,
                "namespace": "argocd",
                "labels": {
                    "preview-tower.io/service": service.name.as_str(),
                    "preview-tower.io/pr": pull.number.to_string(),
                },
            },
            "spec": {"project": "previews"},
            "status": {
                "sync": {"status": "Synced", "revision": revision},
                "health": {"status": health, "message": message},
                "operationState": {"phase": "Succeeded", "syncResult": {"revision": revision}},
                "summary": {"externalURLs": [format!("https://{host}")]},
            },
        });
        if let Ok(app) = serde_json::from_value::<Application>(app) {
            index.apply(Event::InitApply(app));
        }
    }
    index.apply(Event::InitDone);
    index
}

/// Gives `meter` the hours the demo's PRs would have run from when they were opened to
/// `start`, through the real planner (the trace of their openings and last comments replayed
/// on the fleet as configured), so that the demo board shows costs at once. PRs from forks and
/// never built are left out, as the demo previews none.
pub fn seed_meter(fleet: &Fleet, meter: &mut Meter, start: DateTime<Utc>) {
    let Ok(source) = DemoSource::started_at(start) else {
        return;
    };
    let mut events: Vec<TraceEvent> = Vec::new();
    for pull in source
        .pulls
        .iter()
        .filter(|p| !p.from_fork && p.newest_built().is_some())
    {
        let (opened, last) = pull.times(start);
        events.push(TraceEvent {
            at: opened,
            repo: pull.repo.clone(),
            pr: pull.number,
            kind: EventKind::Opened {
                labels: pull.labels.clone(),
                draft: pull.draft,
            },
        });
        if last > opened {
            events.push(TraceEvent {
                at: last,
                repo: pull.repo.clone(),
                pr: pull.number,
                kind: EventKind::Comment,
            });
        }
    }
    events.sort_by_key(|e| e.at);
    let window = Window {
        from: start - TimeDelta::days(30),
        to: start,
    };
    let fleet = Scenario::TtlSleepSpot.fleet(fleet);
    replay_plans(&fleet, &events, window, |plan, from, to| {
        meter.accrue(plan, from, to);
    });
}
