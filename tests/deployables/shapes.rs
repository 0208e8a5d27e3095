//! Custom resources the conformance directory has no schema for: the Gateway API's `HTTPRoute`
//! and the AWS Load Balancer Controller's `IngressClassParams`. When the vendor schema is there
//! (`crds-catalog/<group>/<kind>_<version>.json`, as the catalog names them) it is used;
//! otherwise the object is checked against the shape below, written from the vendors' CRDs
//! (Gateway API v1 standard channel, AWS Load Balancer Controller v2.8+ `v1beta1`): every field
//! known, required ones present, values of the right type. Weaker than the schema (no formats,
//! no CEL rules), stronger than nothing.

use serde_json::{Value, json};

use crate::support::conformance;

/// The violations of `doc`, when its kind is one of these; `None` for any other kind.
pub fn check(api_version: &str, kind: &str, doc: &Value) -> Option<Vec<String>> {
    let (schema, shape) = match (api_version, kind) {
        ("gateway.networking.k8s.io/v1", "HTTPRoute") => (
            "crds-catalog/gateway.networking.k8s.io/httproute_v1.json",
            http_route(),
        ),
        ("elbv2.k8s.aws/v1beta1", "IngressClassParams") => (
            "crds-catalog/elbv2.k8s.aws/ingressclassparams_v1beta1.json",
            ingress_class_params(),
        ),
        _ => return None,
    };
    if conformance::dir().is_some_and(|dir| dir.join(schema).is_file()) {
        return Some(
            conformance::validate(schema, doc)
                .iter()
                .map(ToString::to_string)
                .collect(),
        );
    }
    let mut problems = Vec::new();
    conform(doc, &shape, "", &mut problems);
    Some(problems)
}

fn object_meta() -> Value {
    json!({"name!": "string", "namespace": "string", "labels": "map", "annotations": "map"})
}

fn http_route() -> Value {
    let header = json!([{"name!": "string", "value!": "string"}]);
    let modifier = json!({"set": header, "add": header, "remove": ["string"]});
    json!({
        "apiVersion!": "string", "kind!": "string", "metadata!": object_meta(),
        "spec!": {
            "parentRefs": [{"group": "string", "kind": "string", "namespace": "string",
                            "name!": "string", "sectionName": "string", "port": "int"}],
            "hostnames": ["string"],
            "rules": [{
                "name": "string",
                "matches": [{
                    "path": {"type": "string", "value": "string"},
                    "headers": [{"type": "string", "name!": "string", "value!": "string"}],
                    "queryParams": [{"type": "string", "name!": "string", "value!": "string"}],
                    "method": "string"
                }],
                "filters": [{
                    "type!": "string",
                    "requestHeaderModifier": modifier,
                    "responseHeaderModifier": modifier,
                    "requestRedirect": "any", "urlRewrite": "any", "requestMirror": "any",
                    "extensionRef": "any"
                }],
                "backendRefs": [{"group": "string", "kind": "string", "name!": "string",
                                 "namespace": "string", "port": "int", "weight": "int",
                                 "filters": "any"}],
                "timeouts": {"request": "string", "backendRequest": "string"}
            }]
        }
    })
}

fn ingress_class_params() -> Value {
    json!({
        "apiVersion!": "string", "kind!": "string", "metadata!": object_meta(),
        "spec": {
            "namespaceSelector": {"matchLabels": "map",
                                  "matchExpressions": [{"key!": "string", "operator!": "string",
                                                        "values": ["string"]}]},
            "group": {"name!": "string"},
            "scheme": "string", "ipAddressType": "string", "loadBalancerName": "string",
            "certificateArn": ["string"], "sslPolicy": "string", "sslRedirectPort": "string",
            "subnets": "any", "inboundCIDRs": ["string"], "tags": [{"key!": "string", "value!": "string"}],
            "loadBalancerAttributes": [{"key!": "string", "value!": "string"}],
            "listeners": "any", "minimumLoadBalancerCapacity": "any", "ipamConfiguration": "any",
            "prefixListsIDs": ["string"], "targetType": "string", "wafv2AclArn": "string",
            "wafv2AclName": "string"
        }
    })
}

/// Checks `value` at `path` against `shape`: `"string"`, `"int"`, `"map"` (of strings),
/// `"any"`, `[item]` or `{key: shape}`, a key ending in `!` being required.
fn conform(value: &Value, shape: &Value, path: &str, problems: &mut Vec<String>) {
    let wrong = |expected: &str| format!("{path}: expected {expected}, found {value}");
    match shape {
        Value::String(kind) => match kind.as_str() {
            "string" if !value.is_string() => problems.push(wrong("a string")),
            "int" if !value.is_i64() => problems.push(wrong("an integer")),
            "map"
                if !value
                    .as_object()
                    .is_some_and(|m| m.values().all(Value::is_string)) =>
            {
                problems.push(wrong("a map of strings"))
            }
            _ => {}
        },
        Value::Array(item) => match value.as_array() {
            None => problems.push(wrong("a list")),
            Some(items) => {
                for (i, v) in items.iter().enumerate() {
                    conform(v, &item[0], &format!("{path}[{i}]"), problems);
                }
            }
        },
        Value::Object(fields) => {
            let Some(object) = value.as_object() else {
                return problems.push(wrong("an object"));
            };
            for (key, field) in fields {
                let name = key.trim_end_matches('!');
                match object.get(name) {
                    Some(v) => conform(v, field, &format!("{path}.{name}"), problems),
                    None if key.ends_with('!') => problems.push(format!("{path}.{name}: required")),
                    None => {}
                }
            }
            for key in object.keys() {
                if !fields.contains_key(key) && !fields.contains_key(&format!("{key}!")) {
                    problems.push(format!("{path}.{key}: unknown field"));
                }
            }
        }
        _ => {}
    }
}

#[test]
fn shapes_refuse_unknown_fields_missing_ones_and_wrong_types() {
    let route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "preview"},
        "spec": {"parentRefs": [{"name": "g", "port": "443"}], "hostnam": ["x"],
                 "rules": [{"backendRefs": [{"port": 80}]}]}
    });
    let mut problems = Vec::new();
    conform(&route, &http_route(), "", &mut problems);
    let text = problems.join("\n");
    for expected in [
        ".spec.parentRefs[0].port: expected an integer",
        ".spec.hostnam: unknown field",
        ".spec.rules[0].backendRefs[0].name: required",
    ] {
        assert!(text.contains(expected), "{expected} not in\n{text}");
    }
    assert_eq!(problems.len(), 3, "{text}");
}
