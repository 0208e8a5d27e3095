//! `applicationsets`, at the top level and per service: the Argo CD ApplicationSets refreshed
//! when a service's parameter sets change.

use super::cx::{Cx, index, quote};
use crate::naming::is_dns_name;
use crate::repo_config::yaml::Located;

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

#[cfg(test)]
mod tests;
