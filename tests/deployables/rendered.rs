//! The demo previews as Argo CD renders them while they are awake: the plugin ApplicationSet's
//! template filled from each demo parameter set, over the example overlay of its service.

use serde_json::{Map, Value};

use super::tools::Tools;
use super::{application_sets, argo, demo_sets_at, documents, gotemplate, is_matrix, previews};
use super::{root, scratch};

/// Wednesday 25 November 2026, 08:30 in Paris and 20:30 in Auckland: inside every demo
/// service's working hours (`api` works Auckland's).
pub const AWAKE: &str = "2026-11-25T07:30:00Z";

/// One rendered preview: its parameter set and its objects.
pub struct Preview {
    pub service: String,
    pub set: Map<String, Value>,
    pub docs: Vec<Value>,
}

impl Preview {
    /// The objects of `kind`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.docs.iter().filter(move |d| d["kind"] == kind)
    }

    /// The Deployments, StatefulSets and Jobs.
    pub fn workloads(&self) -> impl Iterator<Item = &Value> {
        self.docs.iter().filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "Job")
            )
        })
    }
}

/// Every demo preview, awake, rendered with real kustomize (scratch files under `name`).
pub fn awake_demo_previews(tools: &Tools, name: &str) -> Vec<Preview> {
    let (_, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let scratch = scratch(name);
    let previews: Vec<Preview> = demo_sets_at(Some(AWAKE))
        .into_iter()
        .map(|(service, set)| {
            let app = gotemplate::render(&appset["spec"]["template"], &set).expect("render");
            let overlay = previews::example_overlay(&root(), &set);
            let dir = argo::wrapper(&app, &overlay, &scratch.join(&service));
            let text = tools
                .kustomize(&dir)
                .unwrap_or_else(|e| panic!("{service}: {e}"));
            Preview {
                service,
                set,
                docs: documents(&text),
            }
        })
        .collect();
    assert!(!previews.is_empty(), "the demo has previews");
    previews
}
