//! The command line: `serve`, `plan`, `check-config` and `cost`.
//!
//! Every flag has an environment twin (`PREVIEW_TOWER_*`). Secrets come from files or the
//! environment, never from flags that `ps` would show. Everything is validated before anything
//! starts; a bad value exits non-zero with one message naming the flag.

mod check;
mod cost;
mod lifecycle;
mod plan;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use url::Url;

use crate::fleet::Fleet;
use crate::github::PullRequestSource;
use crate::github::auth::Credentials;
use crate::github::octocrab::GitHubSource;
use crate::telemetry::LogFormat;

/// preview-tower: Heroku-style review apps on Kubernetes, as an Argo CD ApplicationSet plugin.
#[derive(Debug, Parser)]
#[command(name = "preview-tower", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the plugin generator service.
    Serve(Box<ServeArgs>),
    /// Compute the parameter sets once and print them, with the reasons behind them.
    Plan(PlanArgs),
    /// Validate a repo config file (`.preview.yaml`); exit 1 on error. For app repos' CI.
    CheckConfig(CheckConfigArgs),
    /// What previews cost always on and with TTL, sleep and spot, over a recorded trace of PR
    /// events or a simulated month (docs/cost.md).
    Cost(CostArgs),
}

/// Where the fleet comes from.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// The fleet file (YAML).
    #[arg(
        long,
        env = "PREVIEW_TOWER_CONFIG",
        value_name = "FLEET.yaml",
        required_unless_present = "demo"
    )]
    pub config: Option<PathBuf>,
    /// Use the embedded demo fleet and pull requests: no network, no credentials.
    #[arg(long, env = "PREVIEW_TOWER_DEMO", conflicts_with = "config")]
    pub demo: bool,
}

/// How to reach GitHub.
#[derive(Debug, Args)]
pub struct GitHubArgs {
    /// GitHub REST API base URL (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(
        long,
        env = "PREVIEW_TOWER_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: Url,
    /// File holding a GitHub token (personal access token or fine-grained token).
    #[arg(long, env = "PREVIEW_TOWER_GITHUB_TOKEN_FILE", value_name = "PATH")]
    pub github_token_file: Option<PathBuf>,
    /// A GitHub token, from the environment only.
    #[arg(
        long = "github-token",
        env = "PREVIEW_TOWER_GITHUB_TOKEN",
        hide = true,
        hide_env_values = true
    )]
    pub github_token: Option<String>,
    /// GitHub App id (with --github-app-key-file), instead of a token.
    #[arg(
        long,
        env = "PREVIEW_TOWER_GITHUB_APP_ID",
        requires = "github_app_key_file"
    )]
    pub github_app_id: Option<u64>,
    /// File holding the GitHub App's private key (PEM).
    #[arg(
        long,
        env = "PREVIEW_TOWER_GITHUB_APP_KEY_FILE",
        value_name = "PATH",
        requires = "github_app_id"
    )]
    pub github_app_key_file: Option<PathBuf>,
    /// Timeout of each GitHub request.
    #[arg(long, env = "PREVIEW_TOWER_GITHUB_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub github_timeout: Duration,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Address of the plugin endpoint (Argo CD's ApplicationSet controller only).
    #[arg(long, env = "PREVIEW_TOWER_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Path prefixes the plugin also answers under, comma-separated (for an Argo CD
    /// `baseUrl` with a path, e.g. `/preview-tower`); without, only
    /// `/api/v1/getparams.execute`.
    #[arg(
        long,
        env = "PREVIEW_TOWER_PLUGIN_BASE_PATH",
        value_delimiter = ',',
        value_parser = parse_base_path
    )]
    pub plugin_base_path: Vec<String>,
    /// Address of the GitHub webhook receiver (with a webhook secret): the one port to publish
    /// through an Ingress. It serves `POST /api/v1/webhooks/github` and nothing else.
    #[arg(
        long,
        env = "PREVIEW_TOWER_WEBHOOK_LISTEN",
        default_value = "0.0.0.0:8081"
    )]
    pub webhook_listen: SocketAddr,
    /// Most webhook body bytes held in memory at once, in MiB, across every delivery being read
    /// (beyond, deliveries are refused with `503` and `Retry-After` before being read); at least
    /// 25 (GitHub's largest delivery).
    #[arg(
        long,
        env = "PREVIEW_TOWER_WEBHOOK_BUDGET_MIB",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(25..=4096)
    )]
    pub webhook_budget_mib: u32,
    /// Address of `/healthz`, `/readyz` and `/metrics`.
    #[arg(
        long,
        env = "PREVIEW_TOWER_ADMIN_LISTEN",
        default_value = "0.0.0.0:9090"
    )]
    pub admin_listen: SocketAddr,
    /// File holding the bearer token Argo CD sends (the plugin token Secret, mounted).
    #[arg(long, env = "PREVIEW_TOWER_PLUGIN_TOKEN_FILE", value_name = "PATH")]
    pub plugin_token_file: Option<PathBuf>,
    /// The plugin token, from the environment only.
    #[arg(
        long = "plugin-token",
        env = "PREVIEW_TOWER_PLUGIN_TOKEN",
        hide = true,
        hide_env_values = true
    )]
    pub plugin_token: Option<String>,
    /// Log format.
    #[arg(
        long,
        env = "PREVIEW_TOWER_LOG_FORMAT",
        value_enum,
        default_value = "plain"
    )]
    pub log_format: LogFormat,
    /// File holding the GitHub webhook secret (the App's webhook secret, mounted). With it,
    /// `POST /api/v1/webhooks/github` is served and the poll interval becomes the fleet's
    /// `refresh_interval_with_webhooks`.
    #[arg(long, env = "PREVIEW_TOWER_WEBHOOK_SECRET_FILE", value_name = "PATH")]
    pub webhook_secret_file: Option<PathBuf>,
    #[command(flatten)]
    pub lifecycle: lifecycle::LifecycleArgs,
}

