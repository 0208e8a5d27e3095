//! A sleeping preview falls through to the anchor, which is the last rule of its ALB group.

use preview_tower::fleet::Fleet;
use preview_tower::params::ASLEEP_PATH;
use serde_json::Value;

use super::{ALB, annotation, one, read, render};
use crate::{demo_sets_at, documents, root, scratch, tools};

#[test]
fn a_sleeping_preview_falls_through_to_the_anchor() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-asleep");
    let mut slept = 0;
    // Saturday noon in Paris: the demo previews sleep, but billing's PR opts out.
    for (service, set) in demo_sets_at(Some(crate::ASLEEP_AT)) {
        let name = set["name"].as_str().expect("name").to_owned();
        let docs = render(&set, &[], &scratch.join(&name));
        let path = &one(&docs, "Ingress", "preview")["spec"]["rules"][0]["http"]["paths"][0];
        let asleep = set["replicas"] == "0";
        slept += usize::from(asleep);
        let expected = if asleep { ASLEEP_PATH } else { "/" };
        assert_eq!(path["path"], expected, "{service}");
        let docs = render(
            &set,
            &["gateway-api"],
            &scratch.join(format!("{name}-route")),
        );
        let route = one(&docs, "HTTPRoute", "preview");
        assert_eq!(
            route["spec"]["rules"][0]["matches"][0]["path"]["value"],
            expected
        );
    }
    assert!(slept > 0, "nothing slept on Saturday");
}

#[test]
fn the_anchor_is_the_last_rule_of_the_previews_group() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let docs = documents(&tools.kustomize(&root().join("platform")).expect("platform"));
    let fleet = Fleet::from_yaml(&read("manifests/fleet.yaml")).expect("fleet");
    let wildcard = format!("*.{}", fleet.base_domain);
    let anchor = one(&docs, "Ingress", "anchor");
    let namespace = anchor["metadata"]["namespace"].as_str().expect("namespace");
    let ns = one(&docs, "Namespace", namespace);
    assert!(
        ns["metadata"]["labels"]["preview-tower.io/preview"].is_null()
            && !namespace.contains("-pr-"),
        "the anchor's namespace is no preview's: the preview guardrails would refuse it"
    );
    let class = anchor["spec"]["ingressClassName"].as_str().expect("class");
    let params = one(&docs, "IngressClassParams", class);
    assert_eq!(params["spec"]["group"]["name"], "previews");
    assert_eq!(
        params["spec"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        namespace
    );
    assert_eq!(
        one(&docs, "IngressClass", class)["spec"]["parameters"]["name"],
        class
    );
    // What the whole ALB shares must be the previews' class's (docs/overlays.md).
    let documented = read("docs/overlays.md");
    for field in ["scheme", "sslPolicy"] {
        let value = params["spec"][field].as_str().expect(field);
        assert!(
            documented.contains(&format!("{field}: {value}")),
            "{field}: {value}"
        );
    }
    let arn = params["spec"]["certificateArn"][0]
        .as_str()
        .expect("certificate");
    assert!(documented.contains(arn), "{arn}");
    // Last: the highest order, a rule for every host of the domain, a page that says why.
    assert_eq!(
        annotation(anchor, &format!("{ALB}group.order")),
        Some("1000")
    );
    let rule = &anchor["spec"]["rules"][0];
    assert_eq!(rule["host"], wildcard.as_str());
    let path = &rule["http"]["paths"][0];
    assert_eq!(
        (path["path"].as_str(), path["pathType"].as_str()),
        (Some("/"), Some("Prefix"))
    );
    let action_name = path["backend"]["service"]["name"].as_str().expect("action");
    assert_eq!(path["backend"]["service"]["port"]["name"], "use-annotation");
    let action: Value = serde_json::from_str(
        annotation(anchor, &format!("{ALB}actions.{action_name}")).expect("the action"),
    )
    .expect("JSON");
    let response = &action["fixedResponseConfig"];
    assert_eq!(action["type"], "fixed-response");
    assert_eq!(response["contentType"], "text/html");
    let page = response["messageBody"].as_str().expect("page");
    assert!(page.len() <= 1024, "the ALB allows 1 KiB: {}", page.len());
    assert!(
        page.contains("/preview wake") && page.contains("noindex"),
        "{page}"
    );
    // A preview may not reorder itself after the anchor: group.order is not on the allow-list.
    let ingresses = read("argocd/guardrails/ingresses.yaml");
    assert!(!ingresses.contains("'group.order'"));
    assert!(ASLEEP_PATH != "/" && ASLEEP_PATH.starts_with('/'));
    // robots.txt before every preview's rule.
    let robots = one(&docs, "Ingress", "robots");
    assert_eq!(
        annotation(robots, &format!("{ALB}group.order")),
        Some("-1000")
    );
    let path = &robots["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(
        (path["path"].as_str(), path["pathType"].as_str()),
        (Some("/robots.txt"), Some("Exact"))
    );
    assert_eq!(robots["spec"]["rules"][0]["host"], wildcard.as_str());
}
