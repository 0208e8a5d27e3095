//! The board's port (`--board-listen`): the previews board, read-only. `GET /` is the page,
//! `GET /fragment` its live part (what the page's script swaps in), `GET /api/v1/previews` the
//! JSON, `GET /assets/board.css|js`; nothing else, and nothing of the plugin, webhook or admin
//! ports. Every answer is built from the current snapshot, the Applications and the cost
//! meter: no GitHub call, no secret. The page's Content Security Policy allows no inline
//! script or style and nothing from elsewhere.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::Utc;
use url::Url;

use crate::board::page::{self, Choices};
use crate::board::{self, Board, Filter, Inputs};
use crate::cost::meter::SharedMeter;
use crate::fleet::Fleet;
use crate::lifecycle::Observed;
use crate::snapshot::SnapshotStore;

/// The Applications as Argo CD shows them; `None` when they are not read.
pub type Observe = Arc<dyn Fn() -> Option<Vec<Observed>> + Send + Sync>;

/// What the board's handlers share.
#[derive(Clone)]
pub struct BoardState {
    /// The fleet.
    pub fleet: Arc<Fleet>,
    /// The current snapshot (its plan).
    pub store: Arc<SnapshotStore>,
    /// The Applications.
    pub observe: Observe,
    /// The cost meter.
    pub meter: SharedMeter,
    /// Jira's web address, to link issue keys.
    pub jira_url: Option<Url>,
    /// Jira projects whose keys count (empty: any).
    pub jira_projects: Vec<String>,
    /// Where Argo CD shows the Applications (`<argocd_url>/applications/<namespace>`), when
    /// the fleet's `links` has no `application` template.
    pub applications_url: Option<String>,
}

/// The Content Security Policy of every answer: nothing inline, nothing from elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Boards built at once: each is a walk over every preview, on the runtime that answers Argo
/// CD; beyond, requests wait their turn (and time out after 10 s, as every request does).
const BUILDS_AT_ONCE: usize = 4;

/// The board's router, with every layer; the security headers on every answer, the timeout's
/// and a panic's included.
pub fn board_router(state: BoardState) -> Router {
    // One limit for every route that builds a board (a layer per route would make one each).
    let builds = Router::new()
        .route("/", get(page_answer))
        .route("/fragment", get(fragment_answer))
        .route("/api/v1/previews", get(json_answer))
        .with_state(state)
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            BUILDS_AT_ONCE,
        ));
    let routes = Router::new()
        .route("/assets/board.css", get(stylesheet))
        .route("/assets/board.js", get(script))
        .merge(builds);
    super::with_layers(routes).layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The board changes every minute; its assets only with a release (they set their own).
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The whole board now, unfiltered.
fn current(state: &BoardState) -> Board {
    let snapshot = state.store.load();
    let plan = snapshot.plan();
    let observed = (state.observe)();
    let meter = state.meter.lock().clone();
    board::build(&Inputs {
        fleet: &state.fleet,
        plan,
        observed: observed.as_deref(),
        meter: &meter,
        jira_url: state.jira_url.as_ref(),
        jira_projects: &state.jira_projects,
        argocd_url: state.applications_url.as_deref(),
        now: Utc::now(),
    })
}

/// A bad query filters nothing (a hand-edited link still shows the board).
fn filter_of(query: Result<Query<Filter>, axum::extract::rejection::QueryRejection>) -> Filter {
    query.map(|Query(f)| f).unwrap_or_default().cleaned()
}

async fn page_answer(
    State(state): State<BoardState>,
    query: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> impl IntoResponse {
    let filter = filter_of(query);
    let board = current(&state);
    let choices = Choices {
        services: state
            .fleet
            .services
            .iter()
            .map(|s| s.name.to_string())
            .collect(),
        authors: board
            .previews
            .iter()
            .map(|r| r.author.clone())
            .filter(|a| !a.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let board = filter.apply(board);
    html(page::page(&board, &filter, &choices).into_string())
}

async fn fragment_answer(
    State(state): State<BoardState>,
    query: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> impl IntoResponse {
    let filter = filter_of(query);
    let board = filter.apply(current(&state));
    html(page::live(&board, &filter).into_string())
}

async fn json_answer(
    State(state): State<BoardState>,
    query: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Json<Board> {
    Json(filter_of(query).apply(current(&state)))
}

fn html(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

/// How long a browser may keep the stylesheet and the script.
const ASSETS_CACHE: &str = "private, max-age=3600";

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, ASSETS_CACHE),
        ],
        page::STYLESHEET,
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, ASSETS_CACHE),
        ],
        page::SCRIPT,
    )
}
