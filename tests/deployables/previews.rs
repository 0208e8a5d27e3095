//! What a rendered preview must be, checked object by object against its parameter set.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{WAVE, str_of};

const HOOK: &str = "argocd.argoproj.io/hook";

/// The example overlay the demo service's app repo holds: `web` is the Vue app, `api` the
/// Django app, `billing` a second Django app.
pub fn example_overlay(root: &Path, set: &Map<String, Value>) -> PathBuf {
    let example = match set["service"].as_str() {
        Some("web") => "vue-app",
        Some("api") => "django-app",
        Some("billing") => "billing-app",
        other => panic!("no example overlay for service {other:?}"),
    };
    root.join("overlays/examples")
        .join(example)
        .join(set["overlay_path"].as_str().expect("overlay_path"))
}

/// The Application deletes everything it made, its namespace included, and syncs itself.
pub fn assert_application_owns_its_preview(app: &Value, set: &Map<String, Value>, origin: &str) {
    let finalizers = app["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        finalizers
            .iter()
            .any(|f| f == "resources-finalizer.argocd.argoproj.io"),
        "{origin}: no resources finalizer"
    );
    assert_eq!(
        app["spec"]["destination"]["namespace"], set["namespace"],
        "{origin}"
    );
    assert_eq!(app["spec"]["project"], "previews", "{origin}");
    let automated = &app["spec"]["syncPolicy"]["automated"];
    assert_eq!(automated["prune"], true, "{origin}");
    assert_eq!(automated["selfHeal"], true, "{origin}");
    let options = app["spec"]["syncPolicy"]["syncOptions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for option in ["PruneLast=true", "FailOnSharedResource=true"] {
        assert!(
            options.iter().any(|o| o == option),
            "{origin}: syncOptions lack {option}"
        );
    }
    assert!(
        !options.iter().any(|o| o == "CreateNamespace=true"),
        "{origin}: a namespace made by CreateNamespace outlives the Application"
    );
    let source = &app["spec"]["source"];
    assert_eq!(source["targetRevision"], set["revision"], "{origin}");
    assert_eq!(source["repoURL"], set["repo_url"], "{origin}");
}

fn pod_spec(doc: &Value) -> Option<&Value> {
    match str_of(doc, "kind") {
        "Deployment" | "StatefulSet" | "Job" => Some(&doc["spec"]["template"]["spec"]),
        _ => None,
    }
}

fn images(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(doc) else {
        return Vec::new();
    };
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().cloned().unwrap_or_default())
        .map(|c| str_of(&c, "image").to_owned())
        .collect()
}

/// The images of the main containers (not the init containers).
fn main_images(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(doc) else {
        return Vec::new();
    };
    spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| str_of(c, "image").to_owned())
        .collect()
}

