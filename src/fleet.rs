//! The fleet: the server-side configuration of every previewed service and the defaults.
//!
//! Owns the validated, resolved model ([`Fleet`], [`Service`], [`Policy`]) that the planner reads,
//! and its parsing and validation from YAML ([`Fleet::from_yaml`], in `fleet/parse.rs`). Every
//! per-service override is already merged into the service's [`Policy`], so nothing downstream
//! looks at defaults again. Pure: no I/O; the caller reads the file.

mod fence;
mod links;
mod parse;
mod scheduling;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{NaiveTime, Weekday};
use serde::Serialize;
use url::Url;

use crate::naming::{RepoName, ServiceName};
use crate::pull_request::AuthorAssociation;

pub use fence::{ContainerLimits, Fence, NamespaceQuota, Quantity, Resources};
pub use links::{LinkTemplate, LinkValues, Links};
pub use parse::FleetError;
pub use scheduling::{NodePool, Scheduling, Toleration};

/// The validated fleet.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Domain under which every preview host lives (e.g. `preview.example.com`).
    pub base_domain: String,
    /// Web address of GitHub, for repository and PR links (default `https://github.com`;
    /// GitHub Enterprise: `https://ghe.example.com`).
    pub github_url: Url,
    /// PostgreSQL image (with tag) for backends that have no seed image (default
    /// `public.ecr.aws/docker/library/postgres:17-trixie`).
    pub postgres_image: String,
    /// Prefix of every preview's namespace and Application name (a DNS label, e.g. `preview`).
    pub namespace_prefix: String,
    /// Path of the repo config file in each app repo (default `.preview.yaml`).
    pub repo_config_path: String,
    /// How often each repo is listed again when no webhook wakes it (default 60 s).
    pub refresh_interval: Duration,
    /// How often each repo is listed again when GitHub webhooks are configured (default
    /// 10 min): webhooks wake a repo's refresh at once, so polling is only a safety net for a
    /// lost delivery. See [`Fleet::poll_interval`].
    pub refresh_interval_with_webhooks: Duration,
    /// The Argo CD ApplicationSets to refresh when a service's parameter sets change, for
    /// services that do not name their own (default `[previews]`, `argocd/applicationset.yaml`).
    /// Each is a DNS subdomain name, listed once; `manifests/rbac.yaml` must grant `patch` on
    /// each by name. With the services' own, the only ApplicationSets the plugin answers
    /// ([`Fleet::applicationset_names`]).
    pub applicationsets: Vec<String>,
    /// How spot and on-demand capacity are told apart on the cluster's nodes.
    pub scheduling: Scheduling,
    /// The most previews alive at once (default: no limit).
    pub quota: Quota,
    /// What bounds each preview namespace: quota, container limits, replicas, who reaches the
    /// app's port.
    pub fence: Fence,
    /// The currency of the prices (`price_per_hour`), for reports (default `USD`).
    pub currency: String,
    /// The previews board's links to each preview's Argo CD Application and logs.
    pub links: Links,
    /// The services, in file order; names are unique.
    pub services: Vec<Service>,
}

impl Fleet {
    /// The service called `name`, if any.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name.as_str() == name)
    }

    /// Pull request `number` of `repo` on GitHub's web (`<github_url>/<repo>/pull/<number>`).
    pub fn pull_request_url(&self, repo: &RepoName, number: u64) -> String {
        format!(
            "{}/{repo}/pull/{number}",
            self.github_url.as_str().trim_end_matches('/')
        )
    }

    /// The services whose code lives in `repo`, in the fleet's order (a repository may hold
    /// several: a frontend and its backend).
    pub fn services_of<'a>(&'a self, repo: &'a RepoName) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| &s.repo == repo)
    }

    /// How often each repo is polled: [`Fleet::refresh_interval_with_webhooks`] when GitHub
    /// webhooks are configured (they wake refreshes early, so polling only catches lost
    /// deliveries), [`Fleet::refresh_interval`] otherwise.
    pub fn poll_interval(&self, webhooks: bool) -> Duration {
        if webhooks {
            self.refresh_interval_with_webhooks
        } else {
            self.refresh_interval
        }
    }

    /// The distinct repositories of the fleet, in file order.
    pub fn repos(&self) -> Vec<&RepoName> {
        let mut seen = BTreeSet::new();
        self.services
            .iter()
            .map(|s| &s.repo)
            .filter(|r| seen.insert(*r))
            .collect()
    }

    /// Every ApplicationSet the fleet names: the top-level `applicationsets`, then each
    /// service's, each once, in file order. The plugin answers these and no other (a copy of
    /// an ApplicationSet under another name would generate Applications with the same names),
    /// and an Application generated by one of them is the fleet's. Never empty in a parsed
    /// fleet.
    pub fn applicationset_names(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.applicationsets
            .iter()
            .chain(self.services.iter().flat_map(|s| &s.applicationsets))
            .map(String::as_str)
            .filter(|name| seen.insert(*name))
            .collect()
    }
}

