//! The `services` list: each service's own keys, names unique, dependencies known and acyclic,
//! policy merged over the defaults.

use std::collections::{BTreeMap, BTreeSet};

use super::cx::{Cx, Fields, index, join, quote};
use super::policy::{self, HostCheck, Layer};
use super::{appsets, cycles, env, host, rules};
use crate::fleet::{Database, Seed, Service, ServiceKind};
use crate::naming::RepoName;
use crate::naming::ServiceName;
use crate::yaml::{Located, Node, did_you_mean};

const SERVICE_KEYS: [&str; 13] = [
    "name",
    "repo",
    "kind",
    "image",
    "overlay_path",
    "staging_url",
    "staging_internal_url",
    "port",
    "dependencies",
    "seed",
    "databases",
    "overrides",
    "applicationsets",
];
const SEED_KEYS: [&str; 2] = ["image", "path"];

/// What the services are checked against.
pub(super) struct Context<'a> {
    pub(super) defaults: &'a Layer,
    /// `None` when `base_domain` is invalid: hosts are not checked then.
    pub(super) base_domain: Option<&'a str>,
    /// The fleet's `applicationsets`, for services that name none.
    pub(super) applicationsets: &'a [String],
}

/// Reads the `services` list. `None` when any service is invalid (the errors are in `cx`).
pub(super) fn services(cx: &mut Cx, node: &Located, context: &Context<'_>) -> Option<Vec<Service>> {
    let items = cx.list("services", node)?;
    if items.is_empty() {
        cx.error("services", Some(node), "must list at least one service");
        return None;
    }
    let all: Vec<(String, Fields<'_>)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = index("services", i);
            let item = if item.value == Node::Null {
                cx.error(
                    &path,
                    Some(item),
                    "is empty: write the service's keys, `name` first",
                );
                None
            } else {
                Some(item)
            };
            let fields = cx.fields(&path, item, &SERVICE_KEYS);
            (path, fields)
        })
        .collect();
    let names = names(cx, &all);
    let known: BTreeSet<&ServiceName> = names.iter().flatten().collect();
    let mut services = Vec::with_capacity(all.len());
    for ((path, fields), name) in all.iter().zip(&names) {
        services.push(service(cx, path, fields, name.as_ref(), &known, context));
    }
    cycles::report(cx, &services, &all);
    if let Some(base_domain) = context.base_domain {
        host::report(cx, &services, &all, base_domain);
    }
    services.into_iter().collect()
}

