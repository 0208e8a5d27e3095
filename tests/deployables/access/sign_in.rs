//! Who signs in: every demo preview's Ingress signs visitors in unless the fleet opened its
//! service, and the open patch removes the sign-in on either controller; the guardrail lists
//! exactly the services the fleets open, expects exactly the sign-in the overlays write, and
//! checks every preview Ingress, Service and route.

use preview_tower::fleet::Fleet;
use preview_tower::params::{self, Mode};
use serde_json::{Value, json};

use super::{
    ACCESS_SERVICES, ALB, PRIVATE_API, access, annotation, demo_config, documented_jwt_validation,
    guardrail_params, ingress_denials, is_open, list, one, open_services, param, public, read,
    refused_with, render, review,
};
use crate::admission::Outcome;
use crate::{demo_sets, documents, scratch, tools};

#[test]
fn the_demo_fleet_opens_one_service_and_the_guardrail_lists_the_same() {
    let params = guardrail_params();
    let listed = list(param(&params, "openServices"));
    let deployed = Fleet::from_yaml(&read("manifests/fleet.yaml")).expect("valid fleet");
    let demo = preview_tower::demo::fleet().expect("demo fleet");
    assert_eq!(
        open_services(&demo),
        ["web"],
        "the demo opens exactly one service"
    );
    for (origin, fleet) in [
        ("manifests/fleet.yaml", &deployed),
        ("the demo fleet", &demo),
    ] {
        assert_eq!(
            open_services(fleet),
            listed,
            "{origin} and argocd/guardrails/parameters.yaml `openServices` disagree"
        );
    }
    assert_eq!(
        param(&params, "namespacePrefix"),
        deployed.namespace_prefix,
        "the guardrails derive the service from the namespace"
    );
}

#[test]
fn every_demo_preview_signs_in_unless_the_fleet_opened_it() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-demo");
    let config = demo_config();
    let mut seen = [0, 0];
    for (_, set) in demo_sets(Mode::Full) {
        let name = set["name"].as_str().expect("name").to_owned();
        let docs = render(&set, &[], &scratch.join(&name));
        let ingress = one(&docs, "Ingress", "preview");
        let access = set["access"].as_str().expect("access");
        assert_eq!(
            ingress["metadata"]["labels"][params::ACCESS_LABEL],
            access,
            "{name}"
        );
        if access == "public" {
            seen[1] += 1;
            assert!(is_open(ingress), "{name}");
        } else {
            seen[0] += 1;
            assert!(!is_open(ingress), "{name}");
            assert_eq!(
                annotation(ingress, &format!("{ALB}auth-type")),
                Some("oidc")
            );
            let secret = one(&docs, "ExternalSecret", "preview-oidc");
            assert_eq!(secret["spec"]["target"]["name"], "preview-oidc");
            let idp: Value = serde_json::from_str(
                annotation(ingress, &format!("{ALB}auth-idp-oidc")).expect("auth-idp-oidc"),
            )
            .expect("JSON");
            assert_eq!(idp["secretName"], "preview-oidc", "{name}");
        }
        // Every Ingress guardrail, in the preview's own namespace; its Services too.
        let namespace = set["namespace"].as_str().expect("namespace");
        let denials = ingress_denials(ingress, namespace, &config);
        assert!(denials.is_empty(), "{name}: {denials:#?}");
        for service in docs.iter().filter(|d| d["kind"] == "Service") {
            let outcome = review(ACCESS_SERVICES, "services", namespace, service, &config);
            assert_eq!(
                outcome,
                Outcome::Admitted,
                "{name}: {}",
                service["metadata"]["name"]
            );
        }
    }
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "private and public previews: {seen:?}"
    );
}