/// Whether a service is a browser-side app or a server-side one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// A single-page app (Vue) served as static files.
    Frontend,
    /// An API server (Django) with its own databases.
    Backend,
}

impl ServiceKind {
    /// The name used in the parameters and in the fleet file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Frontend => "frontend",
            Self::Backend => "backend",
        }
    }
}

/// A database a backend preview runs in its own namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Database {
    /// PostgreSQL, started from the seed image when the service has one.
    Postgres,
    /// Redis.
    Redis,
    /// MongoDB.
    Mongodb,
}

impl Database {
    /// The name used in the parameters and in the fleet file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Redis => "redis",
            Self::Mongodb => "mongodb",
        }
    }
}

/// One previewed service.
#[derive(Clone, Debug)]
pub struct Service {
    /// The service's name, unique in the fleet.
    pub name: ServiceName,
    /// The GitHub repository whose pull requests are previewed.
    pub repo: RepoName,
    /// Frontend or backend.
    pub kind: ServiceKind,
    /// Image repository without tag (the tag is the head SHA), e.g.
    /// `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web`.
    pub image: String,
    /// Path of the preview overlay inside the service's repo (relative, no `..`).
    pub overlay_path: String,
    /// Public URL of the service's staging environment.
    pub staging_url: Url,
    /// In-cluster URL of staging, for server-to-server calls; defaults to `staging_url`.
    pub staging_internal_url: Url,
    /// Port of the preview's in-cluster Service (default 80).
    pub port: u16,
    /// Services this one calls, by name; acyclic, each known to the fleet.
    pub dependencies: Vec<ServiceName>,
    /// The seed-data database image, when the service has one.
    pub seed: Option<Seed>,
    /// Databases the preview runs.
    pub databases: BTreeSet<Database>,
    /// Defaults merged with this service's overrides.
    pub policy: Policy,
    /// The Argo CD ApplicationSets that generate this service's previews, refreshed when its
    /// parameter sets change: the service's own `applicationsets`, else the fleet's. May be
    /// empty (Argo CD then sees changes at its own `requeueAfterSeconds`).
    pub applicationsets: Vec<String>,
}

/// Where a service's seed data lives and how its image is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// Image repository without tag; the tag is the seed path's tree SHA at the head commit.
    pub image: String,
    /// Path in the repo whose content versions the seed data (relative, no `..`).
    pub path: String,
}

/// The preview policy of one service: the fleet defaults with the service's overrides applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The label that opts a PR in (default `preview`).
    pub label: String,
    /// How the preview's host is built.
    pub host_pattern: HostPattern,
    /// Whether draft PRs are previewed (default no).
    pub drafts: bool,
    /// Whether PRs from forks are previewed (default no).
    pub forks: bool,
    /// Whether previews run on spot capacity (default yes); a PR may opt out.
    pub spot: bool,
    /// Replicas of each workload when awake (default 1).
    pub replicas: u32,
    /// Idle time after which a preview is deleted (default 72 h).
    pub ttl: Duration,
    /// The longest TTL a PR may ask for (default 14 days); at least `ttl`.
    pub max_ttl: Duration,
    /// Sleeping outside working hours.
    pub sleep: SleepPolicy,
    /// The name of the check run that builds the service's image (e.g. `preview-ready`): a head
    /// commit is deployed only once this check has succeeded on it, so Argo CD never asks for
    /// an image tag that does not exist yet. `None` (the default): no gate, every head is
    /// deployed as soon as its files are read.
    pub build_check: Option<String>,
    /// How long before its idle expiry a preview's PR comment warns about it (default 12 h).
    pub expiry_warning: Duration,
    /// How long `/preview wake` keeps a sleeping preview awake (default 4 h).
    pub wake_for: Duration,
    /// The label that keeps a preview from idle expiry, like `/preview keep` (default
    /// `preview-keep`).
    pub keep_label: String,
    /// The label that puts a PR at the head of the queue when the quota is full (default
    /// `preview-priority`).
    pub priority_label: String,
    /// What one preview costs per hour, for the cost metrics and report; `None` (the default):
    /// hours only.
    pub price: Option<HourlyPrice>,
    /// The size of each database volume of a preview (PostgreSQL's, MongoDB's; default `2Gi`):
    /// the `database_storage` parameter, which the ApplicationSets set on the overlays' database
    /// PersistentVolumeClaims.
    pub database_storage: StorageSize,
    /// Whose comments and reviews are activity (keep a preview from idle expiry), by their
    /// author's `author_association` with the repository (default `OWNER`, `MEMBER`,
    /// `COLLABORATOR`); accounts known to have write access count whatever theirs. On a public
    /// repository anyone can comment: without this, anyone could keep a preview alive.
    pub activity_associations: Vec<AuthorAssociation>,
    /// Who may open the preview's URL (default [`Access::Private`]). Fleet-only: a PR's
    /// `.preview.yaml` cannot change it, because whoever pushes to a PR is who it protects
    /// against leaking.
    pub access: Access,
}

