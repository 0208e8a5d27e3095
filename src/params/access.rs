//! `access_patch`: what the fleet's `access` does to the preview's Ingress; `route_path`: where
//! a sleeping preview's entry points, so that its host falls through to the platform's anchor.

use serde_json::{Map, Value, json};

use crate::fleet::Access;

/// The label the patch puts on the Ingress, saying what the fleet decided. Informative only:
/// the overlay is the PR's, so the guardrail checks the fleet's list, never this label.
pub const ACCESS_LABEL: &str = "preview-tower.io/access";

/// What a public preview's Ingress gets: the ALB does not sign in (`auth-type: none`, which
/// makes it ignore the other sign-in annotations), and an ingress-nginx for previews whose
/// controller signs everyone in (`global-auth-url`) leaves this Ingress out. Values set, never
/// keys removed: Kustomize turns a `null` annotation in a strategic-merge patch into the text
/// `"null"` rather than removing it, and a JSON patch cannot remove a key that may be absent.
pub const OPEN_ANNOTATIONS: [(&str, &str); 2] = [
    ("alb.ingress.kubernetes.io/auth-type", "none"),
    ("nginx.ingress.kubernetes.io/enable-global-auth", "false"),
];

/// A Kustomize strategic-merge patch (JSON) for the Ingress `preview`: the access label, and
/// for a public preview [`OPEN_ANNOTATIONS`]. A private preview keeps what its overlay says
/// (the overlays sign visitors in by default).
pub fn access_patch(access: Access) -> String {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!("preview"));
    metadata.insert("labels".into(), json!({ACCESS_LABEL: access.as_str()}));
    if access == Access::Public {
        let annotations: Map<String, Value> = OPEN_ANNOTATIONS
            .iter()
            .map(|(key, value)| ((*key).to_owned(), json!(value)))
            .collect();
        metadata.insert("annotations".into(), Value::Object(annotations));
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
    })
    .to_string()
}

/// The path of the preview's Ingress rule (and route) while it sleeps: a path nobody asks for,
/// so that requests for the preview's host match the anchor's rule instead (its page says how
/// to wake the preview) rather than an empty target group (a bare 503 from the ALB). Letters,
/// digits, `/`, `-` and `_` only: ingress-nginx's strict path validation (on by default since
/// 1.12) refuses anything else in a `Prefix` path, and the sleeping sync would fail.
pub const ASLEEP_PATH: &str = "/preview-tower-asleep";

/// `/` while the preview runs, [`ASLEEP_PATH`] while it sleeps.
pub fn route_path(asleep: bool) -> &'static str {
    if asleep { ASLEEP_PATH } else { "/" }
}