/// `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub github: GitHubArgs,
    /// Only this service's parameter sets.
    #[arg(long, env = "PREVIEW_TOWER_SERVICE")]
    pub service: Option<String>,
    /// Plan as of this moment (RFC 3339, e.g. `2026-11-28T21:00:00Z`) instead of now: which
    /// previews would sleep, be warned about or have expired then, with what GitHub shows now.
    #[arg(long, value_parser = parse_moment)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Log format (logs go to stderr).
    #[arg(
        long,
        env = "PREVIEW_TOWER_LOG_FORMAT",
        value_enum,
        default_value = "plain"
    )]
    pub log_format: LogFormat,
}

/// A `--plugin-base-path` value.
fn parse_base_path(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    if crate::http::valid_base_path(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a path prefix: write e.g. `/preview-tower` (letters, digits, `-`, `_`, `.`, `~` between slashes)"
        ))
    }
}

/// An RFC 3339 moment, for `plan --at`.
fn parse_moment(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{e}: write e.g. 2026-11-28T21:00:00Z"))
}

/// How `plan` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// What Argo CD receives (`output.parameters`), plus `diagnostics` and `excluded`.
    Json,
    /// A readable table with the diagnostics.
    Table,
}

/// `check-config`.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The repo config file to check.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// The fleet file, to check the fleet's bounds too (known dependencies, maximum TTL).
    #[arg(long, env = "PREVIEW_TOWER_CONFIG", value_name = "FLEET.yaml")]
    pub config: Option<PathBuf>,
    /// The service the repo config belongs to (needed with --config when the fleet has more
    /// than one service).
    #[arg(long, env = "PREVIEW_TOWER_SERVICE")]
    pub service: Option<String>,
}

/// `cost`.
#[derive(Debug, Args)]
pub struct CostArgs {
    /// The fleet file whose policies and prices are used (default: the demo fleet).
    #[arg(long, env = "PREVIEW_TOWER_CONFIG", value_name = "FLEET.yaml")]
    pub fleet: Option<std::path::PathBuf>,
    /// Replay a synthetic month of PR activity.
    #[arg(long, conflicts_with = "trace")]
    pub simulate: bool,
    /// Replay a recorded trace of PR events (JSON lines, see docs/cost.md).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    /// Engineers opening PRs in the simulation (1 to 10000).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub engineers: u32,
    /// Days simulated (1 to 366).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// Seed of the simulation: the same seed gives the same trace and report.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Save the simulated trace to this file (JSON lines), to replay with --trace.
    #[arg(long, value_name = "FILE", requires = "simulate")]
    pub write_trace: Option<std::path::PathBuf>,
    /// Start of the window counted in a trace (RFC 3339; default: its first event).
    #[arg(long, value_name = "TIME")]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// End of the window counted in a trace, excluded (RFC 3339; default: its last event).
    #[arg(long, value_name = "TIME")]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::github::octocrab::install_crypto_provider();
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Plan(args) => plan::run(args).await,
        Command::CheckConfig(args) => check::run(&args),
        Command::Cost(args) => cost::run(&args),
    }
}

