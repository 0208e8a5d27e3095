//! `preview-tower serve`: the plugin and admin servers, fed by the sync loops.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use prometheus_client::registry::Registry;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::ServeArgs;
use crate::argocd::refresh::ApplicationSetRefresher;
use crate::cost::meter::SharedMeter;
use crate::freshness::Freshness;
use crate::freshness::sink::FreshnessSink;
use crate::github::{Collaborators, PreviewReporter, PullRequestSource};
use crate::http::webhook::ByteBudget;
use crate::http::{self, AdminState, BoardState, Limits, PluginState};
use crate::http::{DeliveryLog, WebhookState};
use crate::metrics::Metrics;
use crate::snapshot::{Snapshot, SnapshotStore};
use crate::sync::Syncer;

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(args.log_format);
    let fleet = Arc::new(super::load_fleet(&args.fleet)?);
    let token = plugin_token(&args)?;
    // One GitHub client serves reads, lifecycle writes and command checks (one token cache).
    let github = if args.fleet.demo {
        None
    } else {
        Some(Arc::new(super::github(&args.github)?))
    };
    let source: Arc<dyn PullRequestSource> = match &github {
        Some(github) => github.clone(),
        None => super::source(true, &args.github)?,
    };
    let reporter = github
        .clone()
        .map(|github| -> Arc<dyn PreviewReporter> { github });
    let collaborators = github.map(|github| -> Arc<dyn Collaborators> { github });
    let kube = kubernetes(args.fleet.demo).await;
    let meter = SharedMeter::default();
    let lifecycle =
        super::lifecycle::parts(&args.lifecycle, reporter, kube.clone(), meter.clone())?;
    let webhook_secret = webhook_secret(&args)?;
    let refresher = match (&webhook_secret, args.fleet.demo) {
        (Some(_), false) => {
            let client = kube.clone().context(
                "webhooks refresh Argo CD's ApplicationSets: the Kubernetes API is needed \
                 (in-cluster service account or KUBECONFIG)",
            )?;
            Some(ApplicationSetRefresher::new(
                client,
                &args.lifecycle.argocd_namespace,
            ))
        }
        _ => None,
    };

    let mut registry = Registry::default();
    let metrics = Arc::new(Metrics::new(&mut registry));
    // GitHub's budget as its answers said (zeros for the demo, which has no GitHub).
    source
        .rate_limits()
        .unwrap_or_default()
        .register(&mut registry);
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let mut syncer = Syncer::new(
        Arc::clone(&fleet),
        source,
        Arc::clone(&store),
        Arc::clone(&metrics),
    )
    .with_interval(fleet.poll_interval(webhook_secret.is_some()));
    // Commands in PR timelines are honoured only from authors with write access.
    if let Some(collaborators) = collaborators {
        syncer = syncer.with_collaborators(collaborators);
    }
    // Argo CD's Applications: which previews exist, across restarts (the sync's hold rule), and
    // their state (the lifecycle). One watch serves both.
    let cancel = CancellationToken::new();
    let applications = kube.map(|client| {
        crate::argocd::watch::spawn(
            client,
            args.lifecycle.argocd_namespace.clone(),
            Arc::clone(&metrics),
            cancel.clone(),
        )
    });
    // The demo plays Argo CD with Applications of its own (`demo::applications`).
    let demo_index = args.fleet.demo.then(|| crate::demo::applications(&fleet));
    let read_index = applications
        .as_ref()
        .map(|(index, _)| index)
        .or(demo_index.as_ref())
        .map(Arc::clone);
    if let Some(index) = &read_index {
        syncer = syncer.with_applications(Arc::clone(index));
    }
    let syncer = Arc::new(syncer);
    let freshness = Arc::new(Freshness::new(
        Arc::clone(&syncer),
        Arc::clone(&fleet),
        refresher,
        Arc::clone(&metrics),
    ));

    let (lifecycle_store, lifecycle_metrics) = (Arc::clone(&store), Arc::clone(&metrics));
    let plugin = http::router_with_base_paths(
        PluginState {
            store: Arc::clone(&store),
            token: Arc::new(token),
            metrics: Arc::clone(&metrics),
        },
        &args.plugin_base_path,
    );
    let webhook = webhook_secret.map(|secret| {
        let sink = FreshnessSink::new(Arc::clone(&freshness));
        let budget_bytes = usize::try_from(args.webhook_budget_mib)
            .unwrap_or(usize::MAX)
            .saturating_mul(1024 * 1024);
        http::webhook_routes(WebhookState {
            secret: Arc::new(secret),
            deliveries: Arc::new(DeliveryLog::default()),
            budget: Arc::new(ByteBudget::new(budget_bytes)),
            sink: Arc::new(sink),
            metrics: Arc::clone(&metrics),
        })
    });
    let ready_syncer = Arc::clone(&syncer);
    let admin = http::admin_router(AdminState {
        store,
        ready: Arc::new(move || ready_syncer.first_round_done()),
        registry: Arc::new(registry),
    });

    tokio::spawn(shutdown_on_signal(cancel.clone()));
    let sync = tokio::spawn(Arc::clone(&syncer).run(cancel.clone()));
    let sync_died = tokio::spawn(stop_if_sync_dies(sync, cancel.clone()));
    let (index, watch_died) = match applications {
        Some((index, watch)) => {
            let follow = tokio::spawn(crate::sync::follow_applications(
                Arc::clone(&syncer),
                Arc::clone(&index),
                cancel.clone(),
            ));
            let died = (
                tokio::spawn(stop_if_sync_dies(watch, cancel.clone())),
                tokio::spawn(stop_if_sync_dies(follow, cancel.clone())),
            );
            (Some(index), Some(died))
        }
        None => (None, None),
    };
    let freshness_task = tokio::spawn(Arc::clone(&freshness).run(cancel.clone()));
    let freshness_died = tokio::spawn(stop_if_sync_dies(freshness_task, cancel.clone()));
    let board = args.board_listen.map(|address| {
        let observe: http::Observe = match &read_index {
            Some(index) => {
                let index = Arc::clone(index);
                Arc::new(move || index.observed())
            }
            None => Arc::new(|| None),
        };
        let router = http::board_router(BoardState {
            fleet: Arc::clone(&fleet),
            store: Arc::clone(&lifecycle_store),
            observe,
            meter: meter.clone(),
            jira_url: args.lifecycle.jira.jira_url.clone(),
            jira_projects: args.lifecycle.jira.jira_projects.clone(),
            applications_url: super::lifecycle::applications_url(&args.lifecycle),
        });
        (address, router)
    });
    if args.fleet.demo {
        crate::demo::seed_meter(&fleet, &mut meter.lock(), chrono::Utc::now());
    }
    tokio::spawn(crate::cost::meter::run(
        Arc::clone(&lifecycle_store),
        Arc::clone(&lifecycle_metrics),
        meter,
        cancel.clone(),
    ));
    // `parts` exist only with the Kubernetes API, hence with the index.
    let lifecycle_died = lifecycle.zip(index).map(|(parts, index)| {
        let task = crate::reconcile::start(
            parts,
            Arc::clone(&fleet),
            Arc::clone(&lifecycle_store),
            Arc::clone(&lifecycle_metrics),
            index,
            cancel.child_token(),
        );
        tokio::spawn(stop_if_sync_dies(task, cancel.clone()))
    });
    let mut listeners = vec![
        Listener::bind("plugin", args.listen, plugin, Limits::PLUGIN, "--listen").await?,
        Listener::bind(
            "admin",
            args.admin_listen,
            admin,
            Limits::ADMIN,
            "--admin-listen",
        )
        .await?,
    ];
    if let Some(webhook) = webhook {
        let (address, flag) = (args.webhook_listen, "--webhook-listen");
        listeners.push(Listener::bind("webhook", address, webhook, Limits::WEBHOOK, flag).await?);
    }
    if let Some((address, router)) = board {
        let flag = "--board-listen";
        listeners.push(Listener::bind("board", address, router, Limits::BOARD, flag).await?);
        info!(board = %address, "previews board serving");
    }
    raise_file_limit();
    info!(listen = %args.listen, admin = %args.admin_listen,
        webhook = listeners.iter().any(|l| l.name == "webhook"), services = fleet.services.len(),
        demo = args.fleet.demo, "preview-tower serving");
    let served = futures::future::join_all(
        listeners
            .into_iter()
            .map(|l| l.serve(Arc::clone(&lifecycle_metrics), cancel.clone())),
    )
    .await;
    cancel.cancel();
    let mut sync_failed = sync_died.await.unwrap_or(true) | freshness_died.await.unwrap_or(true);
    if let Some((watch, follow)) = watch_died {
        sync_failed |= watch.await.unwrap_or(true) | follow.await.unwrap_or(true);
    }
    let lifecycle_failed = match lifecycle_died {
        Some(died) => died.await.unwrap_or(true),
        None => false,
    };
    served.into_iter().collect::<anyhow::Result<()>>()?;
    if sync_failed || lifecycle_failed {
        bail!("a background task stopped unexpectedly; exiting so that the pod restarts");
    }
    info!("preview-tower stopped");
    Ok(ExitCode::SUCCESS)
}

