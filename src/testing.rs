//! Builders for unit-test fixtures: a small fleet and pull requests; what the random-input
//! checks of untrusted input share ([`untrusted`]).

pub(crate) mod untrusted;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc, Weekday};

use crate::fleet::{
    Database, Fleet, HostPattern, Policy, Scheduling, Seed, Service, ServiceKind, SleepPolicy,
    Toleration, WorkingHours,
};
use crate::naming::{PreviewKey, ServiceName};
use crate::plan::{Plan, PlanInput, PullFacts};
use crate::pull_request::{ConfigFile, HeadFacts, PullRequest};

pub(crate) fn name(s: &str) -> ServiceName {
    ServiceName::new(s).expect("valid service name")
}

/// The key of `service`'s preview of PR `number`.
pub(crate) fn key(service: &str, number: u64) -> PreviewKey {
    PreviewKey::new(name(service), number)
}

pub(crate) fn policy() -> Policy {
    Policy {
        label: "preview".into(),
        host_pattern: HostPattern::new_unchecked(HostPattern::DEFAULT.into()),
        drafts: false,
        forks: false,
        spot: true,
        replicas: 1,
        ttl: Duration::from_secs(72 * 3600),
        max_ttl: Duration::from_secs(14 * 24 * 3600),
        sleep: SleepPolicy {
            enabled: true,
            working_hours: WorkingHours {
                days: vec![
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                ],
                start: NaiveTime::from_hms_opt(8, 0, 0).expect("time"),
                end: NaiveTime::from_hms_opt(20, 0, 0).expect("time"),
                time_zone: chrono_tz::UTC,
            },
        },
        build_check: None,
        expiry_warning: Duration::from_secs(12 * 3600),
        wake_for: Duration::from_secs(4 * 3600),
        keep_label: "preview-keep".into(),
        priority_label: "preview-priority".into(),
        price: None,
        activity_associations: crate::pull_request::AuthorAssociation::COUNTED_BY_DEFAULT.to_vec(),
        database_storage: crate::fleet::StorageSize::default(),
        access: crate::fleet::Access::Private,
    }
}

pub(crate) fn service(svc: &str, repo: &str, kind: ServiceKind, deps: &[&str]) -> Service {
    let staging = format!("https://{svc}.staging.example.com")
        .parse()
        .expect("url");
    let internal = format!("http://{svc}.staging.svc.cluster.local:8000")
        .parse()
        .expect("url");
    let backend = kind == ServiceKind::Backend;
    Service {
        name: name(svc),
        repo: repo.parse().expect("repo"),
        kind,
        image: format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{svc}"),
        overlay_path: "deploy/preview".into(),
        staging_url: staging,
        staging_internal_url: internal,
        port: if backend { 8000 } else { 80 },
        dependencies: deps.iter().map(|d| name(d)).collect(),
        seed: backend.then(|| Seed {
            image: format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{svc}-seed"),
            path: "db/seed".into(),
        }),
        databases: if backend {
            BTreeSet::from([Database::Postgres, Database::Redis, Database::Mongodb])
        } else {
            BTreeSet::new()
        },
        policy: policy(),
        applicationsets: vec!["previews".into()],
    }
}

/// `web` (frontend → api, billing), `api` (backend → billing), `billing` (backend).
pub(crate) fn fleet() -> Fleet {
    Fleet {
        base_domain: "preview.example.com".into(),
        github_url: "https://github.com".parse().expect("url"),
        postgres_image: "public.ecr.aws/docker/library/postgres:17-trixie".into(),
        namespace_prefix: "preview".into(),
        repo_config_path: ".preview.yaml".into(),
        refresh_interval: Duration::from_secs(60),
        refresh_interval_with_webhooks: Duration::from_secs(600),
        applicationsets: vec!["previews".into()],
        scheduling: Scheduling {
            capacity_type_label: "karpenter.sh/capacity-type".into(),
            spot_value: "spot".into(),
            on_demand_value: "on-demand".into(),
            toleration: Some(Toleration {
                key: "preview.example.com/preview".into(),
                value: None,
                effect: "NoSchedule".into(),
            }),
            architecture: "amd64".into(),
            node_pool: None,
        },
        quota: crate::fleet::Quota::default(),
        fence: crate::fleet::Fence::default(),
        currency: "USD".into(),
        links: crate::fleet::Links::default(),
        services: vec![
            service(
                "web",
                "acme/web",
                ServiceKind::Frontend,
                &["api", "billing"],
            ),
            service("api", "acme/api", ServiceKind::Backend, &["billing"]),
            service("billing", "acme/billing", ServiceKind::Backend, &[]),
        ],
    }
}

pub(crate) fn sha(seed: u64) -> String {
    format!("{seed:040x}")
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .expect("time")
}

/// A labelled, non-draft, same-repo PR.
pub(crate) fn pr(number: u64) -> PullRequest {
    PullRequest {
        number,
        title: format!("Change {number}"),
        body: String::new(),
        branch: format!("feature/change-{number}"),
        target_branch: "main".into(),
        head_sha: sha(number),
        author: "octocat".into(),
        labels: vec!["preview".into()],
        draft: false,
        from_fork: false,
        updated_at: now(),
    }
}

/// Facts for an eligible PR with `config` as its repo config file and a seed tree.
pub(crate) fn facts(pr: PullRequest, config: Option<&str>) -> PullFacts {
    let head = HeadFacts {
        config: config.map_or(ConfigFile::Missing, |text| ConfigFile::Present(text.into())),
        seed_tree_sha: Some(sha(1_000_000 + pr.number)),
    };
    PullFacts {
        pr: pr.into(),
        head: Some(head),
        last_valid_config: None,
        activity: None,
        live: false,
    }
}

/// The plan of the test fleet for these services' facts.
pub(crate) fn plan_of(services: &[(&str, Vec<PullFacts>)]) -> Plan {
    let fleet = fleet();
    let input = PlanInput {
        fleet: &fleet,
        services: services
            .iter()
            .map(|(s, f)| (name(s), f.as_slice()))
            .collect(),
        now: now(),
    };
    crate::plan::plan(&input)
}
