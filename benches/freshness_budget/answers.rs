//! Plugin answers over real HTTP on loopback: the real router (`preview_tower::http::router`,
//! served by `preview_tower::http::serve` as `main` does) next to a bare axum server that answers
//! the same bytes, pre-rendered, without any check. Both run on their own Tokio runtime; the
//! load generator runs on another one, in the same process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::post;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use preview_tower::http::{self, PLUGIN_PATH, PluginState};
use preview_tower::metrics::Metrics;
use preview_tower::snapshot::{Query, SnapshotStore};

use super::fixture;
use super::load::{self, Load, Outcome, Samples};

/// The plugin token both servers are asked with.
const TOKEN: &str = "bench";
/// The service asked for in one-service requests.
const SERVICE: &str = "svc-7";
const ONE_SERVICE: &str =
    r#"{"applicationSetName":"previews","input":{"parameters":{"service":"svc-7"}}}"#;
const ALL_SERVICES: &str = r#"{"applicationSetName":"previews","input":{}}"#;
const BARE_ONE: &str = "/bare/one-service";
const BARE_ALL: &str = "/bare/all";

/// What to run.
pub struct Plan {
    /// Services of the fleet (one repo each).
    pub services: usize,
    /// Open PRs per service: one snapshot per entry.
    pub pulls: Vec<u64>,
    /// Concurrent clients: one run per entry, per query, per server.
    pub clients: Vec<usize>,
    /// Runs per server and case, alternating between the two servers so that a change in
    /// what else the machine does hits both alike.
    pub rounds: usize,
    /// Not counted, per run.
    pub warmup: Duration,
    /// Counted, per run.
    pub measure: Duration,
}

/// Which question was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Question {
    /// One service's previews (`input.parameters.service`).
    OneService,
    /// Every preview (`input: {}`).
    AllServices,
}

impl Question {
    /// For tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Self::OneService => "one service",
            Self::AllServices => "all services",
        }
    }
}

/// One measured run.
#[derive(Clone, Debug)]
pub struct Row {
    /// Previews in the snapshot.
    pub previews: usize,
    /// The question.
    pub question: Question,
    /// Concurrent clients.
    pub clients: usize,
    /// `true` for the bare server.
    pub bare: bool,
    /// What was measured.
    pub outcome: Outcome,
}

/// Runs every snapshot size × question × client count against both servers.
pub fn run(servers: &Runtime, clients: &Runtime, plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    for &pulls in &plan.pulls {
        let previews = plan.services * pulls as usize;
        let started = Servers::start(servers, plan.services, pulls);
        clients.block_on(started.check_same_bytes());
        for question in [Question::OneService, Question::AllServices] {
            for &count in &plan.clients {
                let mut samples = [Samples::default(), Samples::default()];
                for _ in 0..plan.rounds {
                    for (bare, into) in [false, true].into_iter().zip(samples.iter_mut()) {
                        let (addr, path, body) = started.target(question, bare);
                        into.absorb(clients.block_on(load::run(&Load {
                            addr,
                            path,
                            body,
                            token: TOKEN,
                            clients: count,
                            warmup: plan.warmup,
                            measure: plan.measure,
                        })));
                    }
                }
                for (bare, samples) in [false, true].into_iter().zip(samples) {
                    let row = Row {
                        previews,
                        question,
                        clients: count,
                        bare,
                        outcome: samples.outcome(),
                    };
                    super::report::print_answer_row(&row);
                    rows.push(row);
                }
            }
        }
        started.cancel.cancel();
    }
    rows
}

/// The real service and the bare server, both listening on loopback.
struct Servers {
    real: SocketAddr,
    bare: SocketAddr,
    one: Bytes,
    all: Bytes,
    cancel: CancellationToken,
}

impl Servers {
    fn start(runtime: &Runtime, services: usize, pulls: u64) -> Self {
        let snapshot = fixture::snapshot(services, pulls);
        let one = snapshot
            .answer(&Query::Service(SERVICE.to_owned()))
            .expect("the bench service is synced");
        let all = snapshot
            .answer(&Query::All)
            .expect("every service is synced");
        let real_router = http::router(PluginState {
            store: Arc::new(SnapshotStore::from_pointee(snapshot)),
            token: Arc::new(SecretString::from(TOKEN)),
            metrics: Arc::new(Metrics::unregistered()),
        });
        let bare_router = bare_router(one.clone(), all.clone());
        let cancel = CancellationToken::new();
        let bind = || {
            runtime
                .block_on(TcpListener::bind("127.0.0.1:0"))
                .expect("bind 127.0.0.1:0")
        };
        let (real_listener, bare_listener) = (bind(), bind());
        let real = real_listener.local_addr().expect("local address");
        let bare = bare_listener.local_addr().expect("local address");
        let limits = http::Limits::PLUGIN;
        let served = http::serve(
            real_listener,
            real_router,
            limits,
            "plugin",
            None,
            cancel.clone(),
        );
        runtime.spawn(served);
        let stop = cancel.clone();
        runtime.spawn(async move {
            axum::serve(bare_listener, bare_router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        Self {
            real,
            bare,
            one,
            all,
            cancel,
        }
    }

    fn target(&self, question: Question, bare: bool) -> (SocketAddr, &'static str, &'static str) {
        match (question, bare) {
            (Question::OneService, false) => (self.real, PLUGIN_PATH, ONE_SERVICE),
            (Question::AllServices, false) => (self.real, PLUGIN_PATH, ALL_SERVICES),
            (Question::OneService, true) => (self.bare, BARE_ONE, ONE_SERVICE),
            (Question::AllServices, true) => (self.bare, BARE_ALL, ALL_SERVICES),
        }
    }

    /// Both servers answer both questions with the same bytes, over HTTP.
    async fn check_same_bytes(&self) {
        for (question, expected) in [
            (Question::OneService, &self.one),
            (Question::AllServices, &self.all),
        ] {
            for bare in [false, true] {
                let (addr, path, body) = self.target(question, bare);
                let (status, answer) = load::fetch(addr, path, body, TOKEN).await;
                assert_eq!(status, 200, "{question:?}, bare {bare}");
                assert!(
                    answer == *expected,
                    "{question:?}, bare {bare}: not the snapshot's bytes"
                );
            }
        }
    }
}

/// The physical limit: the request body read, the pre-rendered answer sent; nothing else.
fn bare_router(one: Bytes, all: Bytes) -> Router {
    let answer = |bytes: Bytes| {
        post(move |_request: Bytes| {
            let bytes = bytes.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], bytes) }
        })
    };
    Router::new()
        .route(BARE_ONE, answer(one))
        .route(BARE_ALL, answer(all))
}
