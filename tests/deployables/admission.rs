//! The guardrails' ValidatingAdmissionPolicies, evaluated as the API server does for what they
//! use: the policy's resource rules, its binding's parameter (a missing one denies with
//! `parameterNotFoundAction: Deny`), `matchConditions`, `variables` in order, `validations` with
//! `message` or `messageExpression`, and an error counting as a denial (`failurePolicy: Fail`).
//! The CEL runs on kube-cel, which adds Kubernetes' libraries (quantity, CIDR, strings) to the
//! `cel` crate. Not checked here: the API server's type checking against the OpenAPI schemas and
//! its cost limits.

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, Program, Value as Cel};
use serde_json::Value;

use super::{documents, root};

/// One admission request.
pub struct Request<'a> {
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'a str,
    /// The resource, plural: `pods`, `namespaces`.
    pub resource: &'a str,
    /// The request's namespace; empty for cluster-scoped objects.
    pub namespace: &'a str,
    pub object: &'a Value,
    pub old_object: Option<&'a Value>,
}

/// What the binding's parameter resolves to.
pub enum Param<'a> {
    /// The policy has no `paramKind`.
    Unused,
    /// The parameter object does not exist.
    Missing,
    Found(&'a Value),
}

impl<'a> Param<'a> {
    /// `params` when `policy` takes a parameter, else [`Param::Unused`].
    pub fn for_policy(policy: &Value, params: &'a Value) -> Self {
        if policy["spec"]["paramKind"].is_object() {
            Self::Found(params)
        } else {
            Self::Unused
        }
    }
}

/// What the policy says about a request.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Its resource rules or match conditions leave the request alone.
    NotMatched,
    Admitted,
    /// The messages of the failed validations.
    Denied(Vec<String>),
}

impl Outcome {
    pub fn denied(&self) -> bool {
        matches!(self, Outcome::Denied(_))
    }
}

/// The shipped guardrails: every document of `argocd/guardrails/<file>`.
pub fn guardrails(file: &str) -> Vec<Value> {
    let path = root().join("argocd/guardrails").join(file);
    documents(&std::fs::read_to_string(path).expect("read guardrails"))
}

/// The policy named `name` in `docs`, with its binding.
pub fn policy<'a>(docs: &'a [Value], name: &str) -> (&'a Value, &'a Value) {
    let find = |kind: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    let binding = find("ValidatingAdmissionPolicyBinding");
    assert_eq!(binding["spec"]["policyName"], name);
    (find("ValidatingAdmissionPolicy"), binding)
}

fn cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Cel::Int)
            .or_else(|| n.as_u64().map(Cel::UInt))
            .unwrap_or_else(|| Cel::Float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(cel).collect())),
        Value::Object(map) => Cel::Map(Map {
            map: Arc::new(
                map.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), cel(v)))
                    .collect(),
            ),
        }),
    }
}

fn matches_rules(policy: &Value, request: &Request) -> bool {
    let rules = policy["spec"]["matchConstraints"]["resourceRules"]
        .as_array()
        .expect("resourceRules");
    let has = |list: &Value, item: &str| {
        list.as_array()
            .into_iter()
            .flatten()
            .any(|v| v == "*" || v == item)
    };
    rules
        .iter()
        .any(|r| has(&r["operations"], request.operation) && has(&r["resources"], request.resource))
}

/// Runs `expression`: its value, or the error as text.
fn run(context: &Context, expression: &str) -> Result<Cel, String> {
    let program = Program::compile(expression).map_err(|e| format!("compile: {e}"))?;
    program.execute(context).map_err(|e| format!("{e}"))
}

fn is_true(context: &Context, expression: &str) -> Result<bool, String> {
    match run(context, expression)? {
        Cel::Bool(b) => Ok(b),
        other => Err(format!("not a boolean: {other:?}")),
    }
}

