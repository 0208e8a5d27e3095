//! The fake's GraphQL API: `POST /graphql` (`POST /api/graphql` beside an Enterprise Server's
//! `/api/v3`), answered from the same world as the REST side.
//!
//! Every document received is validated with apollo-compiler against GitHub's schema (from
//! the conformance directory), its variables too: a violation is recorded (the test fails at
//! the drop) and answered as GitHub answers a static validation error (`200`, `errors`, no
//! `data`). A valid one is executed by walking it (`exec`) over the world (`world`, `suites`,
//! `items`): `rateLimit`, `repository(owner:, name:)`, `object(oid:)` → `Commit` (`oid`,
//! `file(path:)`, `checkSuites`), `pullRequest(number:)` → `timelineItems`. Anything else is
//! recorded as not implemented. Its cost is GitHub's documented rule (`cost`), reported in
//! `rateLimit.cost`, charged to a GraphQL budget apart from REST's, and in
//! `x-ratelimit-*` headers with `x-ratelimit-resource: graphql`. Authentication is the REST
//! repository endpoints': an installation token of another owner sees `repository: null` with
//! `NOT_FOUND`, as on GitHub.
//!
//! Faults on `Endpoint::Graphql` (`containing` matches the query, a new line, the variables as
//! JSON): `Status`, `Malformed`, `SecondaryLimit`, `TooManyRequests`, `RateLimited` answer as
//! for REST (not charged); `Timeout(d)`/`LoseAnswer(d)` delay the answer by `d`;
//! `GraphqlRateLimited`, `GraphqlServerTimeout` (charged), `GraphqlNodeError`,
//! `GraphqlRefuses` answer GitHub's GraphQL shapes (see [`Fault`]).
//!
//! The "same world" rule: a REST rule about reading a fact applies to the GraphQL read of that
//! fact (`facts`). When `file(path:)` at a commit, a commit's `checkSuites` or a PR's
//! `timelineItems` is resolved, the rules naming `Endpoint::Contents`, `Endpoint::CheckRuns` or
//! `Endpoint::Timeline` are consulted with the REST request the service would send for it
//! (`/repos/{o}/{r}/contents/{path}?ref={sha}`, the parent directory's for a `file` selected
//! without `object`, as the seed's object id is read; `…/commits/{sha}/check-runs?check_name=…
//! &filter=latest&per_page=100`; `…/issues/{n}/timeline?per_page=100`), their `times` used up:
//! `Status`/`Malformed` → that field `null` with an error at its path (`type` `FORBIDDEN` for
//! 401/403, `NOT_FOUND` for 404, else `INTERNAL`), the rest of the data intact;
//! `Timeout(d)` → the whole answer waits `d`; `RateLimited` → the whole answer is the GraphQL
//! rate limit; `SecondaryLimit`/`TooManyRequests` → the whole answer is that secondary limit.

mod budget;
mod cost;
mod exec;
mod facts;
mod hooks;
mod items;
mod refusal;
mod suites;
mod world;

use std::time::Duration;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::Operation;
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use budget::{charge, finish, installation, rate_after, rate_limited, take_fault};
pub use cost::Cost;
use exec::{Exec, Whole};
pub use hooks::graphql_cost;
use refusal::refusal;

use super::endpoints::authenticate;
use super::model::{AuthSeen, Budget, Endpoint, Fault, State};
use super::serve::{Reply, Route, SharedState, fault_reply, secondary_limit};
use crate::support::conformance;
use crate::support::fake_server::{Conformance as _, lock};

/// Points per hour of the GraphQL API (a user's, or an installation's base).
pub(super) const LIMIT: u64 = 5000;

const TIMED_OUT: &str = "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include `0000:1111:2222:3333:4444` when reporting this issue.";

/// The GraphQL API's state.
#[derive(Debug, Default)]
pub struct Graphql {
    /// The endpoint answers 404 (see `disable_graphql`).
    pub disabled: bool,
    /// Points charged so far.
    pub used: u64,
    /// Documents executed (answered with `data`).
    pub queries: usize,
    /// What is left of the hour's points, when a test limits it.
    pub budget: Option<Budget>,
    /// How long every GraphQL answer waits before it is sent.
    pub latency: Duration,
    /// Every request body received (`{"query", "variables", "operationName"}`).
    pub bodies: Vec<Value>,
}

