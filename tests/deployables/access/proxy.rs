//! The sign-in proxy is the platform's, and runs restricted.

use preview_tower::fleet::Fleet;
use serde_json::{Value, json};

use super::{annotation, guardrail_params, one, param, read};
use crate::{documents, root, tools};

/// The restricted Pod Security profile, as the API server checks it, plus our own bar
/// (read-only root filesystem, no service account token).
fn assert_restricted(pod: &Value, what: &str) {
    let context = &pod["securityContext"];
    assert_eq!(context["runAsNonRoot"], true, "{what}");
    assert_eq!(
        context["seccompProfile"]["type"], "RuntimeDefault",
        "{what}"
    );
    assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        assert_ne!(pod[key], true, "{what}: {key}");
    }
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod[*k].as_array().cloned().unwrap_or_default());
    for container in containers {
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false, "{what}");
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]), "{what}");
        assert_eq!(security["readOnlyRootFilesystem"], true, "{what}");
        assert_ne!(security["privileged"], true, "{what}");
        assert!(
            container["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|p| p["hostPort"].is_null())
        );
        assert!(
            container["resources"]["limits"]["memory"].is_string(),
            "{what}: a memory limit"
        );
    }
}

#[test]
fn the_sign_in_proxy_is_the_platforms_and_restricted() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let docs = documents(
        &tools
            .kustomize(&root().join("platform/oauth2-proxy"))
            .expect("render"),
    );
    let fleet = Fleet::from_yaml(&read("manifests/fleet.yaml")).expect("fleet");
    let namespace = one(&docs, "Namespace", "preview-auth");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let deployment = one(&docs, "Deployment", "oauth2-proxy");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_restricted(pod, "oauth2-proxy");
    let container = &pod["containers"][0];
    let args = crate::container_args(container);
    let arg = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("--{name}"))
    };
    assert!(!arg("github-org").is_empty());
    assert_eq!(arg("cookie-domain"), format!(".{}", fleet.base_domain));
    assert_eq!(arg("whitelist-domain"), format!(".{}", fleet.base_domain));
    assert_eq!(
        arg("redirect-url"),
        format!("https://auth.{}/oauth2/callback", fleet.base_domain)
    );
    assert!(
        args.iter().all(|a| !a.contains("secret")),
        "secrets come from the ExternalSecret, never from the arguments: {args:?}"
    );
    let env = container["env"].to_string();
    for variable in ["OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET"] {
        assert!(
            env.contains(variable) && env.contains("secretKeyRef"),
            "{variable}"
        );
    }
    let secret = one(&docs, "ExternalSecret", "oauth2-proxy");
    assert_eq!(secret["spec"]["target"]["name"], "oauth2-proxy");
    // The controller asks this very Service, on its port.
    let service = one(&docs, "Service", "oauth2-proxy");
    let port = service["spec"]["ports"][0]["port"].as_u64().expect("port");
    let expected = format!("http://oauth2-proxy.preview-auth.svc.cluster.local:{port}/oauth2/auth");
    assert_eq!(param(&guardrail_params(), "nginxAuthUrl"), expected);
    let ingress = one(&docs, "Ingress", "oauth2-proxy");
    assert_eq!(
        ingress["spec"]["rules"][0]["host"],
        format!("auth.{}", fleet.base_domain)
    );
    // The sign-in pages are not behind the sign-in, and no preview has a proxy of its own.
    assert_eq!(
        annotation(ingress, "nginx.ingress.kubernetes.io/enable-global-auth"),
        Some("false")
    );
    assert!(!root().join("overlays/components/oauth2-proxy").exists());
}
