//! The fleets and pull requests the benchmark runs on: `services` backends, one repository
//! each, every open PR labelled `preview`, no repo config file (the fleet's defaults apply).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::Utc;

use preview_tower::fleet::Fleet;
use preview_tower::naming::ServiceName;
use preview_tower::plan::{PlanInput, PullFacts, plan};
use preview_tower::pull_request::{ConfigFile, HeadFacts, PullRequest};
use preview_tower::snapshot::Snapshot;

/// The fleet YAML: `services` backends `svc-0`… in repos `acme/svc-0`…, refreshed every
/// `refresh` (a fleet duration such as `30s`).
pub fn fleet_yaml(services: usize, refresh: &str) -> String {
    let mut yaml =
        format!("base_domain: preview.example.com\nrefresh_interval: {refresh}\nservices:\n");
    for i in 0..services {
        let _ = write!(
            yaml,
            "  - name: svc-{i}\n    repo: acme/svc-{i}\n    kind: backend\n    image: registry.example.com/svc-{i}\n    overlay_path: deploy/preview\n    staging_url: https://svc-{i}.staging.example.com\n"
        );
    }
    yaml
}

/// Like [`fleet_yaml`], with GitHub webhooks in mind: polled every `with_webhooks` (a fleet
/// duration such as `1h`) once the service has a webhook secret.
pub fn fleet_yaml_with_webhooks(services: usize, with_webhooks: &str) -> String {
    fleet_yaml(services, "30s").replacen(
        "services:\n",
        &format!("refresh_interval_with_webhooks: {with_webhooks}\nservices:\n"),
        1,
    )
}

/// The parsed fleet.
pub fn fleet(services: usize) -> Arc<Fleet> {
    let fleet = Fleet::from_yaml(&fleet_yaml(services, "30s"))
        .unwrap_or_else(|e| panic!("the bench fleet does not parse: {e:?}"));
    Arc::new(fleet)
}

/// `pulls` open PRs, as the sync would have read them (the same for every service).
pub fn facts(pulls: u64) -> Vec<PullFacts> {
    (1..=pulls)
        .map(|number| PullFacts {
            pr: Arc::new(PullRequest {
                number,
                title: format!("Change number {number}"),
                body: String::new(),
                branch: format!("feature/change-{number}"),
                target_branch: "main".into(),
                head_sha: format!("{number:040x}"),
                author: "octocat".into(),
                labels: vec!["preview".into()],
                draft: false,
                from_fork: false,
                updated_at: Utc::now(),
            }),
            head: Some(HeadFacts {
                config: ConfigFile::Missing,
                seed_tree_sha: None,
            }),
            last_valid_config: None,
            activity: None,
            live: false,
        })
        .collect()
}

/// A rendered snapshot of `services` × `pulls` previews, every service synced.
pub fn snapshot(services: usize, pulls: u64) -> Snapshot {
    let fleet = fleet(services);
    let facts = facts(pulls);
    let by_service: BTreeMap<ServiceName, &[PullFacts]> = fleet
        .services
        .iter()
        .map(|s| (s.name.clone(), facts.as_slice()))
        .collect();
    let planned = plan(&PlanInput {
        fleet: &fleet,
        services: by_service,
        now: Utc::now(),
    });
    let synced = fleet.services.iter().map(|s| s.name.clone()).collect();
    Snapshot::build(Arc::clone(&fleet), planned, synced, 1, None)
}