/// A bound listener and what it serves.
struct Listener {
    name: &'static str,
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
}

impl Listener {
    async fn bind(
        name: &'static str,
        address: std::net::SocketAddr,
        router: axum::Router,
        limits: Limits,
        flag: &str,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("{flag}: cannot bind {address}"))?;
        Ok(Self {
            name,
            listener,
            router,
            limits,
        })
    }

    async fn serve(self, metrics: Arc<Metrics>, cancel: CancellationToken) -> anyhow::Result<()> {
        let name = self.name;
        http::serve(
            self.listener,
            self.router,
            self.limits,
            name,
            Some(metrics),
            cancel,
        )
        .await
        .with_context(|| format!("{name} server"))
    }
}

/// Raises the soft limit of open files to the hard one: every listener's connection cap must
/// fit, with GitHub's and Kubernetes' connections besides.
fn raise_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => info!(limit, "open files limit"),
        Err(error) => warn!(%error, "cannot raise the open files limit"),
    }
}

/// The Kubernetes API (in-cluster service account or `KUBECONFIG`), when one is configured;
/// never for the demo. Without it the sync cannot see Argo CD's Applications and is
/// conservative after a restart (see `sync/hold.rs`).
async fn kubernetes(demo: bool) -> Option<kube::Client> {
    if demo {
        return None;
    }
    match kube::Client::try_default().await {
        Ok(client) => Some(client),
        Err(error) => {
            warn!(error = %error,
                "no Kubernetes API: Argo CD's Applications cannot be read, so after a restart a \
                 service answers only once every labelled PR of it has been read");
            None
        }
    }
}