fn wave(doc: &Value) -> i64 {
    doc["metadata"]["annotations"][WAVE]
        .as_str()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

fn assert_scheduling(doc: &Value, set: &Map<String, Value>, what: &str) {
    let spec = pod_spec(doc).expect("a workload");
    let affinity = &spec["affinity"]["nodeAffinity"];
    let label = str_of(&Value::Object(set.clone()), "capacity_type_label").to_owned();
    if set["capacity_type"] == "spot" {
        // Preferred, not required: without spot capacity the pods land on on-demand nodes.
        let preferred = affinity["preferredDuringSchedulingIgnoredDuringExecution"].to_string();
        assert!(
            preferred.contains(&label) && preferred.contains("\"In\""),
            "{what}: {affinity}"
        );
        assert!(
            affinity["requiredDuringSchedulingIgnoredDuringExecution"].is_null(),
            "{what}: spot must not be required"
        );
        assert!(
            spec["tolerations"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "{what}"
        );
    } else {
        let required = affinity["requiredDuringSchedulingIgnoredDuringExecution"].to_string();
        assert!(
            required.contains(&label) && required.contains("NotIn"),
            "{what}: {affinity}"
        );
    }
}

/// One rendered preview against its parameter set.
pub fn assert_preview(docs: &[Value], set: &Map<String, Value>) {
    let namespace = set["namespace"].as_str().expect("namespace");
    let namespaces: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Namespace").collect();
    assert_eq!(
        namespaces.len(),
        1,
        "{namespace}: the preview ships its own Namespace"
    );
    assert_eq!(namespaces[0]["metadata"]["name"], namespace);
    for doc in docs.iter().filter(|d| d["kind"] != "Namespace") {
        let what = format!(
            "{namespace}: {}/{}",
            str_of(doc, "kind"),
            str_of(&doc["metadata"], "name")
        );
        assert_eq!(
            doc["metadata"]["namespace"], namespace,
            "{what} is outside the preview namespace"
        );
        for image in images(doc) {
            assert!(
                !image.starts_with("preview-"),
                "{what}: image placeholder {image} left"
            );
        }
        if pod_spec(doc).is_some() {
            assert_scheduling(doc, set, &what);
        }
        let key = match doc["metadata"]["labels"]["preview-tower.io/replicas"].as_str() {
            Some("preview") => Some("replicas"),
            Some("database") => Some("database_replicas"),
            _ => None,
        };
        if let Some(key) = key {
            let expected = set[key].as_str().unwrap_or("");
            assert_eq!(
                doc["spec"]["replicas"].to_string(),
                expected,
                "{what}: {key}"
            );
        }
    }
    let env = docs
        .iter()
        .find(|d| {
            d["kind"] == "ConfigMap" && str_of(&d["metadata"], "name").starts_with("preview-env")
        })
        .expect("ConfigMap preview-env");
    assert_eq!(
        env["data"], set["env"],
        "{namespace}: the workloads' environment is the set's"
    );
    let ingress = docs
        .iter()
        .find(|d| d["kind"] == "Ingress" && d["metadata"]["name"] == "preview")
        .expect("Ingress preview");
    assert_eq!(
        ingress["spec"]["ingressClassName"], "alb-previews",
        "{namespace}: the platform's preview IngressClass, not annotations a PR could change"
    );
    assert_eq!(
        ingress["spec"]["rules"][0]["host"], set["host"],
        "{namespace}"
    );
    assert_internal_url_answers(docs, set);
    let app = docs
        .iter()
        .find(|d| {
            d["kind"] == "Deployment"
                && images(d)
                    .iter()
                    .any(|i| Some(i.as_str()) == set["image"].as_str())
        })
        .expect("the app Deployment runs the preview's image");
    let loads_env = app
        .to_string()
        .contains("\"configMapRef\":{\"name\":\"preview-env-");
    assert!(
        loads_env,
        "{namespace}: the app loads preview-env with envFrom"
    );
    match set["kind"].as_str() {
        Some("backend") => assert_backend(docs, set, app),
        _ => assert_frontend(docs, set),
    }
}

fn assert_backend(docs: &[Value], set: &Map<String, Value>, web: &Value) {
    let namespace = set["namespace"].as_str().unwrap_or_default();
    let postgres_image = set["postgres_image"].as_str().expect("postgres_image");
    let workload_with = |pred: &dyn Fn(&str) -> bool| {
        docs.iter()
            .filter(|d| matches!(str_of(d, "kind"), "Deployment" | "StatefulSet"))
            .find(|d| main_images(d).iter().any(|i| pred(i)))
    };
    let databases = set["databases"].as_str().unwrap_or_default();
    assert!(
        databases.contains("postgres"),
        "{namespace}: the demo backends run PostgreSQL"
    );
    let mut database_workloads = Vec::new();
    for database in databases.split(',').filter(|d| !d.is_empty()) {
        let workload = match database {
            "postgres" => workload_with(&|i| i == postgres_image),
            "redis" => workload_with(&|i| i.contains("redis")),
            "mongodb" => workload_with(&|i| i.contains("mongo")),
            other => panic!("unknown database {other}"),
        };
        let workload =
            workload.unwrap_or_else(|| panic!("{namespace}: {database} runs in the preview"));
        assert_eq!(
            workload["metadata"]["labels"]["preview-tower.io/replicas"], "database",
            "{namespace}: {database} follows database_replicas, never replicas"
        );
        if database == "postgres" {
            // A Deployment recreated from the seed image: a crash-looping StatefulSet pod never
            // rolls and would keep the sync Progressing forever.
            assert_eq!(workload["kind"], "Deployment", "{namespace}: postgres");
            assert_eq!(
                workload["spec"]["strategy"]["type"], "Recreate",
                "{namespace}: postgres"
            );
        }
        database_workloads.push(workload);
    }
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("the migration Job");
    assert_eq!(
        job["metadata"]["annotations"][HOOK], "Sync",
        "{namespace}: the migration is a Sync hook"
    );
    let waves: Vec<i64> = database_workloads.iter().map(|d| wave(d)).collect();
    assert!(
        waves.iter().all(|w| *w < wave(job)) && wave(job) < wave(web),
        "{namespace}: waves databases {waves:?} < migration {} < web {}",
        wave(job),
        wave(web)
    );
    let service = set["service"].as_str().unwrap_or_default();
    let secrets = docs
        .iter()
        .find(|d| d["kind"] == "ExternalSecret")
        .unwrap_or_else(|| panic!("{namespace}: app secrets from AWS"));
    assert_eq!(
        secrets["spec"]["secretStoreRef"]["name"],
        format!("aws-secrets-manager-previews-{service}"),
        "{namespace}: the service's own secret store, so a PR cannot read another service's"
    );
    // The web Deployment's environment: its own `env` and the ConfigMaps and Secrets it loads.
    let loaded = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap" || d["kind"] == "Secret")
        .map(Value::to_string);
    let web_text: String = std::iter::once(web.to_string()).chain(loaded).collect();
    let mut variables = vec!["DATABASE_URL"];
    if databases.contains("redis") {
        variables.push("REDIS_URL");
    }
    if databases.contains("mongodb") {
        variables.push("MONGODB_URL");
    }
    for variable in variables {
        assert!(
            web_text.contains(variable),
            "{namespace}: the web Deployment gets {variable}"
        );
    }
    // Django's host settings, expanded as the kubelet does from preview-env.
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    let env = &set["env"];
    let host = set["host"].as_str().unwrap_or_default();
    let url = set["url"].as_str().unwrap_or_default();
    let allowed = expanded_env(container, "DJANGO_ALLOWED_HOSTS", env).unwrap_or_default();
    assert!(
        allowed.split(',').any(|h| h == host),
        "{namespace}: ALLOWED_HOSTS {allowed:?}"
    );
    let csrf = expanded_env(container, "DJANGO_CSRF_TRUSTED_ORIGINS", env).unwrap_or_default();
    assert!(
        csrf.split(',').any(|o| o == url),
        "{namespace}: CSRF_TRUSTED_ORIGINS {csrf:?}"
    );
    let cors = expanded_env(container, "DJANGO_CORS_ALLOWED_ORIGIN_REGEXES", env)
        .unwrap_or_else(|| panic!("{namespace}: CORS origins for the preview domain"));
    let base = set["base_domain"].as_str().unwrap_or_default();
    assert!(
        cors.contains(&base.replace('.', "\\.")) || cors.contains(base),
        "{namespace}: CORS admits the preview domain: {cors:?}"
    );
}

fn assert_frontend(docs: &[Value], set: &Map<String, Value>) {
    let namespace = set["namespace"].as_str().unwrap_or_default();
    // The runtime config: a `config.js` template that nginx fills from the environment at start.
    let template = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .flat_map(|d| d["data"].as_object().cloned().unwrap_or_default())
        .find(|(key, _)| key.contains("config.js"))
        .and_then(|(_, value)| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{namespace}: a config.js template in a ConfigMap"));
    let config = envsubst(&template, &set["env"]);
    let api = set["dependencies"]["api"]["url"].as_str().expect("api url");
    assert!(
        config.contains(&format!("\"{api}\"")),
        "{namespace}: config.js carries the API URL {api}:\n{config}"
    );
}

/// Go's `filepath.Match` for the patterns the AppProject uses: `*` matches any run of
/// characters without `/`.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (head.len()..=text.len())
                    .any(|i| !text[head.len()..i].contains('/') && glob(tail, &text[i..]))
        }
    }
}