/// The GraphQL path beside an API prefix: `/graphql`, or `/api/graphql` beside `/api/v3`.
pub(super) fn path(prefix: &str) -> String {
    format!("{}/graphql", prefix.strip_suffix("/v3").unwrap_or(prefix))
}

#[derive(Deserialize)]
struct Request {
    query: String,
    #[serde(default)]
    variables: Value,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
}

/// Answers one `POST` to the GraphQL path.
pub(super) async fn handle(
    shared: SharedState,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (response, wait) = {
        let mut state = lock(&shared);
        let mut wait = state.graphql.latency;
        let mut seen = Seen {
            repo: None,
            auth: AuthSeen::None,
        };
        let reply = answer(&mut state, &headers, &body, &mut wait, &mut seen);
        (finish(&mut state, &uri, reply, seen), wait)
    };
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    response
}

/// What the request log keeps of a request.
pub(super) struct Seen {
    pub(super) repo: Option<String>,
    pub(super) auth: AuthSeen,
}

pub(super) fn json_reply(status: u16, body: Value) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Reply {
        schema: None,
        ..Reply::json(status, body, "")
    }
}

fn answer(
    state: &mut State,
    headers: &HeaderMap,
    body: &[u8],
    wait: &mut Duration,
    seen: &mut Seen,
) -> Reply {
    if state.graphql.disabled {
        return json_reply(
            404,
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        );
    }
    let request: Request = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            state.record(format!(
                "GraphQL: the request body is not {{\"query\", \"variables\"}} JSON: {e}"
            ));
            return json_reply(
                400,
                json!({"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"}),
            );
        }
    };
    state.graphql.bodies.push(json!({"query": request.query, "variables": request.variables, "operationName": request.operation_name}));
    let Some(schema) = conformance::github_graphql() else {
        return json_reply(
            200,
            json!({"errors": [{"message": "the fake GitHub cannot execute GraphQL without GitHub's schema (conformance directory missing)"}]}),
        );
    };
    let parsed =
        ExecutableDocument::parse_and_validate(schema, request.query.as_str(), "query.graphql");
    let operation_name = request.operation_name.as_deref();
    let (document, mut vars) = match validated(state, parsed, operation_name, &request.variables) {
        Ok(valid) => valid,
        Err(errors) => return json_reply(200, json!({"errors": errors})),
    };
    let Ok(operation) = document.operations.get(operation_name) else {
        return json_reply(200, json!({"errors": [{"message": "no such operation"}]}));
    };
    defaults(operation, &mut vars);
    seen.repo = repository_of(operation, &vars);
    let target = format!("{}\n{}", request.query, Value::Object(vars.clone()));
    let mut node_error = None;
    let mut timed_out = false;
    match take_fault(state, seen.repo.as_deref(), &target) {
        None | Some((Fault::None | Fault::ClosePullFirst(_), _)) => {}
        Some((Fault::Timeout(delay) | Fault::LoseAnswer(delay), _)) => *wait += delay,
        Some((Fault::GraphqlNodeError { type_ }, containing)) => {
            node_error = Some((type_, containing))
        }
        Some((Fault::GraphqlRefuses { field }, _)) => {
            if let Some(refusal) = refusal(&document, operation, field) {
                return json_reply(200, json!({"errors": [refusal]}));
            }
        }
        Some((Fault::GraphqlRateLimited, _)) => return rate_limited(state, headers),
        Some((Fault::GraphqlServerTimeout, _)) => timed_out = true,
        Some((fault, _)) => {
            return fault_reply(&fault).unwrap_or_else(|| json_reply(500, json!({})));
        }
    }
    let (auth, visible) = match authorize(state, seen.repo.as_deref(), headers) {
        Ok(authorized) => authorized,
        Err(reply) => return reply,
    };
    seen.auth = auth;
    let cost = cost::cost(&document, operation, &vars);
    if !cost.problems.is_empty() {
        let errors: Vec<Value> = cost
            .problems
            .iter()
            .map(|m| json!({"message": m}))
            .collect();
        for problem in &cost.problems {
            state.record(format!("GraphQL: {problem}"));
        }
        return json_reply(200, json!({"errors": errors}));
    }
    let Some(rate) = rate_after(state, cost.points) else {
        return rate_limited(state, headers);
    };
    let mut exec = Exec {
        state,
        schema,
        document: &document,
        vars: &vars,
        errors: Vec::new(),
        whole: Whole::Normal,
        wait: Duration::ZERO,
        node_error,
        visible,
        rate,
    };
    let data = exec.run(&operation.selection_set);
    let (errors, whole) = (std::mem::take(&mut exec.errors), exec.whole);
    *wait += exec.wait;
    match whole {
        Whole::Normal => {}
        Whole::RateLimited => return rate_limited(state, headers),
        Whole::Secondary(retry_after) => return secondary_limit(retry_after),
        Whole::TooManyRequests(retry_after) => {
            return fault_reply(&Fault::TooManyRequests { retry_after })
                .unwrap_or_else(|| secondary_limit(retry_after));
        }
    }
    charge(state, cost.points);
    if timed_out {
        return json_reply(
            502,
            json!({"data": null, "errors": [{"message": TIMED_OUT}]}),
        );
    }
    state.graphql.queries += 1;
    let mut body = json!({"data": data});
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    json_reply(200, body)
}