/// Evaluates `policy` (with its `binding`) on `request`.
pub fn review(policy: &Value, binding: &Value, request: &Request, param: Param) -> Outcome {
    let spec = &policy["spec"];
    if !matches_rules(policy, request) {
        return Outcome::NotMatched;
    }
    let params = match (spec["paramKind"].is_object(), param) {
        (false, _) => None,
        (true, Param::Found(p)) => Some(p),
        (true, Param::Unused) => panic!("the policy takes a parameter: give one, or Missing"),
        (true, Param::Missing) => {
            let action = &binding["spec"]["paramRef"]["parameterNotFoundAction"];
            return if action == "Deny" {
                Outcome::Denied(vec!["parameter not found".into()])
            } else {
                Outcome::Admitted
            };
        }
    };
    let mut context = Context::default().with_all();
    let userinfo = serde_json::json!({"username": "system:serviceaccount:argocd:argocd-application-controller"});
    let request_value = serde_json::json!({
        "operation": request.operation,
        "namespace": request.namespace,
        "name": request.object["metadata"]["name"],
        "resource": {"resource": request.resource},
        "userInfo": userinfo,
    });
    let bind = |context: &mut Context, name: &str, value: Cel| {
        context.add_variable(name, value).expect("bind");
    };
    bind(&mut context, "object", cel(request.object));
    bind(
        &mut context,
        "oldObject",
        request.old_object.map_or(Cel::Null, cel),
    );
    bind(&mut context, "request", cel(&request_value));
    bind(&mut context, "params", params.map_or(Cel::Null, cel));
    for condition in spec["matchConditions"].as_array().into_iter().flatten() {
        let expression = condition["expression"].as_str().expect("expression");
        match is_true(&context, expression) {
            Ok(true) => {}
            Ok(false) => return Outcome::NotMatched,
            Err(e) => return Outcome::Denied(vec![format!("matchCondition error: {e}")]),
        }
    }
    let mut variables: HashMap<Key, Cel> = HashMap::new();
    for variable in spec["variables"].as_array().into_iter().flatten() {
        let name = variable["name"].as_str().expect("name");
        // A variable that fails fails the validations that use it, as in the API server.
        if let Ok(value) = run(
            &context,
            variable["expression"].as_str().expect("expression"),
        ) {
            variables.insert(Key::String(Arc::new(name.to_owned())), value);
        }
        let map = Cel::Map(Map {
            map: Arc::new(variables.clone()),
        });
        bind(&mut context, "variables", map);
    }
    let mut denials = Vec::new();
    for validation in spec["validations"].as_array().expect("validations") {
        let expression = validation["expression"].as_str().expect("expression");
        match is_true(&context, expression) {
            Ok(true) => {}
            Ok(false) => {
                let message = validation["messageExpression"]
                    .as_str()
                    .and_then(|m| match run(&context, m) {
                        Ok(Cel::String(s)) => Some(s.to_string()),
                        _ => None,
                    })
                    .or_else(|| validation["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("failed: {expression}"));
                denials.push(message);
            }
            Err(e) => denials.push(format!("error in `{expression}`: {e}")),
        }
    }
    if denials.is_empty() {
        Outcome::Admitted
    } else {
        Outcome::Denied(denials)
    }
}

/// Every expression of every shipped policy compiles, and every message expression yields text
/// when its validation fails (checked where the tests make them fail).
#[test]
fn every_guardrail_expression_compiles() {
    let mut files = Vec::new();
    super::yaml_files(&root().join("argocd/guardrails"), &mut files);
    let mut checked = 0;
    for file in files {
        for doc in documents(&std::fs::read_to_string(&file).expect("read")) {
            if doc["kind"] != "ValidatingAdmissionPolicy" {
                continue;
            }
            let spec = &doc["spec"];
            let expressions = ["matchConditions", "variables", "validations"]
                .iter()
                .flat_map(|k| spec[*k].as_array().cloned().unwrap_or_default())
                .flat_map(|e| {
                    ["expression", "messageExpression"].map(|k| e[k].as_str().map(str::to_owned))
                })
                .flatten();
            for expression in expressions {
                if let Err(e) = Program::compile(&expression) {
                    panic!(
                        "{}: {}: {e}\n{expression}",
                        file.display(),
                        doc["metadata"]["name"]
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} expressions");
}
