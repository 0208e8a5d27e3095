//! The command line: `serve`, `plan`, `check-config` and `cost`.
//!
//! Every flag has an environment twin (`PREVIEW_TOWER_*`). Secrets come from files or the
//! environment, never from flags that `ps` would show. Everything is validated before anything
//! starts; a bad value exits non-zero with one message naming the flag.

mod check;
mod cost;
mod lifecycle;
mod plan;
mod secrets;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::fleet::Fleet;
use crate::github::PullRequestSource;
use crate::github::auth::Credentials;
use crate::github::octocrab::{GitHubSource, GraphqlMode};
use crate::telemetry::LogFormat;

pub use secrets::{GITHUB_TOKEN_ENV, JIRA_TOKEN_ENV, PLUGIN_TOKEN_ENV, WEBHOOK_SECRET_ENV};
pub(crate) use secrets::{read_secret, secret_from_env};

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
    Plan(Box<PlanArgs>),
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
    /// File holding a GitHub token (personal access token or fine-grained token); or set
    /// PREVIEW_TOWER_GITHUB_TOKEN. Not with --demo, which never calls GitHub.
    #[arg(
        long,
        env = "PREVIEW_TOWER_GITHUB_TOKEN_FILE",
        value_name = "PATH",
        conflicts_with = "demo"
    )]
    pub github_token_file: Option<PathBuf>,
    /// GitHub App id (with --github-app-key-file), instead of a token.
    #[arg(
        long,
        env = "PREVIEW_TOWER_GITHUB_APP_ID",
        requires = "github_app_key_file",
        conflicts_with = "demo"
    )]
    pub github_app_id: Option<u64>,
    /// File holding the GitHub App's private key (PEM).
    #[arg(
        long,
        env = "PREVIEW_TOWER_GITHUB_APP_KEY_FILE",
        value_name = "PATH",
        requires = "github_app_id",
        conflicts_with = "demo"
    )]
    pub github_app_key_file: Option<PathBuf>,
    /// Timeout of each GitHub request.
    #[arg(long, env = "PREVIEW_TOWER_GITHUB_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub github_timeout: Duration,
    /// Read pull requests' facts in bulk through GitHub's GraphQL API (`on`), or one REST
    /// request each (`off`). With `on`, a GitHub Enterprise Server without GraphQL, or whose
    /// schema lacks a field, is read over REST by itself (logged once, and counted in
    /// `preview_tower_github_graphql_fallback_repos`).
    #[arg(long, env = "PREVIEW_TOWER_GITHUB_GRAPHQL", default_value = "on", value_parser = ["on", "off"])]
    pub github_graphql: String,
    /// GitHub's GraphQL endpoint, when not the one the REST URL implies
    /// (`https://api.github.com/graphql`; `https://HOST/api/graphql` for
    /// `https://HOST/api/v3`).
    #[arg(long, env = "PREVIEW_TOWER_GITHUB_GRAPHQL_URL")]
    pub github_graphql_url: Option<Url>,
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
    /// Address of the previews board (`docs/board.md`): the page, its JSON at
    /// `/api/v1/previews`, nothing else. Off unless set (e.g. `0.0.0.0:8082`); put it behind
    /// the previews' sign-in.
    #[arg(long, env = "PREVIEW_TOWER_BOARD_LISTEN")]
    pub board_listen: Option<SocketAddr>,
    /// File holding the bearer token Argo CD sends (the plugin token Secret, mounted); or set
    /// PREVIEW_TOWER_PLUGIN_TOKEN. With --demo too (instead of `demo-token`).
    #[arg(long, env = "PREVIEW_TOWER_PLUGIN_TOKEN_FILE", value_name = "PATH")]
    pub plugin_token_file: Option<PathBuf>,
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

/// Parses the command line `args` (the program's name first), as `main` does with
/// `std::env::args_os()`. A flag that would carry a secret (`--github-token`, `--plugin-token`,
/// ...) is refused with where the secret goes instead, and its value is never repeated: `ps`
/// and shell histories show every argument.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser as _;
    Cli::try_parse_from(args).map_err(secrets::refuse_secret_flag)
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::tls::install_crypto_provider();
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Plan(args) => plan::run(*args).await,
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
    if let Some(url) = &args.github_graphql_url {
        if !url.username().is_empty() || url.password().is_some() {
            bail!("--github-graphql-url: put credentials in --github-token-file, not in the URL");
        }
        if !matches!(url.scheme(), "http" | "https") {
            bail!("--github-graphql-url: {url} is not an http(s) URL");
        }
    }
    let mode = match args.github_graphql.as_str() {
        "off" => GraphqlMode::Off,
        _ => GraphqlMode::On(args.github_graphql_url.clone()),
    };
    let source = GitHubSource::new(
        args.github_api_url.clone(),
        credentials,
        args.github_timeout,
    )
    .and_then(|source| source.with_graphql(mode))
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
    if let Some(path) = &args.github_token_file {
        return Ok(Credentials::Token(read_secret(
            path,
            "--github-token-file",
        )?));
    }
    match secret_from_env(GITHUB_TOKEN_ENV)? {
        Some(token) => Ok(Credentials::Token(token)),
        None => bail!(
            "no GitHub credentials: set --github-token-file or {GITHUB_TOKEN_ENV}, \
             or --github-app-id with --github-app-key-file; or use --demo"
        ),
    }
}

#[cfg(test)]
mod tests;