/// Loads and validates the fleet named by `args`.
pub(crate) fn load_fleet(args: &FleetArgs) -> anyhow::Result<Fleet> {
    let (origin, result) = match &args.config {
        _ if args.demo => ("the demo fleet".to_owned(), crate::demo::fleet()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--config: cannot read {}", path.display()))?;
            (path.display().to_string(), Fleet::from_yaml(&text))
        }
        None => bail!("--config FLEET.yaml or --demo is required"),
    };
    result.map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
        anyhow::anyhow!("invalid fleet in {origin}:\n{}", lines.join("\n"))
    })
}

/// The pull-request source: the demo's, or GitHub with the given credentials.
pub(crate) fn source(demo: bool, args: &GitHubArgs) -> anyhow::Result<Arc<dyn PullRequestSource>> {
    if demo {
        return Ok(Arc::new(crate::demo::DemoSource::new()?));
    }
    Ok(Arc::new(github(args)?))
}

/// The GitHub adapter with the given credentials.
pub(crate) fn github(args: &GitHubArgs) -> anyhow::Result<GitHubSource> {
    let api_url = &args.github_api_url;
    if !api_url.username().is_empty() || api_url.password().is_some() {
        bail!("--github-api-url: put credentials in --github-token-file, not in the URL");
    }
    let credentials = credentials(args)?;
    let source = GitHubSource::new(
        args.github_api_url.clone(),
        credentials,
        args.github_timeout,
    )
    .context("cannot set up the GitHub client")?;
    Ok(source)
}

fn credentials(args: &GitHubArgs) -> anyhow::Result<Credentials> {
    if let (Some(app_id), Some(key_file)) = (args.github_app_id, &args.github_app_key_file) {
        let key = read_secret(key_file, "--github-app-key-file")?;
        return Ok(Credentials::App {
            app_id,
            private_key: key,
        });
    }
    match (&args.github_token_file, &args.github_token) {
        (Some(path), _) => Ok(Credentials::Token(read_secret(
            path,
            "--github-token-file",
        )?)),
        (None, Some(token)) if !token.trim().is_empty() => Ok(Credentials::Token(
            SecretString::from(token.trim().to_owned()),
        )),
        _ => bail!(
            "no GitHub credentials: set --github-token-file (or PREVIEW_TOWER_GITHUB_TOKEN), \
             or --github-app-id with --github-app-key-file; or use --demo"
        ),
    }
}

/// The environment variable holding a GitHub token (there is no flag: `ps` would show it).
pub const GITHUB_TOKEN_ENV: &str = "PREVIEW_TOWER_GITHUB_TOKEN";
/// The environment variable holding the GitHub webhook secret (no flag either).
pub const WEBHOOK_SECRET_ENV: &str = "PREVIEW_TOWER_WEBHOOK_SECRET";
/// The environment variable holding the plugin token (no flag either).
pub const PLUGIN_TOKEN_ENV: &str = "PREVIEW_TOWER_PLUGIN_TOKEN";

/// A secret from the environment, trimmed; `None` when unset, an error when set but empty.
pub(crate) fn secret_from_env(name: &str) -> anyhow::Result<Option<SecretString>> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => bail!("{name} is set but empty"),
        Ok(value) => Ok(Some(SecretString::from(value.trim().to_owned()))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
    }
}

/// Reads a secret from a file, trimmed; an empty file is an error.
pub(crate) fn read_secret(path: &std::path::Path, flag: &str) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{flag}: cannot read {}", path.display()))?;
    let text = text.trim();
    if text.is_empty() {
        bail!("{flag}: {} is empty", path.display());
    }
    Ok(SecretString::from(text.to_owned()))
}
