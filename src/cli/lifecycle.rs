//! `serve`'s lifecycle flags, and turning them into [`Parts`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use url::Url;

use super::JIRA_TOKEN_ENV;
use crate::cost::meter::SharedMeter;
use crate::github::PreviewReporter;
use crate::jira::IssueNotifier;
use crate::jira::rest::{Edition, JiraAuth, JiraConfig, JiraRest};
use crate::leader::LeaseConfig;
use crate::reconcile::{Parts, Settings};

/// GitHub Deployments, the sticky PR comment and Jira, from the Applications' real state.
#[derive(Debug, Args)]
pub struct LifecycleArgs {
    /// Report previews on GitHub (deployments, PR comment) and Jira. Needs the Kubernetes API
    /// (in-cluster, or KUBECONFIG) to watch the Argo CD Applications.
    #[arg(long, env = "PREVIEW_TOWER_LIFECYCLE")]
    pub lifecycle: bool,
    /// Namespace of the Argo CD Applications.
    #[arg(long, env = "PREVIEW_TOWER_ARGOCD_NAMESPACE", default_value = "argocd")]
    pub argocd_namespace: String,
    /// Argo CD's web address, for the deployments' log links.
    #[arg(long, env = "PREVIEW_TOWER_ARGOCD_URL")]
    pub argocd_url: Option<Url>,
    /// Elect one writer among replicas with a Lease (turn off only with a single replica).
    #[arg(long, env = "PREVIEW_TOWER_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    /// Namespace of the Lease (preview-tower's own; the manifests pass the pod's namespace).
    #[arg(
        long,
        env = "PREVIEW_TOWER_LEASE_NAMESPACE",
        default_value = "preview-tower"
    )]
    pub lease_namespace: String,
    /// Name of the Lease.
    #[arg(
        long,
        env = "PREVIEW_TOWER_LEASE_NAME",
        default_value = "preview-tower-lifecycle"
    )]
    pub lease_name: String,
    /// This replica's identity in the Lease (the manifests pass the pod name).
    #[arg(long, env = "PREVIEW_TOWER_POD_NAME")]
    pub pod_name: Option<String>,
    /// Least time between two writes to GitHub (GitHub asks for at least a second).
    #[arg(long, env = "PREVIEW_TOWER_GITHUB_WRITE_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub github_write_interval: Duration,
    /// How many of each repo's newest preview deployments are read back at start-up.
    #[arg(long, env = "PREVIEW_TOWER_DEPLOYMENT_SCAN", default_value_t = 100)]
    pub deployment_scan: usize,
    /// How often everything is read back from GitHub again.
    #[arg(long, env = "PREVIEW_TOWER_LIFECYCLE_RESYNC", default_value = "1h", value_parser = humantime::parse_duration)]
    pub lifecycle_resync: Duration,
    #[command(flatten)]
    pub jira: JiraArgs,
}

/// Jira.
#[derive(Debug, Args)]
pub struct JiraArgs {
    /// Jira's base URL (Cloud: `https://SITE.atlassian.net`). Unset: no Jira comments.
    #[arg(long, env = "PREVIEW_TOWER_JIRA_URL")]
    pub jira_url: Option<Url>,
    /// `cloud` (REST v3, email + API token) or `data-center` (REST v2, personal access token).
    #[arg(
        long,
        env = "PREVIEW_TOWER_JIRA_EDITION",
        value_enum,
        default_value = "cloud"
    )]
    pub jira_edition: JiraEdition,
    /// The Atlassian account's email (Cloud).
    #[arg(long, env = "PREVIEW_TOWER_JIRA_EMAIL")]
    pub jira_email: Option<String>,
    /// File holding the API token (Cloud) or personal access token (Data Center); or set
    /// PREVIEW_TOWER_JIRA_TOKEN.
    #[arg(long, env = "PREVIEW_TOWER_JIRA_TOKEN_FILE", value_name = "PATH")]
    pub jira_token_file: Option<PathBuf>,
    /// Only keys of these projects count (comma-separated, e.g. `SHOP,PAY`); empty: any.
    #[arg(long, env = "PREVIEW_TOWER_JIRA_PROJECTS", value_delimiter = ',')]
    pub jira_projects: Vec<String>,
    /// Timeout of each Jira request.
    #[arg(long, env = "PREVIEW_TOWER_JIRA_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub jira_timeout: Duration,
}

