//! The environment variables a preview's workloads get (see `params::env`): the plugin's own
//! `PREVIEW_*`, and per dependency `<P>_URL`, `<P>_INTERNAL_URL` and `<P>_ROUTE` with
//! `P = naming::env_prefix(dependency)` (names from [`crate::naming`]). Names the fleet file must not allow, so that no
//! variable silently overwrites another: service names whose variables would start with
//! `PREVIEW_`, and two dependencies of one service that would set the same variable.

use crate::naming::{PREVIEW_ENV as OWN, dependency_env};

/// The namespace of the plugin's own variables.
const RESERVED: &str = "PREVIEW_";

/// The variables a dependency on `service` sets: URL, internal URL, route.
pub(super) fn variables(service: &str) -> [String; 3] {
    dependency_env(service)
}

/// Whether a dependency on `service` would set variables in the `PREVIEW_` namespace: the
/// service is `preview` or starts with `preview-` (`PREVIEW_URL`, `PREVIEW_API_URL`).
pub(super) fn is_reserved(service: &str) -> bool {
    variables(service).iter().any(|v| v.starts_with(RESERVED))
}

/// A variable that dependencies on `a` and on `b` would both set (`api` and `api-internal`
/// both set `API_INTERNAL_URL`).
pub(super) fn shared_variable(a: &str, b: &str) -> Option<String> {
    let theirs = variables(b);
    variables(a).into_iter().find(|v| theirs.contains(v))
}

/// Why the service name `name` is refused: it could never be a dependency.
pub(super) fn reserved_name_message(name: &str) -> String {
    format!(
        "`{name}` cannot be a service name: a dependency on it would set {}, in the `PREVIEW_` \
         namespace of the plugin's own variables ({}), so it could never be a dependency safely; \
         rename the service so that it is not `preview` and does not start with `preview-`",
        shown_variables(name),
        shown_own(),
    )
}

/// Why a dependency on `name` is refused.
pub(super) fn reserved_dependency_message(name: &str) -> String {
    format!(
        "`{name}` cannot be a dependency: it would set {}, in the `PREVIEW_` namespace of the \
         plugin's own variables ({}); rename that service",
        shown_variables(name),
        shown_own(),
    )
}

fn shown_variables(service: &str) -> String {
    let [url, internal, route] = variables(service);
    format!("`{url}`, `{internal}` and `{route}`")
}

fn shown_own() -> String {
    let own: Vec<String> = OWN.iter().map(|v| format!("`{v}`")).collect();
    own.join(", ")
}

#[cfg(test)]
mod tests;
