//! The fake's answers per endpoint, and how it checks credentials (App JWTs, installation
//! tokens, personal tokens).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde_json::Value;

use super::model::{AuthSeen, Endpoint, Node, State};
use super::render;
use super::serve::{Reply, Route, SCHEMAS, record};
use crate::support::conformance;

pub(super) fn authenticate(
    state: &mut State,
    route: &Route,
    headers: &HeaderMap,
) -> Result<AuthSeen, Reply> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .map(str::trim);
    let needs_jwt = matches!(
        route.endpoint,
        Endpoint::Installation | Endpoint::AccessToken | Endpoint::App
    );
    let Some(credential) = credential else {
        return match route.endpoint {
            Endpoint::Other => Ok(AuthSeen::None),
            Endpoint::Installation | Endpoint::AccessToken | Endpoint::App => {
                Err(Reply::error(401, "Requires authentication"))
            }
            // Private repositories look absent without credentials.
            _ => Err(Reply::error(404, "Not Found")),
        };
    };
    let is_jwt = credential.starts_with("eyJ") && credential.matches('.').count() == 2;
    if needs_jwt {
        return verify_jwt(state, credential).map(|()| AuthSeen::AppJwt);
    }
    if is_jwt {
        return Err(Reply::error(
            401,
            "A JSON web token cannot be used here: use an installation access token",
        ));
    }
    if let Some(&installation) = state.tokens.get(credential) {
        let owner = route
            .repo
            .as_deref()
            .and_then(|r| r.split('/').next())
            .unwrap_or("");
        if state.installations.get(owner) != Some(&installation) {
            return Err(Reply::error(404, "Not Found"));
        }
        return Ok(AuthSeen::Installation(installation));
    }
    let known = state
        .accepted_tokens
        .as_ref()
        .is_none_or(|set| set.contains(credential));
    if credential.starts_with("ghs_") || !known {
        return Err(Reply::error(401, "Bad credentials"));
    }
    Ok(AuthSeen::Token)
}