/// A valid document and its variables.
type Validated = (Valid<ExecutableDocument>, Map<String, Value>);

/// The valid document and its variables, or GitHub's `errors` for them (each recorded).
fn validated(
    state: &mut State,
    parsed: Result<
        Valid<ExecutableDocument>,
        apollo_compiler::validation::WithErrors<ExecutableDocument>,
    >,
    operation: Option<&str>,
    variables: &Value,
) -> Result<Validated, Vec<Value>> {
    let errors: Vec<Value> = match parsed {
        Err(invalid) => invalid
            .errors
            .iter()
            .map(|d| serde_json::to_value(d.to_json()).unwrap_or_default())
            .collect(),
        Ok(document) => {
            let vars = match variables {
                Value::Null => Map::new(),
                Value::Object(vars) => vars.clone(),
                _ => return Err(vec![json!({"message": "Variables are invalid JSON."})]),
            };
            let Some(schema) = conformance::github_graphql() else {
                return Ok((document, vars));
            };
            let problems = match document.operations.get(operation) {
                Err(e) => vec![e.message().to_string()],
                Ok(op) => {
                    let values: JsonMap =
                        serde_json::from_value(Value::Object(vars.clone())).unwrap_or_default();
                    match coerce_variable_values(schema, op, &values) {
                        Ok(_) => Vec::new(),
                        Err(e) => vec![e.to_graphql_error(&document.sources).message],
                    }
                }
            };
            if problems.is_empty() {
                return Ok((document, vars));
            }
            problems
                .into_iter()
                .map(|m| json!({"message": m}))
                .collect()
        }
    };
    for error in &errors {
        state.record(format!("GraphQL: GitHub refuses the document: {error}"));
    }
    Err(errors)
}

/// Fills the variables the request left out with their declared defaults.
fn defaults(operation: &Operation, vars: &mut Map<String, Value>) {
    for variable in &operation.variables {
        if let (None, Some(default)) = (vars.get(variable.name.as_str()), &variable.default_value) {
            vars.insert(variable.name.to_string(), cost::eval(default, &Map::new()));
        }
    }
}

/// `owner/name` (lower-cased) of the top-level `repository` field, when there is one.
fn repository_of(operation: &Operation, vars: &Map<String, Value>) -> Option<String> {
    let field = operation
        .selection_set
        .fields()
        .find(|f| f.name == "repository")?;
    let arg = |name: &str| {
        field
            .specified_argument_by_name(name)
            .map(|v| cost::eval(v, vars))
    };
    let (owner, name) = (arg("owner")?, arg("name")?);
    Some(format!("{}/{}", owner.as_str()?, name.as_str()?).to_ascii_lowercase())
}

/// The REST repository endpoints' authentication; `false`: the repository is not visible to
/// this credential (an installation token of another owner).
fn authorize(
    state: &mut State,
    repo: Option<&str>,
    headers: &HeaderMap,
) -> Result<(AuthSeen, bool), Reply> {
    if headers.get(header::AUTHORIZATION).is_none() {
        let docs = "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql";
        return Err(json_reply(
            401,
            json!({"message": "This endpoint requires you to be authenticated.", "documentation_url": docs}),
        ));
    }
    let route = Route {
        endpoint: Endpoint::Graphql,
        repo: repo.map(str::to_owned),
        path: String::new(),
        installation: None,
    };
    match authenticate(state, &route, headers) {
        Ok(auth) => Ok((auth, true)),
        Err(reply) if reply.status == StatusCode::NOT_FOUND => Ok((
            AuthSeen::Installation(installation(state, headers).unwrap_or(0)),
            false,
        )),
        Err(reply) => Err(reply),
    }
}