/// The AppProject admits everything a preview renders: its kinds, its namespace.
pub fn assert_project_admits(project: &Value, docs: &[Value], set: &Map<String, Value>) {
    let namespace = set["namespace"].as_str().unwrap_or_default();
    let spec = &project["spec"];
    let destinations = spec["destinations"].as_array().cloned().unwrap_or_default();
    assert!(
        destinations
            .iter()
            .any(|d| glob(str_of(d, "namespace"), namespace)),
        "{namespace}: no AppProject destination admits it"
    );
    let listed = |list: &str, group: &str, kind: &str, name: &str| {
        spec[list].as_array().into_iter().flatten().any(|entry| {
            str_of(entry, "group") == group
                && str_of(entry, "kind") == kind
                && entry
                    .get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|p| glob(p, name))
        })
    };
    for doc in docs {
        let api_version = str_of(doc, "apiVersion");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = str_of(doc, "kind");
        let name = str_of(&doc["metadata"], "name");
        let admitted = if kind == "Namespace" {
            listed("clusterResourceWhitelist", group, kind, name)
        } else {
            listed("namespaceResourceWhitelist", group, kind, name)
        };
        assert!(
            admitted,
            "{namespace}: the AppProject refuses {kind}/{name} ({api_version})"
        );
    }
}

