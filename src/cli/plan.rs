//! `preview-tower plan`: sync once, plan, and print what Argo CD would get, and why.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::{OutputFormat, PlanArgs};
use crate::metrics::Metrics;
use crate::params::{self, Mode};
use crate::plan::Plan;
use crate::snapshot::{Snapshot, SnapshotStore};
use crate::sync::Syncer;

pub(super) async fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(args.log_format);
    let fleet = Arc::new(super::load_fleet(&args.fleet)?);
    if let Some(name) = &args.service
        && fleet.service(name).is_none()
    {
        let known: Vec<String> = fleet.services.iter().map(|s| s.name.to_string()).collect();
        bail!(
            "--service: unknown service `{name}`; known: {}",
            known.join(", ")
        );
    }
    let source = super::source(args.fleet.demo, &args.github)?;
    let store = Arc::new(SnapshotStore::from_pointee(Snapshot::unsynced(Arc::clone(
        &fleet,
    ))));
    let mut syncer = Syncer::new(
        Arc::clone(&fleet),
        source,
        Arc::clone(&store),
        Arc::new(Metrics::unregistered()),
    );
    if let Some(at) = args.at {
        syncer = syncer.with_clock(Arc::new(move || at));
    }
    // The demo's Applications (`demo::applications`), as `serve --demo` reads them.
    if args.fleet.demo {
        syncer = syncer.with_applications(crate::demo::applications(&fleet));
    }
    let partial = syncer.refresh_all().await.err();
    let snapshot = store.load();
    let unsynced = snapshot.unsynced_services();
    let asked_unsynced = unsynced
        .iter()
        .any(|s| args.service.as_deref().is_none_or(|asked| asked == s));
    match partial {
        Some(error) if asked_unsynced => {
            return Err(error).context(format!(
                "cannot list the pull requests of: {}",
                unsynced.join(", ")
            ));
        }
        // Listed, but some commits could not be read: their PRs show their last good state.
        Some(error) => eprintln!("warning: some reads failed, the plan may lag: {error}"),
        None => {}
    }
    let plan = snapshot.plan();
    let wanted = |service: &str| args.service.as_deref().is_none_or(|s| s == service);
    let held: Vec<&crate::plan::Held> = plan
        .held
        .iter()
        .filter(|h| wanted(h.service.as_str()))
        .collect();
    if !held.is_empty() {
        // `plan` cannot see Argo CD's Applications: every labelled PR not read counts as held.
        eprintln!(
            "warning: Argo CD would get 503 for these services until GitHub can be read: {}",
            crate::snapshot::Notes::list(&held)
        );
    }
    let text = match args.output {
        OutputFormat::Json => {
            let value = plan_json(snapshot.fleet(), plan, &wanted);
            serde_json::to_string_pretty(&value)?
        }
        OutputFormat::Table => plan_table(plan, &wanted),
    };
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// `{"output": {"parameters": [...]}, "diagnostics": [...], "excluded": [...], "held": [...]}`.
fn plan_json(fleet: &crate::fleet::Fleet, plan: &Plan, wanted: &dyn Fn(&str) -> bool) -> Value {
    let previews = plan.previews.iter().filter(|p| wanted(p.service.as_str()));
    let sets: Vec<_> = previews
        .clone()
        .map(|p| params::render(p, fleet, Mode::Full))
        .collect();
    let diagnostics: Vec<Value> = previews
        .flat_map(|p| {
            p.diagnostics.iter().map(move |d| {
                let mut value =
                    json!({"service": p.service, "pr": p.pr.number, "message": d.message()});
                if let (Some(obj), Ok(Value::Object(detail))) =
                    (value.as_object_mut(), serde_json::to_value(d))
                {
                    obj.extend(detail);
                }
                value
            })
        })
        .collect();
    let excluded: Vec<_> = plan
        .excluded
        .iter()
        .filter(|e| wanted(e.service.as_str()))
        .collect();
    let held: Vec<_> = plan
        .held
        .iter()
        .filter(|h| wanted(h.service.as_str()))
        .map(|h| json!({"service": h.service, "number": h.number, "reason": h.reason, "message": h.reason.describe()}))
        .collect();
    json!({"output": {"parameters": sets}, "diagnostics": diagnostics, "excluded": excluded, "held": held})
}

fn plan_table(plan: &Plan, wanted: &dyn Fn(&str) -> bool) -> String {
    let mut rows = vec![
        [
            "SERVICE",
            "PR",
            "NAME",
            "URL",
            "REVISION",
            "CAPACITY",
            "CONFIG",
            "DEPENDENCIES",
        ]
        .map(String::from),
    ];
    let mut notes = Vec::new();
    for p in plan.previews.iter().filter(|p| wanted(p.service.as_str())) {
        let deps: Vec<String> = p
            .dependencies
            .iter()
            .map(|d| format!("{}={}", d.service, d.route_label()))
            .collect();
        rows.push([
            p.service.to_string(),
            p.pr.number.to_string(),
            p.name.clone(),
            p.url.clone(),
            crate::naming::short_sha(&p.revision, 8).to_owned(),
            p.capacity.as_str().to_owned(),
            p.config.source.as_str().to_owned(),
            deps.join(" "),
        ]);
        for d in &p.diagnostics {
            notes.push(format!("{} #{}: {}", p.service, p.pr.number, d.message()));
            if let crate::plan::Diagnostic::ConfigInvalid { errors, .. } = d {
                for e in errors {
                    let line = e.line.map(|l| format!("line {l}: ")).unwrap_or_default();
                    notes.push(format!("    {line}{}", e.message));
                }
            }
        }
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    let excluded: BTreeSet<String> = plan
        .excluded
        .iter()
        .filter(|e| wanted(e.service.as_str()))
        .map(|e| format!("{} #{}: {}", e.service, e.number, e.reason.describe()))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nDiagnostics:");
        notes.iter().for_each(|n| {
            let _ = writeln!(out, "  {n}");
        });
    }
    if !excluded.is_empty() {
        let _ = writeln!(out, "\nNo preview:");
        excluded.iter().for_each(|n| {
            let _ = writeln!(out, "  {n}");
        });
    }
    let held: Vec<String> = plan
        .held
        .iter()
        .filter(|h| wanted(h.service.as_str()))
        .map(|h| format!("{} #{}: {}", h.service, h.number, h.reason.describe()))
        .collect();
    if !held.is_empty() {
        let _ = writeln!(
            out,
            "\nHeld (may have a preview that cannot be read yet: the service answers 503, Argo CD keeps it as it is):"
        );
        held.iter().for_each(|n| {
            let _ = writeln!(out, "  {n}");
        });
    }
    out
}
