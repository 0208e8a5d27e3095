//! What the fake GitHub keeps for the write side (deployments, their statuses, PR comments),
//! the routes of those endpoints, what every write goes through (pacing rule, write log, JSON
//! parsing, request-schema check), and `Link`-paginated lists. The test hooks to read and
//! steer it all are in `hooks`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{Endpoint, State};
use super::serve::{Reply, Route, SCHEMAS, record, secondary_limit};
use super::{comments, deployments};
use crate::support::conformance;

/// The login behind every token but the App's installation tokens (`GET /user`): who the
/// deployments and comments made with one are by. (Those made with an installation token are
/// by the App's bot, `<slug>[bot]`: the same login unless a test names another slug.)
pub const BOT_LOGIN: &str = "preview-tower[bot]";

/// A deployment as the fake holds it.
#[derive(Clone, Debug)]
pub struct FakeDeployment {
    /// GitHub's id (increasing).
    pub id: u64,
    /// `environment` (changed by a status that names another one, as on GitHub).
    pub environment: String,
    /// The commit `ref` resolved to.
    pub sha: String,
    /// `ref` as sent.
    pub reference: String,
    /// `task`.
    pub task: String,
    /// `payload` as sent (object or string).
    pub payload: Value,
    /// `description`.
    pub description: String,
    /// `transient_environment`.
    pub transient: bool,
    /// `production_environment`.
    pub production: bool,
    /// Who made it.
    pub creator: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Its statuses, oldest first.
    pub statuses: Vec<FakeStatus>,
}

/// A deployment status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeStatus {
    /// GitHub's id (increasing).
    pub id: u64,
    /// `state`.
    pub state: String,
    /// `environment_url`, `""` when not given.
    pub environment_url: String,
    /// `log_url` (also `target_url`), `""` when not given.
    pub log_url: String,
    /// `description`, `""` when not given.
    pub description: String,
}

/// A comment on a pull request.
#[derive(Clone, Debug)]
pub struct FakeComment {
    /// GitHub's id (increasing).
    pub id: u64,
    /// The PR.
    pub number: u64,
    /// Markdown.
    pub body: String,
    /// Author login.
    pub author: String,
    /// The author's `author_association` with the repository (`MEMBER`, `NONE`, ...).
    pub association: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub updated_at: DateTime<Utc>,
}

/// Counters, hooks and the write log.
#[derive(Debug)]
pub struct Reporting {
    pub next_deployment: u64,
    pub next_status: u64,
    pub next_comment: u64,
    /// Refs are behind the base branch: `auto_merge` other than `false` gets a 202.
    pub behind_base: bool,
    /// Status checks are pending: `required_contexts` other than `[]` gets a 409.
    pub checks_pending: bool,
    /// Writes closer than this to the previous one get a secondary rate limit.
    pub write_spacing: Option<Duration>,
    /// When each write request arrived (refused ones included: GitHub counts them too).
    pub writes: Vec<Instant>,
}

impl Default for Reporting {
    fn default() -> Self {
        // Apart, so that a test mixing up ids finds nothing.
        Self {
            next_deployment: 1_000_001,
            next_status: 2_000_001,
            next_comment: 3_000_001,
            behind_base: false,
            checks_pending: false,
            write_spacing: None,
            writes: Vec::new(),
        }
    }
}

/// How a route names its repository.
pub enum RepoRef<'a> {
    /// `/repos/{owner}/{name}/...`.
    Name(&'a str, &'a str),
    /// `/repositories/{id}/...`, as in GitHub's `Link` headers.
    Id(&'a str),
}

/// The write-side endpoint of `method` and path `segs`, its repository, and the id or number
/// in its path.
pub(super) fn route<'a>(method: &str, segs: &[&'a str]) -> Option<(Endpoint, RepoRef<'a>, String)> {
    let (repo, rest) = match segs {
        ["repos", o, r, rest @ ..] => (RepoRef::Name(o, r), rest),
        ["repositories", id, rest @ ..] => (RepoRef::Id(id), rest),
        _ => return None,
    };
    let by_name = matches!(repo, RepoRef::Name(..));
    let (endpoint, path) = match (method, rest) {
        ("GET", ["deployments"]) => (Endpoint::Deployments, ""),
        ("POST", ["deployments"]) if by_name => (Endpoint::CreateDeployment, ""),
        ("GET", ["deployments", id, "statuses"]) => (Endpoint::Statuses, *id),
        ("POST", ["deployments", id, "statuses"]) if by_name => (Endpoint::CreateStatus, *id),
        ("GET", ["issues", n, "comments"]) => (Endpoint::Comments, *n),
        ("POST", ["issues", n, "comments"]) if by_name => (Endpoint::CreateComment, *n),
        ("PATCH", ["issues", "comments", id]) if by_name => (Endpoint::UpdateComment, *id),
        _ => return None,
    };
    Some((endpoint, repo, path.to_owned()))
}