fn verify_jwt(state: &State, jwt: &str) -> Result<(), Reply> {
    let refuse = |why: &str| {
        Reply::error(
            401,
            &format!("A JSON web token could not be decoded: {why}"),
        )
    };
    let Some((app_id, public_der)) = &state.app else {
        return Err(refuse("no GitHub App is registered with the fake"));
    };
    let mut validation = Validation::new(Algorithm::RS256);
    // `iss` is checked below: octocrab sends the App ID as a number, which jsonwebtoken reads as absent.
    validation.set_required_spec_claims(&["exp"]);
    let data =
        jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_rsa_der(public_der), &validation)
            .map_err(|e| refuse(&e.to_string()))?;
    let claims = data.claims;
    let iss_matches = claims["iss"].as_u64() == Some(*app_id)
        || claims["iss"].as_str() == Some(&app_id.to_string());
    if !iss_matches {
        return Err(refuse("'Issuer' claim ('iss') must match the App ID"));
    }
    let now = Utc::now().timestamp();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let iat = claims["iat"].as_i64().unwrap_or(i64::MAX);
    if exp > now + 600 || iat > now + 60 {
        return Err(refuse(
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(())
}

pub(super) fn answer(
    state: &mut State,
    route: &Route,
    query: &HashMap<String, String>,
    body: &Bytes,
    auth: &AuthSeen,
) -> Reply {
    match route.endpoint {
        Endpoint::Pulls => list_pulls(state, route, query),
        Endpoint::Pull => one_pull(state, route),
        Endpoint::Contents => contents(state, route, query),
        Endpoint::Installation => installation(state, route),
        Endpoint::AccessToken => access_token(state, route, body),
        Endpoint::App => app(state),
        Endpoint::Other => Reply::error(404, "Not Found"),
        Endpoint::CheckRuns | Endpoint::PullCommits => super::checks::answer(state, route, query),
        Endpoint::Permission => super::collaborators::answer(state, route),
        Endpoint::Timeline => super::timeline::answer(state, route, query),
        // The account behind a token: the one the fake writes comments as. (No conformance
        // schema covers `GET /user`; the body is the `simple-user` the comments carry.)
        Endpoint::User => Reply {
            status: StatusCode::OK,
            body: Some(super::reporting::author(
                &state.base_url,
                super::reporting::BOT_LOGIN,
            )),
            raw: None,
            schema: None,
            headers: Vec::new(),
            exhausted: false,
        },
        _ => {
            let writer = state.writer(auth);
            super::reporting::answer(state, route, query, body, &writer)
        }
    }
}

/// `GET /app` (with the App's JWT): the App, as GitHub's `integration`. The conformance set
/// has no schema file for this answer; the `integration` schema (as `nullable-integration`,
/// where deployments and comments name the App that made them) checks it.
fn app(state: &mut State) -> Reply {
    let Some((app_id, _)) = &state.app else {
        return Reply::error(404, "Not Found");
    };
    let slug = state
        .app_slug
        .clone()
        .unwrap_or_else(|| "preview-tower".to_owned());
    let body = render::app(&state.base_url, *app_id, &slug);
    let schema = format!("{SCHEMAS}/repos.list-deployments.response-200.schema.json");
    let violations = conformance::validate_def(&schema, "nullable-integration", &body);
    record(state, violations);
    Reply {
        schema: None,
        ..Reply::json(StatusCode::OK, body, "")
    }
}

/// `GET /repos/{o}/{r}/pulls/{n}`, open or closed. GitHub answers the full `pull-request`
/// object; the conformance data has only the `pull-request-simple` schema of list items, a
/// subset of it, which is what this answer is checked against.
fn one_pull(state: &mut State, route: &Route) -> Reply {
    let Some(repo) = route.repo.as_ref().and_then(|r| state.repos.get(r)) else {
        return Reply::error(404, "Not Found");
    };
    let pull = route
        .path
        .parse::<u64>()
        .ok()
        .and_then(|n| repo.pulls.get(&n));
    match pull {
        Some(pull) => Reply::json(
            StatusCode::OK,
            render::pull(&state.base_url, repo, pull),
            "pulls.list.response-200-item.schema.json",
        ),
        None => Reply::error(404, "Not Found"),
    }
}

fn list_pulls(state: &mut State, route: &Route, query: &HashMap<String, String>) -> Reply {
    let Some(repo) = route.repo.as_ref().and_then(|r| state.repos.get(r)) else {
        return Reply::error(404, "Not Found");
    };
    let wanted = query.get("state").map_or("open", String::as_str);
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    // GitHub's default order: newest first.
    let matching: Vec<Value> = repo
        .pulls
        .values()
        .rev()
        .filter(|p| match wanted {
            "all" => true,
            "closed" => p.closed_at.is_some(),
            _ => p.closed_at.is_none(),
        })
        .map(|p| render::pull(&state.base_url, repo, p))
        .collect();
    let last = matching.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = matching
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(
        StatusCode::OK,
        Value::Array(items),
        "pulls.list.response-200.schema.json",
    );
    let link = |n: usize, rel: &str| {
        format!(
            "<{}/repositories/{}/pulls?state={wanted}&per_page={per_page}&page={n}>; rel=\"{rel}\"",
            state.base_url, repo.id
        )
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
        links.push(link(1, "first"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if !links.is_empty() {
        reply.headers.push(("link", links.join(", ")));
    }
    reply
}

fn contents(state: &mut State, route: &Route, query: &HashMap<String, String>) -> Reply {
    let Some(repo) = route.repo.as_ref().and_then(|r| state.repos.get(r)) else {
        return Reply::error(404, "Not Found");
    };
    let reference = query
        .get("ref")
        .cloned()
        .unwrap_or_else(|| "main".to_owned());
    let Some(tree) = repo.trees.get(&reference) else {
        return Reply::error(404, &format!("No commit found for the ref {reference}"));
    };
    let schema = "repos.get-content.response-200.schema.json";
    let base = &state.base_url;
    match tree.get(&route.path) {
        None => Reply::error(404, "Not Found"),
        Some(Node::Dir { .. }) => {
            let prefix = if route.path.is_empty() {
                String::new()
            } else {
                format!("{}/", route.path)
            };
            let entries: Vec<Value> = tree
                .iter()
                .filter(|(path, _)| {
                    !path.is_empty()
                        && path.starts_with(&prefix)
                        && !path[prefix.len()..].contains('/')
                })
                .map(|(path, node)| render::content(base, repo, &reference, path, node, true))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(entries), schema)
        }
        Some(node) => Reply::json(
            StatusCode::OK,
            render::content(base, repo, &reference, &route.path, node, false),
            schema,
        ),
    }
}

fn installation(state: &mut State, route: &Route) -> Reply {
    let Some(repo) = route.repo.as_ref().filter(|r| state.repos.contains_key(*r)) else {
        return Reply::error(404, "Not Found");
    };
    let owner = repo.split('/').next().unwrap_or_default();
    match (state.installations.get(owner), &state.app) {
        (Some(&id), Some((app_id, _))) => {
            // No vendor schema for this answer in the conformance set.
            let slug = state.app_login();
            let slug = slug.trim_end_matches("[bot]");
            let body = render::installation(&state.base_url, id, *app_id, slug, owner);
            Reply {
                schema: None,
                ..Reply::json(StatusCode::OK, body, "")
            }
        }
        _ => Reply::error(404, "Not Found"),
    }
}

fn access_token(state: &mut State, route: &Route, body: &Bytes) -> Reply {
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) if body.is_empty() => Value::Object(Default::default()),
        Err(e) => return Reply::error(400, &format!("Problems parsing JSON: {e}")),
    };
    record(
        state,
        conformance::validate(
            &format!("{SCHEMAS}/apps.create-installation-access-token.request.schema.json"),
            &request,
        ),
    );
    let Some(id) = route
        .installation
        .filter(|id| state.installations.values().any(|i| i == id))
    else {
        return Reply::error(404, "Not Found");
    };
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(36)
        .map(char::from)
        .collect();
    let token = format!("ghs_{random}");
    state.tokens.insert(token.clone(), id);
    let expires = Utc::now() + chrono::Duration::hours(1);
    Reply::json(
        StatusCode::CREATED,
        render::installation_token(&token, expires),
        "apps.create-installation-access-token.response-201.schema.json",
    )
}
