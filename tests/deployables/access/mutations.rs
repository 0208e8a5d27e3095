//! What a PR could do to its Ingress after Argo CD's overrides: a private preview that lost
//! its sign-in, or whose listeners clash with the shared ALB's, is refused by the guardrails'
//! own CEL with the policy's message.

use preview_tower::params::Mode;
use serde_json::{Map, Value, json};

use super::{
    ACCESS_SERVICES, ALB, INGRESSES, PRIVATE_API, RETENTION, access, demo_config,
    documented_jwt_validation, ingress_denials, one, refused_with, render, review,
};
use crate::admission::Outcome;
use crate::{demo_sets, scratch, tools};

/// A change a PR could make to its Ingress's annotations.
type Mutation = Box<dyn Fn(&mut Map<String, Value>)>;

/// The Ingress guardrail's refusal of other listeners.
const LISTENERS: &str = "the listeners are the whole previews ALB's";

/// What a PR could do to its Ingress, each refused by the guardrails' own CEL with the policy's
/// message, in the private service's namespace; the sign-in ones pass for the opened service.
#[test]
fn the_guardrail_refuses_a_private_preview_that_lost_its_sign_in() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-mutations");
    let config = demo_config();
    let (_, api) = demo_sets(Mode::Full)
        .into_iter()
        .find(|(s, set)| s == "api" && set["access"] == "private")
        .expect("a private api preview");
    let namespace = api["namespace"].as_str().expect("namespace").to_owned();
    let docs = render(&api, &[], &scratch.join("alb"));
    let ingress = one(&docs, "Ingress", "preview").clone();
    let denials = ingress_denials(&ingress, &namespace, &config);
    assert!(
        denials.is_empty(),
        "the overlay's own Ingress: {denials:#?}"
    );
    let key = |k: &str| format!("{ALB}{k}");
    let documented_jwt = documented_jwt_validation();
    #[rustfmt::skip]
    let sign_in: Vec<(&str, Mutation)> = vec![
        ("no sign-in at all", Box::new(|a| { a.retain(|k, _| !k.contains("/auth-")); })),
        ("auth-type none", Box::new(move |a| { a.insert(key("auth-type"), json!("none")); })),
        ("unauthenticated allowed", Box::new(move |a| { a.insert(key("auth-on-unauthenticated-request"), json!("allow")); })),
        ("another provider", Box::new(move |a| { a.insert(key("auth-idp-oidc"), json!(r#"{"issuer":"https://evil.example"}"#)); })),
        ("a JWT from anyone", Box::new(move |a| { a.insert(key("auth-type"), json!("none")); a.insert(key("jwt-validation"), json!(r#"{"issuer":"https://token.actions.githubusercontent.com"}"#)); })),
        // The CI's Ingress, while the platform has not turned JWT validation on.
        ("the documented JWT, not turned on", Box::new(move |a| { a.retain(|k, _| !k.contains("/auth-")); a.insert(key("jwt-validation"), json!(documented_jwt)); })),
    ];
    for (what, mutate) in &sign_in {
        let mut mutated = ingress.clone();
        mutate(annotations_of(&mut mutated));
        assert!(
            refused_with(&access(&mutated, &namespace, &config), PRIVATE_API),
            "{what}: {:?}",
            access(&mutated, &namespace, &config)
        );
        // The same Ingress in the opened service's namespace is the fleet's choice.
        assert_eq!(
            access(&mutated, "preview-web-pr-1", &config),
            Outcome::Admitted,
            "{what}: web is open"
        );
    }
    // Listeners of the shared ALB: refused for every preview, the opened ones too.
    #[rustfmt::skip]
    let listeners: Vec<(&str, Mutation)> = vec![
        ("HTTP on 443", Box::new(move |a| { a.insert(key("listen-ports"), json!(r#"[{"HTTP": 443}]"#)); })),
        ("another port", Box::new(move |a| { a.insert(key("listen-ports"), json!(r#"[{"HTTP": 80}, {"HTTPS": 443}, {"HTTPS": 8443}]"#)); })),
        ("redirect to 8443", Box::new(move |a| { a.insert(key("ssl-redirect"), json!("8443")); })),
        ("no listen-ports", Box::new(move |a| { a.remove(&key("listen-ports")); })),
        ("no redirect", Box::new(move |a| { a.remove(&key("ssl-redirect")); })),
    ];
    let web_namespace = namespace.replacen("-api-", "-web-", 1);
    let opened = {
        let mut opened = ingress.clone();
        annotations_of(&mut opened).insert(key("auth-type"), json!("none"));
        let host = ingress["spec"]["rules"][0]["host"].as_str().expect("host");
        opened["spec"]["rules"][0]["host"] = json!(host.replacen("api-", "web-", 1));
        opened
    };
    assert!(ingress_denials(&opened, &web_namespace, &config).is_empty());
    for (what, mutate) in &listeners {
        for (base, namespace) in [(&ingress, &namespace), (&opened, &web_namespace)] {
            let mut mutated = base.clone();
            mutate(annotations_of(&mut mutated));
            let outcome = review(INGRESSES, "ingresses", namespace, &mutated, &config);
            assert!(
                refused_with(&outcome, LISTENERS),
                "{what} in {namespace}: {outcome:?}"
            );
        }
    }
    // The CI's Ingress with exactly the platform's JWT validation is a sign-in, once turned on.
    let mut ci = ingress.clone();
    let a = annotations_of(&mut ci);
    a.retain(|k, _| !k.contains("/auth-"));
    a.insert(key("jwt-validation"), json!(documented_jwt_validation()));
    let mut turned_on = config.clone();
    turned_on["data"]["albJwtValidation"] = json!(documented_jwt_validation());
    assert_eq!(
        access(&ci, &namespace, &turned_on),
        Outcome::Admitted,
        "the CI's Ingress"
    );
    assert!(refused_with(&access(&ci, &namespace, &config), PRIVATE_API));
    // A Service's sign-in annotations win over the Ingress's: none on a preview Service.
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("a Service")
        .clone();
    let services_refusal =
        "a preview Service may not carry sign-in annotations (they override the Ingress's): ";
    for (annotation, value) in [
        ("auth-type", "none"),
        ("auth-on-unauthenticated-request", "allow"),
        (
            "jwt-validation",
            r#"{"issuer":"https://token.actions.githubusercontent.com"}"#,
        ),
    ] {
        let mut mutated = service.clone();
        mutated["metadata"]["annotations"][key(annotation)] = json!(value);
        let outcome = review(ACCESS_SERVICES, "services", &namespace, &mutated, &config);
        assert!(
            refused_with(&outcome, &format!("{services_refusal}{}", key(annotation))),
            "{annotation} on a Service: {outcome:?}"
        );
    }
    // Kept after the PR closes: refused on the Ingress too (retention.yaml).
    let mut kept = ingress.clone();
    annotations_of(&mut kept).insert(
        "argocd.argoproj.io/sync-options".into(),
        json!("ServerSideApply=true, Delete=false"),
    );
    let outcome = review(RETENTION, "ingresses", &namespace, &kept, &config);
    assert!(
        refused_with(
            &outcome,
            "a preview goes with its pull request: Ingress preview may not carry the sync option Delete=false"
        ),
        "{outcome:?}"
    );
    // Another preview's host, through a condition the controller adds to the rule's host
    // (plainly, or spelt with a JSON escape): refused (ingresses.yaml).
    for value in [
        r#"[{"field":"host-header","hostHeaderConfig":{"values":["*.preview.example.com"]}}]"#,
        r#"[{"field":"host\u002dheader","hostHeaderConfig":{"values":["web-pr-1.preview.example.com"]}}]"#,
    ] {
        let mut hijack = ingress.clone();
        annotations_of(&mut hijack).insert(key("conditions.api"), json!(value));
        let outcome = review(INGRESSES, "ingresses", &namespace, &hijack, &config);
        assert!(
            refused_with(
                &outcome,
                "a preview Ingress's conditions may not match hosts (host-header)"
            ),
            "{value}: {outcome:?}"
        );
    }
    // ingress-nginx: the controller signs in, unless the Ingress leaves it.
    let docs = render(&api, &["ingress-nginx"], &scratch.join("nginx"));
    let nginx = one(&docs, "Ingress", "preview").clone();
    let denials = ingress_denials(&nginx, &namespace, &config);
    assert!(denials.is_empty(), "the controller's sign-in: {denials:#?}");
    let mut left = nginx.clone();
    left["metadata"]["annotations"]["nginx.ingress.kubernetes.io/enable-global-auth"] = json!("0");
    assert!(
        refused_with(&access(&left, &namespace, &config), PRIVATE_API),
        "global sign-in left"
    );
    let mut elsewhere = nginx;
    elsewhere["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-url"] =
        json!("http://always-yes.preview-api-pr-1.svc.cluster.local/");
    assert!(
        refused_with(&access(&elsewhere, &namespace, &config), PRIVATE_API),
        "a proxy of the PR's"
    );
}

fn annotations_of(object: &mut Value) -> &mut Map<String, Value> {
    object["metadata"]["annotations"]
        .as_object_mut()
        .expect("annotations")
}
