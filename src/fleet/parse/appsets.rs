//! `applicationsets`, at the top level and per service: the Argo CD ApplicationSets refreshed
//! when a service's parameter sets change, and the only ones the plugin answers.

use super::cx::{Cx, index, quote};
use crate::fleet::Service;
use crate::naming::is_dns_name;
use crate::yaml::Located;

/// The ApplicationSet of `argocd/applicationset.yaml`, refreshed when the fleet names none.
pub(super) const DEFAULT: &str = "previews";

/// The built-in default list: `[previews]`.
pub(super) fn default_names() -> Vec<String> {
    vec![DEFAULT.to_owned()]
}

/// Reads a list of ApplicationSet names at `path`: DNS subdomain names (what Kubernetes
/// accepts as an object name), each once. Null is an empty list. `None` when any item is
/// invalid (each is reported).
pub(super) fn names(cx: &mut Cx, path: &str, node: &Located) -> Option<Vec<String>> {
    let items = cx.list(path, node)?;
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let field = index(path, i);
        let Some(text) = cx.text(&field, item) else {
            valid = false;
            continue;
        };
        let message = if !is_dns_name(text) {
            format!(
                "{} is not an ApplicationSet name: use lowercase letters, digits, `-` and `.`, at most 253 characters, e.g. `{DEFAULT}`",
                quote(text)
            )
        } else if names.iter().any(|n| n == text) {
            format!("{} is listed twice: remove one", quote(text))
        } else {
            names.push(text.to_owned());
            continue;
        };
        cx.error(&field, Some(item), message);
        valid = false;
    }
    valid.then_some(names)
}

/// Refuses a fleet that names no ApplicationSet at all (the top-level list empty and no
/// service naming one of its own): the plugin answers only the ApplicationSets the fleet
/// names, so it would answer none.
pub(super) fn check_some_named(
    cx: &mut Cx,
    node: Option<&Located>,
    top_level: &[String],
    services: &[Service],
) {
    if top_level.is_empty() && services.iter().all(|s| s.applicationsets.is_empty()) {
        cx.error(
            "applicationsets",
            node,
            format!(
                "no ApplicationSet is named, here or in a service: the plugin answers only the \
                 ApplicationSets named here, so it would answer none; name those that use it, \
                 e.g. `[{DEFAULT}]`"
            ),
        );
    }
}

#[cfg(test)]
mod tests;