/// The name of each service, `None` where invalid; repeated names are reported.
fn names(cx: &mut Cx, all: &[(String, Fields<'_>)]) -> Vec<Option<ServiceName>> {
    let mut first: BTreeMap<ServiceName, usize> = BTreeMap::new();
    let mut names = Vec::with_capacity(all.len());
    for (i, (_, fields)) in all.iter().enumerate() {
        let field = fields.path("name");
        let name = fields.require(cx, "name", "web").and_then(|node| {
            let text = cx.text(&field, node)?;
            let name = ServiceName::new(text);
            match &name {
                None => {
                    let message = format!(
                        "{} is not a service name: use at most {} lowercase letters, digits and `-`, starting and ending with a letter or digit",
                        quote(text),
                        ServiceName::MAX_LEN
                    );
                    cx.error(&field, Some(node), message);
                }
                // Reported, but kept as a name: a dependency on it gets its own error.
                Some(name) if env::is_reserved(name.as_str()) => {
                    cx.error(&field, Some(node), env::reserved_name_message(name.as_str()));
                }
                Some(_) => {}
            }
            name.map(|name| (name, node))
        });
        match name {
            Some((name, node)) => match first.get(&name) {
                Some(earlier) => {
                    let message = format!(
                        "`{name}` is already the name of services[{earlier}]: names must be unique"
                    );
                    cx.error(&field, Some(node), message);
                    names.push(None);
                }
                None => {
                    first.insert(name.clone(), i);
                    names.push(Some(name));
                }
            },
            None => names.push(None),
        }
    }
    names
}

fn service(
    cx: &mut Cx,
    path: &str,
    fields: &Fields<'_>,
    name: Option<&ServiceName>,
    known: &BTreeSet<&ServiceName>,
    context: &Context<'_>,
) -> Option<Service> {
    let repo = fields.read_required(cx, "repo", "acme/web", repo);
    let kind = fields.read_required(cx, "kind", "backend", kind);
    let image = fields.read_required(cx, "image", "registry.example.com/web", image);
    let overlay_path = fields.read_required(cx, "overlay_path", "deploy/preview", relative_path);
    let staging_url =
        fields.read_required(cx, "staging_url", "https://web.staging.example.com", url);
    let internal_url = fields.read_optional(cx, "staging_internal_url", url);
    let port = fields.read_optional(cx, "port", port);
    let dependencies = dependencies(cx, fields, name, known);
    let seed = fields.read_optional(cx, "seed", seed);
    let databases = databases(cx, fields);
    let policy = service_policy(cx, fields, name, context);
    let applicationsets = fields.read_optional(cx, "applicationsets", appsets::names);
    let kind = kind?;
    if kind == ServiceKind::Frontend {
        frontend_has_no_data(cx, path, fields);
    }
    let staging_url = staging_url?;
    Some(Service {
        name: name?.clone(),
        repo: repo?,
        kind,
        image: image?,
        overlay_path: overlay_path?,
        staging_internal_url: internal_url?.unwrap_or_else(|| staging_url.clone()),
        staging_url,
        port: port?.unwrap_or(80),
        dependencies: dependencies?,
        seed: seed?,
        databases: databases?,
        policy: policy?,
        applicationsets: applicationsets?.unwrap_or_else(|| context.applicationsets.to_vec()),
    })
}

/// The defaults with the service's `overrides` merged over them.
fn service_policy(
    cx: &mut Cx,
    fields: &Fields<'_>,
    name: Option<&ServiceName>,
    context: &Context<'_>,
) -> Option<crate::fleet::Policy> {
    let overrides = policy::layer(cx, &fields.path("overrides"), fields.get("overrides"));
    // The defaults' host pattern is checked once, with the longest name; an override's here.
    let host = match (name, context.base_domain) {
        (Some(service), Some(base_domain)) if overrides.sets_host_pattern() => Some(HostCheck {
            service,
            base_domain,
        }),
        _ => None,
    };
    policy::resolve(cx, context.defaults, &overrides, host)
}

fn port(cx: &mut Cx, path: &str, node: &Located) -> Option<u16> {
    cx.integer(path, node, 1, 65_535)
        .and_then(|p| u16::try_from(p).ok())
}

fn repo(cx: &mut Cx, path: &str, node: &Located) -> Option<RepoName> {
    let text = cx.text(path, node)?;
    text.parse::<RepoName>()
        .map_err(|_| {
            cx.error(
                path,
                Some(node),
                format!(
                    "{} is not a GitHub repository: write `owner/name`",
                    quote(text)
                ),
            )
        })
        .ok()
}

fn kind(cx: &mut Cx, path: &str, node: &Located) -> Option<ServiceKind> {
    let text = cx.text(path, node)?;
    match text {
        "frontend" => Some(ServiceKind::Frontend),
        "backend" => Some(ServiceKind::Backend),
        _ => {
            let fix = did_you_mean(text, ["frontend", "backend"])
                .map_or(String::new(), |c| format!("did you mean `{c}`? "));
            cx.error(
                path,
                Some(node),
                format!(
                    "{} is not a kind: {fix}use `frontend` or `backend`",
                    quote(text)
                ),
            );
            None
        }
    }
}

fn image(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    let text = cx.text(path, node)?;
    rules::image_repository(text)
        .map_err(|message| cx.error(path, Some(node), message))
        .ok()?;
    Some(text.to_owned())
}

fn relative_path(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    let text = cx.text(path, node)?;
    rules::relative_path(text)
        .map_err(|message| cx.error(path, Some(node), message))
        .ok()?;
    Some(text.to_owned())
}

pub(super) fn url(cx: &mut Cx, path: &str, node: &Located) -> Option<url::Url> {
    let text = cx.text(path, node)?;
    rules::http_url(text)
        .map_err(|message| cx.error(path, Some(node), message))
        .ok()
}

fn seed(cx: &mut Cx, path: &str, node: &Located) -> Option<Seed> {
    let fields = cx.fields(path, Some(node), &SEED_KEYS);
    let image = fields.read_required(cx, "image", "registry.example.com/api-seed", image);
    let seed_path = fields.read_required(cx, "path", "db/seed", relative_path);
    Some(Seed {
        image: image?,
        path: seed_path?,
    })
}

fn dependencies(
    cx: &mut Cx,
    fields: &Fields<'_>,
    name: Option<&ServiceName>,
    known: &BTreeSet<&ServiceName>,
) -> Option<Vec<ServiceName>> {
    let Some(node) = fields.get("dependencies") else {
        return Some(Vec::new());
    };
    let path = fields.path("dependencies");
    let items = cx.list(&path, node)?;
    // Each accepted dependency with its index in the list.
    let mut dependencies: Vec<(ServiceName, usize)> = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let field = index(&path, i);
        let Some(text) = cx.text(&field, item) else {
            valid = false;
            continue;
        };
        let message = match known.iter().find(|k| k.as_str() == text) {
            Some(_) if name.is_some_and(|n| n.as_str() == text) => {
                format!(
                    "{} is the service itself: a service cannot depend on itself",
                    quote(text)
                )
            }
            Some(dep) if dependencies.iter().any(|(d, _)| d == *dep) => {
                format!("{} is listed twice: remove one", quote(text))
            }
            Some(dep) if env::is_reserved(dep.as_str()) => {
                env::reserved_dependency_message(dep.as_str())
            }
            Some(dep) => match clash(dep, &dependencies, &path) {
                Some(message) => message,
                None => {
                    dependencies.push(((*dep).clone(), i));
                    continue;
                }
            },
            None => {
                let fix = did_you_mean(text, known.iter().map(|k| k.as_str()))
                    .map_or(String::new(), |c| format!("did you mean `{c}`? "));
                format!(
                    "{} is not a service of the fleet: {fix}name one of the services' `name`s",
                    quote(text)
                )
            }
        };
        cx.error(&field, Some(item), message);
        valid = false;
    }
    valid.then(|| dependencies.into_iter().map(|(dep, _)| dep).collect())
}

/// Why `dep` cannot be a dependency beside the `earlier` ones of the list at `path`: both would
/// set the same environment variable.
fn clash(dep: &ServiceName, earlier: &[(ServiceName, usize)], path: &str) -> Option<String> {
    earlier.iter().find_map(|(other, j)| {
        let variable = env::shared_variable(dep.as_str(), other.as_str())?;
        Some(format!(
            "`{dep}` cannot be a dependency beside `{other}` ({}): both would set the environment variable `{variable}`; rename one of the two services",
            index(path, *j)
        ))
    })
}

fn databases(cx: &mut Cx, fields: &Fields<'_>) -> Option<BTreeSet<Database>> {
    const ALL: [Database; 3] = [Database::Postgres, Database::Redis, Database::Mongodb];
    let Some(node) = fields.get("databases") else {
        return Some(BTreeSet::new());
    };
    let path = fields.path("databases");
    let items = cx.list(&path, node)?;
    let mut databases = BTreeSet::new();
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let field = index(&path, i);
        let Some(text) = cx.text(&field, item) else {
            valid = false;
            continue;
        };
        let message = match ALL.iter().find(|db| db.as_str() == text) {
            Some(db) if databases.insert(*db) => continue,
            Some(_) => format!("{} is listed twice: remove one", quote(text)),
            None => {
                let fix = did_you_mean(text, ALL.iter().map(|db| db.as_str()))
                    .map_or(String::new(), |c| format!("did you mean `{c}`? "));
                format!(
                    "{} is not a database: {fix}use `postgres`, `redis` or `mongodb`",
                    quote(text)
                )
            }
        };
        cx.error(&field, Some(item), message);
        valid = false;
    }
    valid.then_some(databases)
}

fn frontend_has_no_data(cx: &mut Cx, path: &str, fields: &Fields<'_>) {
    if let Some(node) = fields.get("seed") {
        let message = "a frontend has no database to seed: remove `seed` or set `kind: backend`";
        cx.error(&join(path, "seed"), Some(node), message);
    }
    if let Some(node) = fields
        .get("databases")
        .filter(|n| matches!(&n.value, Node::Seq(items) if !items.is_empty()))
    {
        let message = "a frontend runs no databases: remove `databases` or set `kind: backend`";
        cx.error(&join(path, "databases"), Some(node), message);
    }
}

#[cfg(test)]
mod tests;