/// Answers a write-side request (already authenticated); what it creates is by `writer`.
pub(super) fn answer(
    state: &mut State,
    route: &Route,
    query: &HashMap<String, String>,
    body: &Bytes,
    writer: &str,
) -> Reply {
    let Some(repo) = route.repo.clone().filter(|r| state.repos.contains_key(r)) else {
        return Reply::error(404, "Not Found");
    };
    let schema = match route.endpoint {
        Endpoint::CreateDeployment => "repos.create-deployment.request.schema.json",
        Endpoint::CreateStatus => "repos.create-deployment-status.request.schema.json",
        Endpoint::CreateComment => "issues.create-comment.request.schema.json",
        Endpoint::UpdateComment => "issues.update-comment.request.schema.json",
        Endpoint::Deployments => return deployments::list(state, &repo, query),
        Endpoint::Statuses => return deployments::statuses(state, &repo, &route.path, query),
        Endpoint::Comments => return comments::list(state, &repo, &route.path, query),
        _ => return Reply::error(404, "Not Found"),
    };
    if let Some(refused) = admit_write(state) {
        return refused;
    }
    let request = match parse_request(state, schema, body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    match route.endpoint {
        Endpoint::CreateDeployment => deployments::create(state, &repo, &request, writer),
        Endpoint::CreateStatus => deployments::create_status(state, &repo, &route.path, &request),
        Endpoint::CreateComment => comments::create(state, &repo, &route.path, &request, writer),
        _ => comments::update(state, &repo, &route.path, &request),
    }
}

/// Logs the write, and refuses it with a secondary limit when it comes too soon after the
/// previous one under [`FakeGitHub::enforce_write_spacing`].
fn admit_write(state: &mut State) -> Option<Reply> {
    let now = Instant::now();
    let reporting = &mut state.reporting;
    let previous = reporting.writes.last().copied();
    reporting.writes.push(now);
    let spacing = reporting.write_spacing?;
    let gap = now.duration_since(previous?);
    (gap < spacing).then(|| secondary_limit(spacing.as_secs_f64().ceil().max(1.0) as u64))
}

/// The JSON body, checked against its request schema (violations are recorded and answered
/// 422, as GitHub refuses them). Fields the schema does not name are recorded too: GitHub
/// ignores them silently, which is how a misspelt `auto_merge` would go unnoticed.
fn parse_request(state: &mut State, schema: &str, body: &Bytes) -> Result<Value, Reply> {
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| Reply::error(400, &format!("Problems parsing JSON: {e}")))?;
    let path = format!("{SCHEMAS}/{schema}");
    let mut violations = conformance::validate(&path, &request);
    let known = schema_properties(&path);
    if let (Some(known), Some(object)) = (known, request.as_object()) {
        for field in object.keys().filter(|field| !known.contains(field)) {
            violations.push(conformance::Violation {
                schema: path.clone(),
                instance_path: format!("/{field}"),
                message: format!("{field:?} is not a field of this request"),
            });
        }
    }
    let refused = violations.first().map(|v| v.to_string());
    record(state, violations);
    match refused {
        Some(message) => Err(validation_failed(&format!("Invalid request.\n\n{message}"))),
        None => Ok(request),
    }
}

/// The property names a request schema declares, `None` without the conformance directory.
fn schema_properties(path: &str) -> Option<Vec<String>> {
    let file = conformance::dir()?.join(path);
    let text = std::fs::read_to_string(&file).ok()?;
    let schema: Value = serde_json::from_str(&text).ok()?;
    Some(schema["properties"].as_object()?.keys().cloned().collect())
}

/// GitHub's 422 `validation-error` with one custom error.
pub(super) fn validation_failed(message: &str) -> Reply {
    Reply::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        serde_json::json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": "422"
        }),
        "common.validation-error.schema.json",
    )
}

/// Page `page` of `items` (`per_page` default 30, at most 100) with GitHub's `Link` header,
/// whose targets use `/repositories/{id}/{path}` and keep the other query parameters.
pub(super) fn paged(
    state: &State,
    repo: &str,
    path: &str,
    query: &HashMap<String, String>,
    items: Vec<Value>,
    schema: &'static str,
) -> Reply {
    let number = |name: &str, default: usize| {
        query
            .get(name)
            .and_then(|p| p.parse().ok())
            .unwrap_or(default)
    };
    let per_page = number("per_page", 30).clamp(1, 100);
    let page = number("page", 1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(StatusCode::OK, Value::Array(shown), schema);
    let kept: BTreeMap<&String, &String> = query.iter().filter(|(k, _)| *k != "page").collect();
    let mut encoder = url::form_urlencoded::Serializer::new(String::new());
    encoder.extend_pairs(kept);
    let id = state.repos.get(repo).map_or(0, |r| r.id);
    let base = format!(
        "{}/repositories/{id}/{path}?{}",
        state.base_url,
        encoder.finish()
    );
    let link = |n: usize, rel: &str| format!("<{base}&page={n}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page > 1 {
        links.extend([link(page - 1, "prev"), link(1, "first")]);
    }
    if page < last {
        links.extend([link(page + 1, "next"), link(last, "last")]);
    }
    if !links.is_empty() {
        reply.headers.push(("link", links.join(", ")));
    }
    reply
}

/// `simple-user` of `login`, typed `Bot` for a `[bot]` login.
pub(super) fn author(base: &str, login: &str) -> Value {
    let mut user = super::render::user(base, login);
    if login.ends_with("[bot]") {
        user["type"] = Value::from("Bot");
    }
    user
}