/// Who may open a preview's URL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Behind the platform's sign-in (the overlays' authentication); the default.
    #[default]
    Private,
    /// Anyone with the URL: the ApplicationSet removes the authentication from the Ingress.
    Public,
}

impl Access {
    /// The name used in the fleet file and the parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

/// What one preview of a service costs per hour, in the fleet's currency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HourlyPrice {
    /// Awake on on-demand capacity.
    pub on_demand: f64,
    /// Awake on spot capacity.
    pub spot: f64,
    /// Asleep (scaled to zero: volumes, load balancer rules): usually near zero.
    pub asleep: f64,
}

/// The most previews alive at once; beyond it new previews wait in a queue. Unlimited when
/// `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    /// Across the fleet.
    pub max_previews: Option<u32>,
    /// Per repository (all its services' previews).
    pub max_previews_per_repo: Option<u32>,
}

/// The size of a volume: a Kubernetes quantity of whole units (`2Gi`, `512Mi`), validated
/// (`fleet/parse/storage.rs`) to lie between [`StorageSize::MIN_BYTES`] and
/// [`StorageSize::MAX_BYTES`], so it can be put into a manifest as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageSize {
    text: String,
    bytes: u64,
}

impl StorageSize {
    /// The smallest size accepted: 1 GiB, the smallest EBS gp3 volume.
    pub const MIN_BYTES: u64 = 1 << 30;
    /// The largest size accepted: 50 GiB. A preview's database holds seed data and what a
    /// reviewer writes; more than this is a typo, or a preview that should not be one.
    pub const MAX_BYTES: u64 = 50 << 30;

    /// Wraps an already validated quantity and its size in bytes (see `fleet/parse.rs`).
    pub(crate) fn new_unchecked(text: String, bytes: u64) -> Self {
        Self { text, bytes }
    }

    /// The quantity as written in the fleet file: `2Gi`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The size in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Default for StorageSize {
    /// `2Gi`: room for a seed of a few hundred MiB, its indexes and PostgreSQL's WAL.
    fn default() -> Self {
        Self::new_unchecked("2Gi".to_owned(), 2 << 30)
    }
}

/// A host template with the placeholders `{service}`, `{number}` and `{base_domain}`,
/// validated (`fleet/parse/host.rs`) so that hosts are provably unique per service × PR:
/// `{service}` then `{number}` in the first label, separated by text that does not end with a
/// digit, `{number}` ending the label; and to give a valid DNS name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// The default: `{service}-pr-{number}.{base_domain}`.
    pub const DEFAULT: &'static str = "{service}-pr-{number}.{base_domain}";

    /// Wraps an already validated template (see `fleet/parse.rs`).
    pub(crate) fn new_unchecked(template: String) -> Self {
        Self(template)
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host of `service`'s preview of PR `number`.
    pub fn render(&self, service: &ServiceName, number: u64, base_domain: &str) -> String {
        self.0
            .replace("{service}", service.as_str())
            .replace("{number}", &number.to_string())
            .replace("{base_domain}", base_domain)
    }
}

/// When previews sleep (scaled to zero). Applied by a later issue; parsed and validated now.
#[derive(Clone, Debug, PartialEq)]
pub struct SleepPolicy {
    /// Whether previews sleep outside working hours at all (default yes).
    pub enabled: bool,
    /// The hours during which previews are awake.
    pub working_hours: WorkingHours,
}

/// Working hours in one time zone: awake on `days` from `start` to `end` local time.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkingHours {
    /// The days previews are awake (default Monday to Friday).
    pub days: Vec<Weekday>,
    /// Local start time (default 08:00).
    pub start: NaiveTime,
    /// Local end time, after `start` (default 20:00).
    pub end: NaiveTime,
    /// IANA time zone (default `UTC`).
    pub time_zone: chrono_tz::Tz,
}
