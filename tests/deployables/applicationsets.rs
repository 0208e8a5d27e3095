//! The ApplicationSets use only keys every demo parameter set carries, and make valid
//! Applications that own their namespace; the demo previews render into their own namespace,
//! and sleep with every workload at zero replicas outside working hours.

use preview_tower::params::Mode;
use serde_json::Value;

use super::{
    ASLEEP_AT, application_sets, argo, demo_sets, demo_sets_at, documents, gotemplate, is_matrix,
    previews, rendered, root, schemas, scratch, template_inputs, tools,
};

#[test]
fn application_sets_use_only_keys_every_demo_set_carries() {
    for (file, appset) in application_sets() {
        assert_eq!(appset["spec"]["goTemplate"], true, "{file}");
        let options: Vec<&str> = appset["spec"]["goTemplateOptions"]
            .as_array()
            .map(|o| o.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(options.contains(&"missingkey=error"), "{file}");
        // Applications whose PR is gone must be deleted, with everything they made.
        let policy = &appset["spec"]["syncPolicy"];
        let sync = policy["applicationsSync"].as_str().unwrap_or("sync");
        assert!(
            matches!(sync, "sync" | "create-delete"),
            "{file}: applicationsSync {sync}"
        );
        assert_ne!(policy["preserveResourcesOnDeletion"], true, "{file}");
        let keys =
            gotemplate::keys(&appset["spec"]["template"]).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!keys.is_empty(), "{file}: the template uses no parameter");
        for (service, set) in template_inputs(&appset) {
            for key in &keys {
                assert!(
                    set.contains_key(key),
                    "{file}: `{key}` is missing from {service}'s set"
                );
            }
        }
    }
}

#[test]
fn rendered_applications_are_valid_and_own_their_namespace() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let scratch = scratch("applications");
    for (file, appset) in application_sets() {
        for (service, set) in template_inputs(&appset) {
            let mut app = gotemplate::render(&appset["spec"]["template"], &set)
                .unwrap_or_else(|e| panic!("{file} for {service}: {e}"));
            app["apiVersion"] = "argoproj.io/v1alpha1".into();
            app["kind"] = "Application".into();
            let origin = format!("{file} {service}");
            let problems = schemas::validate(&tools, &[app.clone()], &origin, &scratch);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            previews::assert_application_owns_its_preview(&app, &set, &origin);
        }
    }
}

#[test]
fn demo_previews_render_into_their_own_namespace() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let (file, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let scratch = scratch("previews");
    let project =
        documents(&std::fs::read_to_string(root().join("argocd/appproject.yaml")).expect("read"))
            .into_iter()
            .find(|d| d["kind"] == "AppProject")
            .expect("the previews AppProject");
    for (service, set) in demo_sets(Mode::Full) {
        let app = gotemplate::render(&appset["spec"]["template"], &set).expect("render");
        let overlay = previews::example_overlay(&root(), &set);
        let name = set["name"].as_str().expect("name");
        let dir = argo::wrapper(&app, &overlay, &scratch.join(name));
        let text = tools
            .kustomize(&dir)
            .unwrap_or_else(|e| panic!("{file} {service}: {e}"));
        let docs = documents(&text);
        let problems = schemas::validate(&tools, &docs, name, &scratch);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        previews::assert_preview(&docs, &set);
        previews::assert_project_admits(&project, &docs, &set);
    }
}

/// Outside working hours every workload of a sleeping preview renders with 0 replicas, its
/// databases included; inside them every one runs. The demo fleet works Monday to Friday,
/// 08:00–20:00 in Paris (`api`: 07:00–21:00 in Auckland).
#[test]
fn sleeping_previews_render_every_workload_at_zero_replicas() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let (_, appset) = application_sets()
        .into_iter()
        .find(|(_, a)| !is_matrix(a))
        .expect("the plugin ApplicationSet");
    let scratch = scratch("sleeping");
    // Saturday noon, then Wednesday 08:30 in Paris.
    let mut slept = 0;
    for (at, asleep) in [(ASLEEP_AT, true), (rendered::AWAKE, false)] {
        let sets = demo_sets_at(Some(at));
        assert!(!sets.is_empty(), "the demo has previews");
        for (service, set) in sets {
            // The demo's billing PR opts out with `sleep: false` in its `.preview.yaml`.
            let opted_out = set["capacity_type"] == "on-demand" && service == "billing";
            let asleep = asleep && !opted_out;
            let expected = if asleep { "0" } else { "1" };
            assert_eq!(set["replicas"], expected, "{service} at {at}");
            assert_eq!(set["database_replicas"], expected, "{service} at {at}");
            let app = gotemplate::render(&appset["spec"]["template"], &set).expect("render");
            let overlay = previews::example_overlay(&root(), &set);
            let name = set["name"].as_str().expect("name");
            let dir = argo::wrapper(&app, &overlay, &scratch.join(format!("{name}-{asleep}")));
            let docs = documents(&tools.kustomize(&dir).expect("kustomize"));
            let problems = schemas::validate(&tools, &docs, name, &scratch);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            previews::assert_preview(&docs, &set);
            let workloads: Vec<&Value> = docs
                .iter()
                .filter(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet")))
                .collect();
            assert!(!workloads.is_empty(), "{service}: no workload rendered");
            for workload in workloads {
                let replicas = workload["spec"]["replicas"].as_u64();
                let what = format!("{service} at {at}: {}", workload["metadata"]["name"]);
                if asleep {
                    slept += 1;
                    assert_eq!(replicas, Some(0), "{what} must sleep");
                } else {
                    assert!(replicas.is_some_and(|r| r >= 1), "{what} must run");
                }
            }
        }
    }
    assert!(slept > 0, "no workload slept on Saturday");
}