#[test]
fn globs_match_like_go() {
    assert!(glob("preview-*-pr-*", "preview-web-pr-42"));
    assert!(!glob("preview-*-pr-*", "preview-tower"));
    assert!(glob("*", "anything"));
    assert!(!glob("a*", "b"));
}

/// `internal_url` (`http://<service>.<namespace>.svc.cluster.local[:<port>]`) reaches a Service
/// of the preview on that port.
fn assert_internal_url_answers(docs: &[Value], set: &Map<String, Value>) {
    let url = url::Url::parse(set["internal_url"].as_str().expect("internal_url")).expect("URL");
    let host = url.host_str().unwrap_or_default();
    let (service, namespace) = host.split_once('.').expect("service.namespace...");
    assert!(
        namespace.starts_with(set["namespace"].as_str().unwrap_or("?")),
        "{host}"
    );
    let port = url.port_or_known_default().expect("a port");
    let found = docs
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == service)
        .unwrap_or_else(|| panic!("{host}: no Service `{service}` in the preview"));
    let ports: Vec<u64> = found["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["port"].as_u64())
        .collect();
    assert!(
        ports.contains(&u64::from(port)),
        "{host}: Service `{service}` listens on {ports:?}, not {port}"
    );
}

/// The value of a container's environment variable, with `$(VAR)` references expanded from
/// the container's other variables and `preview-env` (as the kubelet does).
pub fn expanded_env(container: &Value, name: &str, preview_env: &Value) -> Option<String> {
    let entries = container["env"].as_array()?;
    let raw = entries.iter().find(|e| e["name"] == name)?["value"]
        .as_str()?
        .to_owned();
    let lookup = |var: &str| {
        entries
            .iter()
            .find(|e| e["name"] == var)
            .and_then(|e| e["value"].as_str())
            .or_else(|| preview_env[var].as_str())
            .map(str::to_owned)
    };
    let mut out = String::new();
    let mut rest = raw.as_str();
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find(')')?;
        out.push_str(&lookup(&after[..end]).unwrap_or_else(|| format!("$({})", &after[..end])));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// What `envsubst` makes of `${VAR}` and `$VAR` in `template` with `env`.
pub fn envsubst(template: &str, env: &Value) -> String {
    let mut out = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &template[i + 1..];
        let (name, skip) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..len], len)
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        out.push_str(env[name].as_str().unwrap_or(""));
        for _ in 0..skip {
            chars.next();
        }
    }
    out
}

#[test]
fn env_references_expand_like_the_kubelet_and_envsubst() {
    let env = serde_json::json!({"PREVIEW_HOST": "web-pr-1.example.com", "API_URL": "https://api"});
    let container = serde_json::json!({"env": [
        {"name": "A", "value": "$(PREVIEW_HOST),localhost"},
        {"name": "B", "value": "x-$(A)"}
    ]});
    assert_eq!(
        expanded_env(&container, "A", &env).as_deref(),
        Some("web-pr-1.example.com,localhost")
    );
    assert_eq!(
        envsubst(
            "window.c = {api: \"${API_URL}\", h: \"$PREVIEW_HOST\"};",
            &env
        ),
        "window.c = {api: \"https://api\", h: \"web-pr-1.example.com\"};"
    );
}
