//! The parameter contract: every key, its type and its meaning. `docs/parameters.md` is
//! generated from [`KEYS`].

/// The JSON type of a parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A string.
    String,
    /// A list of strings.
    List,
    /// An object.
    Map,
}

impl ValueKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::List => "list of strings",
            Self::Map => "map",
        }
    }
}

/// One key of the contract.
#[derive(Clone, Copy, Debug)]
pub struct ParamKey {
    /// The key.
    pub name: &'static str,
    /// The value's JSON type.
    pub kind: ValueKind,
    /// Whether Argo CD's pullRequest generator emits the same key (left out in matrix mode).
    pub pull_request_generator: bool,
    /// What it holds, with an example.
    pub description: &'static str,
}

const fn key(name: &'static str, description: &'static str) -> ParamKey {
    ParamKey {
        name,
        kind: ValueKind::String,
        pull_request_generator: false,
        description,
    }
}

const fn pr_key(name: &'static str, kind: ValueKind, description: &'static str) -> ParamKey {
    ParamKey {
        name,
        kind,
        pull_request_generator: true,
        description,
    }
}

const fn map_key(name: &'static str, description: &'static str) -> ParamKey {
    ParamKey {
        name,
        kind: ValueKind::Map,
        pull_request_generator: false,
        description,
    }
}