/// The Jira edition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum JiraEdition {
    /// Jira Cloud.
    Cloud,
    /// Jira Data Center or Server.
    DataCenter,
}

fn jira(args: &JiraArgs) -> anyhow::Result<Option<Arc<dyn IssueNotifier>>> {
    let Some(base_url) = &args.jira_url else {
        return Ok(None);
    };
    if !base_url.username().is_empty() || base_url.password().is_some() {
        bail!("--jira-url: put credentials in --jira-token-file, not in the URL");
    }
    let token = match &args.jira_token_file {
        Some(path) => super::read_secret(path, "--jira-token-file")?,
        None => super::secret_from_env(JIRA_TOKEN_ENV)?.with_context(|| {
            format!(
                "--jira-url is set but there is no token: set --jira-token-file or {JIRA_TOKEN_ENV}"
            )
        })?,
    };
    for project in &args.jira_projects {
        if project.is_empty()
            || !project
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            bail!(
                "--jira-projects: `{project}` is not a Jira project key (upper-case letters, digits, `_`)"
            );
        }
    }
    let (edition, auth) = match args.jira_edition {
        JiraEdition::Cloud => {
            let email = args
                .jira_email
                .clone()
                .context("--jira-edition cloud needs --jira-email (the API token's account)")?;
            (Edition::Cloud, JiraAuth::Basic { email, token })
        }
        JiraEdition::DataCenter => (Edition::DataCenter, JiraAuth::Bearer { token }),
    };
    let config = JiraConfig {
        base_url: base_url.clone(),
        edition,
        auth,
        timeout: args.jira_timeout,
    };
    let client = JiraRest::new(config).context("cannot set up the Jira client")?;
    Ok(Some(Arc::new(client)))
}

/// Where Argo CD's web UI shows the previews' Applications
/// (`<argocd_url>/applications/<namespace>`), when `--argocd-url` is given.
pub(super) fn applications_url(args: &LifecycleArgs) -> Option<String> {
    args.argocd_url.as_ref().map(|url| {
        format!(
            "{}/applications/{}",
            url.as_str().trim_end_matches('/'),
            args.argocd_namespace
        )
    })
}

/// The lifecycle's parts from the flags; `None` when `--lifecycle` is off. `kube` is the
/// Kubernetes API when one was found; `meter` the cost meter the comment's cost lines read.
pub(super) fn parts(
    args: &LifecycleArgs,
    github: Option<Arc<dyn PreviewReporter>>,
    kube: Option<kube::Client>,
    meter: SharedMeter,
) -> anyhow::Result<Option<Parts>> {
    if !args.lifecycle {
        return Ok(None);
    }
    let Some(github) = github else {
        bail!("--lifecycle reports to GitHub: it needs GitHub credentials, not --demo");
    };
    let jira = jira(&args.jira)?;
    let lease = if args.leader_election {
        let identity = args.pod_name.clone().filter(|n| !n.is_empty()).context(
            "--leader-election needs --pod-name (PREVIEW_TOWER_POD_NAME, from the pod's metadata.name)",
        )?;
        Some(LeaseConfig {
            namespace: args.lease_namespace.clone(),
            name: args.lease_name.clone(),
            identity,
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        })
    } else {
        None
    };
    let kube = kube.context(
        "--lifecycle: cannot reach the Kubernetes API (in-cluster service account or KUBECONFIG)",
    )?;
    Ok(Some(Parts {
        kube,
        lease,
        github,
        jira,
        meter,
        settings: Settings {
            applications_url: applications_url(args),
            write_interval: args.github_write_interval,
            deployment_scan: args.deployment_scan,
            resync_interval: args.lifecycle_resync,
            jira_projects: args.jira.jira_projects.clone(),
        },
    }))
}