/// The webhook secret from the file or the environment, if webhooks are configured.
fn webhook_secret(args: &ServeArgs) -> anyhow::Result<Option<SecretString>> {
    if let Some(path) = &args.webhook_secret_file {
        return super::read_secret(path, "--webhook-secret-file").map(Some);
    }
    super::secret_from_env(super::WEBHOOK_SECRET_ENV)
}

/// The plugin token from the file or the environment; the demo's when neither is given in demo
/// mode (printed, since it protects nothing real).
fn plugin_token(args: &ServeArgs) -> anyhow::Result<SecretString> {
    if let Some(path) = &args.plugin_token_file {
        return super::read_secret(path, "--plugin-token-file");
    }
    if let Some(token) = super::secret_from_env(super::PLUGIN_TOKEN_ENV)? {
        return Ok(token);
    }
    if !args.fleet.demo {
        bail!(
            "no plugin token: set --plugin-token-file or {} \
             (the value Argo CD sends, from the plugin's token Secret)",
            super::PLUGIN_TOKEN_ENV
        );
    }
    let token = crate::demo::DEMO_TOKEN;
    let port = args.listen.port();
    println!(
        "preview-tower demo: plugin token `{token}` (set {} or --plugin-token-file to choose one)",
        super::PLUGIN_TOKEN_ENV
    );
    println!(
        "try: curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \
         -d '{{\"applicationSetName\":\"previews\",\"input\":{{\"parameters\":{{}}}}}}' \
         http://127.0.0.1:{port}{}",
        http::PLUGIN_PATH
    );
    Ok(SecretString::from(token.to_owned()))
}

/// Waits for a background task (the sync loops, the lifecycle); if it ends before shutdown (a
/// panic), stops the servers too: a plugin answering from a snapshot that nothing refreshes any
/// more, or previews nobody reports, must not look healthy. Returns whether it died.
async fn stop_if_sync_dies(sync: tokio::task::JoinHandle<()>, cancel: CancellationToken) -> bool {
    let result = sync.await;
    if cancel.is_cancelled() && result.is_ok() {
        return false;
    }
    tracing::error!(
        panicked = result.is_err(),
        "a background task stopped; shutting down"
    );
    cancel.cancel();
    true
}

async fn shutdown_on_signal(cancel: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    info!("shutting down");
    cancel.cancel();
}