/// The contract: every key of every parameter set, in documentation order.
pub const KEYS: &[ParamKey] = &[
    pr_key("number", ValueKind::String, "PR number, decimal: `42`."),
    pr_key(
        "branch",
        ValueKind::String,
        "Head branch name as written by the PR author (untrusted text).",
    ),
    pr_key(
        "branch_slug",
        ValueKind::String,
        "`branch` as a DNS label of at most 50 characters: `feature-login`.",
    ),
    pr_key("target_branch", ValueKind::String, "Base branch: `main`."),
    pr_key(
        "target_branch_slug",
        ValueKind::String,
        "`target_branch` as a DNS label.",
    ),
    pr_key(
        "head_sha",
        ValueKind::String,
        "Full SHA of the commit deployed, the same as `revision`: the PR's head, or while a `build_check` has not passed on it, the newest built commit (so a template written for the pullRequest generator never asks for an image not built yet).",
    ),
    pr_key(
        "head_short_sha",
        ValueKind::String,
        "First 8 characters of `head_sha`.",
    ),
    pr_key(
        "head_short_sha_7",
        ValueKind::String,
        "First 7 characters of `head_sha`.",
    ),
    pr_key(
        "author",
        ValueKind::String,
        "GitHub login of the PR author.",
    ),
    pr_key("title", ValueKind::String, "PR title (untrusted text)."),
    pr_key(
        "labels",
        ValueKind::List,
        "PR labels (untrusted text). A list, as in Argo CD's pullRequest generator.",
    ),
    key(
        "revision",
        "The commit to deploy: overlay `targetRevision` and image tag. The PR's head, or while the service's `build_check` has not passed on it, the PR's newest commit that passed. Use this rather than `head_sha`, also in matrix mode.",
    ),
    key("service", "Fleet service name: `web`."),
    key("repo", "GitHub repository: `acme/web`."),
    key(
        "repo_url",
        "Git URL of the repository, for the Application source: `https://github.com/acme/web.git`.",
    ),
    key("pr_url", "Web URL of the pull request."),
    key("kind", "`frontend` or `backend`."),
    key(
        "overlay_path",
        "Path of the preview overlay in the repository: `deploy/preview`.",
    ),
    key(
        "name",
        "Application name, also the namespace: `preview-web-pr-42`. A DNS label, unique per service and PR, stable for the PR's life.",
    ),
    key("namespace", "Namespace of the preview (same as `name`)."),
    key("host", "Public host: `web-pr-42.preview.example.com`."),
    key(
        "url",
        "Public URL: `https://web-pr-42.preview.example.com`.",
    ),
    key(
        "internal_url",
        "In-cluster URL of the preview's Service (named after the service, in `namespace`): `http://web.preview-web-pr-42.svc.cluster.local`.",
    ),
    key("image", "Image with tag: `<image repository>:<revision>`."),
    key(
        "image_repository",
        "Image repository without tag, from the fleet.",
    ),
    key("image_tag", "Image tag: the full `revision` SHA."),
    key(
        "seed_image",
        "Seed-data database image `<seed repository>:<seed_tag>`, or empty when the service has no seed.",
    ),
    key(
        "seed_tag",
        "Tree SHA of the seed path at `revision` (`git rev-parse <revision>:<path>`), or empty.",
    ),
    key(
        "postgres_image",
        "PostgreSQL image of the preview: `seed_image` when the service has one, else the fleet's `postgres_image`. Never empty, so it can always be an image override.",
    ),
    key(
        "base_domain",
        "The fleet's base domain: `preview.example.com` (for CORS rules over every preview).",
    ),
    key(
        "databases",
        "Comma-separated databases the preview runs: `postgres,redis,mongodb`, or empty.",
    ),
    key("capacity_type", "`spot` or `on-demand`."),
    key(
        "capacity_type_label",
        "Node label that tells capacity types apart: `karpenter.sh/capacity-type`.",
    ),
    key(
        "capacity_type_value",
        "Value of that label for the preferred capacity: `spot` (or `on-demand`).",
    ),
    key(
        "scheduling_patch",
        "A Kustomize strategic-merge patch (JSON) for pod templates: spot preferred with on-demand fallback, or spot avoided; either way the previews' taint tolerated and the fleet's `architecture` pinned (`kubernetes.io/arch`).",
    ),
    key(
        "replicas",
        "Replicas of each workload: `1`; `0` while the preview sleeps.",
    ),
    key(
        "database_replicas",
        "Replicas of each database workload: `1`, `0` while the preview sleeps. Never more: each replica would be a separate database.",
    ),
    key(
        "database_storage",
        "Size of each database volume (the PersistentVolumeClaims labelled `preview-tower.io/storage: database`: PostgreSQL's, MongoDB's), a Kubernetes quantity: `2Gi`. The service's `database_storage` in the fleet.",
    ),
    key(
        "quota_patch",
        "A Kustomize strategic-merge patch (JSON) for the ResourceQuota `preview`: the fleet's `fence.quota`, with `services.loadbalancers` and `services.nodeports` at `0`.",
    ),
    key(
        "limit_range_patch",
        "A Kustomize strategic-merge patch (JSON) for the LimitRange `preview`: the fleet's `fence.container` (per-container `defaultRequest`, `default`, `max`).",
    ),
    key(
        "network_patch",
        "A Kustomize strategic-merge patch (JSON) for the NetworkPolicy `preview-routes`: ingress to the port named `http` from the fleet's `fence.load_balancer_cidrs` and from the namespaces of the previews that depend on this one; egress to the namespace of each dependency (`<prefix>-<service>-pr-<N>`, or the namespace of an in-cluster `staging_internal_url`).",
    ),
    key(
        "ttl",
        "Idle time after which the preview is deleted: `3days`.",
    ),
    key(
        "expires_at",
        "RFC 3339 time the preview will be deleted for idleness; empty until idle expiry is enabled.",
    ),
    key(
        "access",
        "Who may open the preview, from the fleet (`access`): `private` (behind the platform's sign-in, the default) or `public`.",
    ),
    key(
        "access_patch",
        "A Kustomize strategic-merge patch (JSON) for the Ingress `preview`: the label `preview-tower.io/access`, and for a `public` preview `alb.ingress.kubernetes.io/auth-type: none` and `nginx.ingress.kubernetes.io/enable-global-auth: \"false\"` (no sign-in on either controller).",
    ),
    key(
        "route_path",
        "Path of the Ingress rule (and route) of the preview: `/`; while it sleeps `/preview-tower-asleep`, so that its host falls through to the platform's anchor page (`platform/anchor`) instead of an empty target group.",
    ),
    key(
        "config_source",
        "Where the repo config in force came from: `file`, `missing`, `last_valid` or `defaults`.",
    ),
    map_key(
        "dependencies",
        "Per dependency: `{url, internal_url, route}`, `route` being `staging` or `pr-<N>`.",
    ),
    map_key(
        "env",
        "Environment variables for the workloads: `PREVIEW_SERVICE`, `PREVIEW_PR_NUMBER`, `PREVIEW_HOST`, `PREVIEW_URL`, `PREVIEW_REVISION`, `PREVIEW_BASE_DOMAIN`, `PREVIEW_REPLICAS` and, per dependency, `<NAME>_URL`, `<NAME>_INTERNAL_URL` and `<NAME>_ROUTE`.",
    ),
    key(
        "env_patch",
        "A Kustomize strategic-merge patch (JSON) setting `env` as the data of the ConfigMap `preview-env`, which the overlays load with `envFrom`.",
    ),
];

/// The contract as a Markdown table, for `docs/parameters.md`.
pub fn contract_table() -> String {
    let mut out =
        String::from("| key | type | in matrix mode | meaning |\n| --- | --- | --- | --- |\n");
    for key in KEYS {
        let matrix = if key.pull_request_generator {
            "from the pullRequest generator"
        } else {
            "yes"
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            key.name,
            key.kind.as_str(),
            matrix,
            key.description
        ));
    }
    out
}
