//! A preview owns no namespace but its own: a Namespace renamed to `production` by a PR's
//! transformer is refused by the namespace guard, created or taken over, on every Argo CD.

use serde_json::{Value, json};

use super::{render, sets};
use crate::admission::{self, Outcome, Param, Request};

/// The tracking annotation Argo CD writes on what it applies for `application`.
fn tracked(mut object: Value, application: &str) -> Value {
    let name = object["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    object["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] =
        json!(format!("{application}:/Namespace:/{name}"));
    object
}

fn review_namespace(object: &Value, old: Option<&Value>) -> Vec<(String, Outcome)> {
    let docs = admission::guardrails("namespaces.yaml");
    ["preview-tower-namespaces", "preview-tower-namespace-owners"]
        .iter()
        .map(|name| {
            let (policy, binding) = admission::policy(&docs, name);
            let request = Request {
                operation: if old.is_some() { "UPDATE" } else { "CREATE" },
                resource: "namespaces",
                namespace: "",
                object,
                old_object: old,
            };
            (
                (*name).to_owned(),
                admission::review(policy, binding, &request, Param::Unused),
            )
        })
        .collect()
}

/// On Argo CD before 3.2 nothing in the AppProject stops a preview from shipping `Namespace
/// production`: an overlay whose transformer renames its Namespace after Argo CD's namespace
/// override. The namespace guard refuses it, created or taken over, on every Argo CD.
#[test]
fn a_preview_cannot_own_a_namespace_but_its_own() {
    let (appset, sets) = sets();
    let set = sets.iter().find(|s| s["service"] == "api").expect("api");
    let application = set["name"].as_str().expect("name");
    let rename = json!([{"target": {"kind": "Namespace"}, "patch": r#"[{"op":"replace","path":"/metadata/name","value":"production"}]"#}]);
    let Some(docs) = render(&appset, set, "rename", Some(rename)) else {
        return;
    };
    let namespace = docs
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .expect("a Namespace");
    assert_eq!(
        namespace["metadata"]["name"], "production",
        "the overlay renamed it"
    );
    let renamed = tracked(namespace.clone(), application);
    let outcomes = review_namespace(&renamed, None);
    let refusal = format!("namespace production is not the namespace of the preview {application}");
    let refused = |outcomes: &[(String, Outcome)]| {
        outcomes.iter().any(|(name, o)| {
            name == "preview-tower-namespace-owners"
                && matches!(o, Outcome::Denied(m) if m.iter().any(|m| m.starts_with(&refusal)))
        })
    };
    assert!(refused(&outcomes), "created: {outcomes:?}");
    // Taken over: `production` exists, untracked; Argo CD's apply adds its tracking.
    let existing =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "production"}});
    let takeover = tracked(existing.clone(), application);
    let outcomes = review_namespace(&takeover, Some(&existing));
    assert!(refused(&outcomes), "taken over: {outcomes:?}");
    // The label of label tracking says the same.
    for key in ["app.kubernetes.io/instance", "argocd.argoproj.io/instance"] {
        let mut labelled = existing.clone();
        labelled["metadata"]["labels"] = json!({key: application});
        assert!(
            refused(&review_namespace(&labelled, Some(&existing))),
            "label tracking under {key}"
        );
    }

    // The preview's own namespace, as rendered, and namespaces other Applications track, pass.
    let Some(docs) = render(&appset, set, "own", None) else {
        return;
    };
    let own = tracked(
        docs.iter()
            .find(|d| d["kind"] == "Namespace")
            .expect("ns")
            .clone(),
        application,
    );
    for (name, outcome) in review_namespace(&own, None) {
        assert!(
            !outcome.denied(),
            "{name} refuses the preview's own namespace: {outcome:?}"
        );
    }
    let staging = tracked(existing, "platform-staging");
    for (name, outcome) in review_namespace(&staging, None) {
        assert!(
            !outcome.denied(),
            "{name} refuses a namespace of another Application: {outcome:?}"
        );
    }
}