#[test]
fn the_open_patch_removes_the_sign_in_on_either_controller() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-open");
    let (_, api) = demo_sets(Mode::Full)
        .into_iter()
        .find(|(s, set)| s == "api" && set["access"] == "private")
        .expect("a private api preview");
    let config = demo_config();
    let namespace = api["namespace"].as_str().expect("namespace");
    for components in [&[][..], &["ingress-nginx"][..]] {
        let dir = scratch.join(format!("with-{}", components.len()));
        let private = render(&api, components, &dir.join("private"));
        let ingress = one(&private, "Ingress", "preview");
        assert!(!is_open(ingress), "{components:?}");
        let denials = ingress_denials(ingress, namespace, &config);
        assert!(denials.is_empty(), "{components:?}: {denials:#?}");
        let opened = render(&public(&api), components, &dir.join("public"));
        let ingress = one(&opened, "Ingress", "preview");
        assert!(is_open(ingress), "{components:?}");
        // No annotation written as the text "null" (what Kustomize makes of a null).
        let annotations = ingress["metadata"]["annotations"].to_string();
        assert!(!annotations.contains("\"null\""), "{annotations}");
        // The very Ingress, in a namespace of a service the fleet did not open: refused.
        assert!(
            refused_with(&access(ingress, namespace, &config), PRIVATE_API),
            "{components:?}: an opened Ingress of a private service"
        );
        // In the namespace of the service the fleet opened, it passes every guardrail.
        let web = namespace.replacen("-api-", "-web-", 1);
        let mut web_ingress = ingress.clone();
        web_ingress["spec"]["rules"][0]["host"] = json!(
            ingress["spec"]["rules"][0]["host"]
                .as_str()
                .expect("host")
                .replacen("api-", "web-", 1)
        );
        let denials = ingress_denials(&web_ingress, &web, &config);
        assert!(denials.is_empty(), "{components:?}: {denials:#?}");
    }
}

/// Every preview Ingress and Service is checked, with the parameters or not at all.
#[test]
fn every_preview_ingress_service_and_route_is_checked() {
    let docs = documents(&read("argocd/guardrails/access.yaml"));
    for (name, param_ref) in [
        ("preview-tower-access", true),
        ("preview-tower-access-services", false),
        ("preview-tower-access-routes", true),
    ] {
        let binding = one(&docs, "ValidatingAdmissionPolicyBinding", name);
        assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
        assert_eq!(
            binding["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]["preview-tower.io/preview"],
            "true"
        );
        if param_ref {
            assert_eq!(
                binding["spec"]["paramRef"]["name"],
                "preview-tower-guardrails"
            );
            assert_eq!(
                binding["spec"]["paramRef"]["parameterNotFoundAction"],
                "Deny"
            );
        }
    }
    let routes = one(
        &docs,
        "ValidatingAdmissionPolicy",
        "preview-tower-access-routes",
    );
    let text = routes["spec"].to_string();
    for needle in [
        "params.data.privateGateway",
        "params.data.publicGateway",
        "h in variables.ownHosts",
        "has(p.namespace)",
    ] {
        assert!(text.contains(needle), "routes lack {needle}");
    }
}

/// The guardrail's parameters are the sign-in the overlays write, character for character.
#[test]
fn the_guardrail_expects_the_sign_in_the_overlays_write() {
    let params = guardrail_params();
    let base = documents(&read("overlays/bases/common/ingress.yaml"));
    let ingress = one(&base, "Ingress", "preview");
    assert_eq!(
        annotation(ingress, &format!("{ALB}auth-idp-oidc")),
        Some(param(&params, "albAuthIdpOidc"))
    );
    let route = documents(&read("overlays/components/gateway-api/httproute.yaml"));
    let parent = &one(&route, "HTTPRoute", "preview")["spec"]["parentRefs"][0];
    let private = format!(
        "{}/{}",
        parent["namespace"].as_str().unwrap_or(""),
        parent["name"].as_str().unwrap_or("")
    );
    assert_eq!(private, param(&params, "privateGateway"));
    assert_eq!(
        param(&params, "publicGateway"),
        private.replace("-private", "-public"),
        "the ApplicationSets pick previews-<access>"
    );
    // JWT validation is off until the platform turns it on: controllers before 2.15, and EKS
    // Auto Mode's, ignore `jwt-validation` and would leave the CI's Ingress open.
    assert_eq!(param(&params, "albJwtValidation"), "");
    // The ALB checks the CI's JWT: GitHub's issuer is every repository's on GitHub, so a
    // claim must name the organisation.
    let jwt: Value = serde_json::from_str(&documented_jwt_validation()).expect("JSON");
    let claims = jwt["additionalClaims"].to_string();
    assert!(
        claims.contains("repository_owner_id") && claims.contains("\"aud\""),
        "{claims}"
    );
}
