//! Dependency wiring: where each dependency of a preview points. Pure.
//!
//! By default a dependency is the dependency's staging. A repo config may ask for the
//! dependency's preview of PR N; that is honoured only when such a preview is in the same plan,
//! else staging is used and a diagnostic says why.

use std::collections::HashMap;

use serde::Serialize;

use url::Url;

use crate::fleet::Fleet;
use crate::naming::{PreviewKey, ServiceName};
use crate::repo_config::DependencyTarget;

use super::{Diagnostic, Preview};

/// Where a dependency actually points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum DependencyRoute {
    /// The dependency's staging environment.
    Staging,
    /// The dependency's preview of PR `number`.
    Preview {
        /// The dependency's PR number.
        number: u64,
    },
}

/// One dependency of a preview, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedDependency {
    /// The dependency's service name.
    pub service: ServiceName,
    /// What the repo config asked for.
    pub requested: DependencyTarget,
    /// Where it points.
    pub route: DependencyRoute,
    /// Public URL (what a browser calls).
    pub url: String,
    /// In-cluster URL (what a server calls).
    pub internal_url: String,
}

impl ResolvedDependency {
    /// `staging` or `pr-<N>`: the route in the repo config's own words.
    pub fn route_label(&self) -> String {
        match self.route {
            DependencyRoute::Staging => "staging".to_owned(),
            DependencyRoute::Preview { number } => format!("pr-{number}"),
        }
    }
}

/// Fills `dependencies` of every preview, given all previews of the plan.
pub(super) fn resolve(fleet: &Fleet, previews: &mut [Preview]) {
    let targets: HashMap<PreviewKey, (String, String)> = previews
        .iter()
        .map(|p| (p.key(), (p.url.clone(), p.internal_url.clone())))
        .collect();
    for preview in previews.iter_mut() {
        let Some(service) = fleet.service(preview.service.as_str()) else {
            continue;
        };
        for dependency in &service.dependencies {
            let Some(dep_service) = fleet.service(dependency.as_str()) else {
                continue;
            };
            let requested = preview
                .config
                .effective
                .dependencies
                .get(dependency)
                .copied()
                .unwrap_or(DependencyTarget::Staging);
            let preview_target = match requested {
                DependencyTarget::PullRequest(number) => {
                    let found = targets.get(&PreviewKey::new(dependency.clone(), number));
                    if found.is_none() {
                        preview
                            .diagnostics
                            .push(Diagnostic::DependencyPreviewMissing {
                                dependency: dependency.clone(),
                                number,
                            });
                    }
                    found.map(|urls| (number, urls))
                }
                DependencyTarget::Staging => None,
            };
            let (route, url, internal_url) = match preview_target {
                Some((number, (url, internal))) => (
                    DependencyRoute::Preview { number },
                    url.clone(),
                    internal.clone(),
                ),
                None => (
                    DependencyRoute::Staging,
                    url_text(&dep_service.staging_url),
                    url_text(&dep_service.staging_internal_url),
                ),
            };
            preview.dependencies.push(ResolvedDependency {
                service: dependency.clone(),
                requested,
                route,
                url,
                internal_url,
            });
        }
    }
    record_dependants(previews);
}

/// Fills `dependants` of every preview: the previews whose dependency points at it.
fn record_dependants(previews: &mut [Preview]) {
    let mut dependants: HashMap<PreviewKey, Vec<String>> = HashMap::new();
    for preview in previews.iter() {
        for dependency in &preview.dependencies {
            if let DependencyRoute::Preview { number } = dependency.route {
                let key = PreviewKey::new(dependency.service.clone(), number);
                dependants
                    .entry(key)
                    .or_default()
                    .push(preview.name.clone());
            }
        }
    }
    for preview in previews.iter_mut() {
        let mut names = dependants.remove(&preview.key()).unwrap_or_default();
        names.sort();
        names.dedup();
        preview.dependants = names;
    }
}

/// A URL as text, without the lone `/` path that [`Url`] adds to a bare origin
/// (`https://api.example.com`, not `https://api.example.com/`).
pub fn url_text(url: &Url) -> String {
    let text = url.as_str();
    if url.path() == "/" && url.query().is_none() && url.fragment().is_none() {
        text.trim_end_matches('/').to_owned()
    } else {
        text.to_owned()
    }
}
