//! How previews are served besides their Ingress: the Gateway API route serves every demo
//! preview, and the Vue SPA's every response says `noindex`.

use preview_tower::params::Mode;
use serde_json::json;

use super::{one, read, render};
use crate::{demo_sets, documents, previews, scratch, tools};

#[test]
fn the_gateway_route_serves_every_demo_preview_without_an_ingress() {
    if tools::Tools::find().is_none() {
        return;
    }
    let scratch = scratch("access-routes");
    let project = documents(&read("argocd/appproject.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "AppProject")
        .expect("the previews AppProject");
    for (service, set) in demo_sets(Mode::Full) {
        let name = set["name"].as_str().expect("name").to_owned();
        let docs = render(&set, &["gateway-api"], &scratch.join(&name));
        assert!(
            docs.iter().all(|d| d["kind"] != "Ingress"),
            "{name}: the route replaces the Ingress"
        );
        assert!(
            docs.iter().all(|d| d["metadata"]["name"] != "preview-oidc"),
            "{name}"
        );
        previews::assert_project_admits(&project, &docs, &set);
        let route = one(&docs, "HTTPRoute", "preview");
        assert_eq!(route["spec"]["hostnames"], json!([set["host"]]), "{name}");
        let parent = &route["spec"]["parentRefs"][0];
        assert_eq!(
            parent["name"],
            format!("previews-{}", set["access"].as_str().unwrap_or(""))
        );
        assert_eq!(parent["namespace"], "preview-gateways");
        let backend = &route["spec"]["rules"][0]["backendRefs"][0];
        assert_eq!(backend["name"], service, "{name}: the renamed Service");
        let header = &route["spec"]["rules"][0]["filters"][0];
        assert_eq!(header["type"], "ResponseHeaderModifier");
        assert_eq!(
            header["responseHeaderModifier"]["set"][0]["name"],
            "X-Robots-Tag"
        );
        assert!(
            header["responseHeaderModifier"]["set"][0]["value"]
                .as_str()
                .is_some_and(|v| v.contains("noindex"))
        );
    }
}

/// nginx drops the server's `add_header` in a location that has its own: each must repeat it.
#[test]
fn every_vue_spa_response_says_noindex() {
    let conf = read("overlays/bases/vue-spa/nginx/default.conf");
    let mut depth = 0;
    let mut blocks: Vec<(bool, bool)> = Vec::new(); // (adds headers, adds X-Robots-Tag)
    for line in conf.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if line.ends_with('{') {
            depth += 1;
            blocks.push((false, false));
        }
        if let Some(block) = blocks.last_mut()
            && line.starts_with("add_header")
        {
            block.0 = true;
            block.1 |= line.contains("X-Robots-Tag") && line.contains("noindex");
        }
        if line.ends_with('}') {
            depth -= 1;
            let (adds, robots) = blocks.pop().expect("a block");
            assert!(
                !adds || robots,
                "a block of default.conf adds headers without X-Robots-Tag"
            );
            if depth == 0 {
                assert!(robots, "the server block sends X-Robots-Tag");
            }
        }
    }
}
