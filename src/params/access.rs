//! `access_patch`: what the fleet's `access` does to the preview's Ingress; `route_path`: where
//! a sleeping preview's entry points, so that its host falls through to the platform's anchor.

use serde_json::{Map, Value, json};

use crate::fleet::Access;

/// The label the patch puts on the Ingress, saying what the fleet decided. Informative only:
/// the overlay is the PR's, so the guardrail checks the fleet's list, never this label.
pub const ACCESS_LABEL: &str = "preview-tower.io/access";

/// The authentication annotations of the overlays (`bases/common` for the ALB,
/// `components/oauth2-proxy` for ingress-nginx) that a public preview loses. Set to `null` in a
/// strategic-merge patch, which removes them when present and does nothing otherwise.
pub const AUTH_ANNOTATIONS: [&str; 9] = [
    "alb.ingress.kubernetes.io/auth-idp-oidc",
    "alb.ingress.kubernetes.io/auth-idp-cognito",
    "alb.ingress.kubernetes.io/auth-on-unauthenticated-request",
    "alb.ingress.kubernetes.io/auth-scope",
    "alb.ingress.kubernetes.io/auth-session-cookie",
    "alb.ingress.kubernetes.io/auth-session-timeout",
    "nginx.ingress.kubernetes.io/auth-url",
    "nginx.ingress.kubernetes.io/auth-signin",
    "nginx.ingress.kubernetes.io/auth-response-headers",
];

/// A Kustomize strategic-merge patch (JSON) for the Ingress `preview`: the access label, and
/// for a public preview `auth-type: none` with every other authentication annotation removed.
/// A private preview keeps what its overlay says (the overlays authenticate by default).
pub fn access_patch(access: Access) -> String {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!("preview"));
    metadata.insert("labels".into(), json!({ACCESS_LABEL: access.as_str()}));
    if access == Access::Public {
        let mut annotations: Map<String, Value> = AUTH_ANNOTATIONS
            .iter()
            .map(|key| ((*key).to_owned(), Value::Null))
            .collect();
        annotations.insert("alb.ingress.kubernetes.io/auth-type".into(), json!("none"));
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
/// to wake the preview) rather than an empty target group (a bare 503 from the ALB).
pub const ASLEEP_PATH: &str = "/.preview-tower/asleep";

/// `/` while the preview runs, [`ASLEEP_PATH`] while it sleeps.
pub fn route_path(asleep: bool) -> &'static str {
    if asleep { ASLEEP_PATH } else { "/" }
}
