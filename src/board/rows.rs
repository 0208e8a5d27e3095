//! The board's rows, one per kind: a planned preview, a held one, a PR queued or waiting for
//! its build, and a labelled PR without a preview. Pure.

use std::collections::BTreeMap;

use super::{Dependency, Inputs, JiraLink, Left, Row, RowState, state_text, time_left};
use crate::fleet::{Fleet, LinkValues};
use crate::issues::issue_keys;
use crate::lifecycle::Observed;
use crate::naming::ServiceName;
use crate::plan::{DependencyRoute, Exclusion, ExclusionReason, Held, Preview, QuotaScope};
use crate::pull_request::PullRequest;

/// The PR's repository as text, and its link on GitHub.
fn repo_and_link(fleet: &Fleet, service: &ServiceName, number: u64) -> (String, String) {
    fleet.service(service.as_str()).map_or_else(
        || (String::new(), String::new()),
        |s| (s.repo.to_string(), fleet.pull_request_url(&s.repo, number)),
    )
}

fn jira(inputs: &Inputs<'_>, pr: &PullRequest) -> Vec<JiraLink> {
    issue_keys(&pr.title, &pr.branch, &pr.body, inputs.jira_projects)
        .into_iter()
        .map(|key| JiraLink {
            url: inputs
                .jira_url
                .map(|base| format!("{}/browse/{key}", base.as_str().trim_end_matches('/'))),
            key: key.to_string(),
        })
        .collect()
}

/// A row with what every kind of row has: the PR and the links.
fn base_row(
    inputs: &Inputs<'_>,
    service: &ServiceName,
    number: u64,
    pr: Option<&PullRequest>,
    state: RowState,
) -> Row {
    let fleet = inputs.fleet;
    let (repo, pr_url) = repo_and_link(fleet, service, number);
    let name = crate::naming::preview_name(&fleet.namespace_prefix, service, number);
    let values = LinkValues {
        application: &name,
        namespace: &name,
        service: service.as_str(),
        pr: number,
        repo: &repo,
    };
    let application_url = match &fleet.links.application {
        Some(template) => Some(template.render(&values)),
        None => inputs
            .argocd_url
            .map(|base| format!("{}/{name}", base.trim_end_matches('/'))),
    };
    let logs_url = fleet.links.logs.as_ref().map(|t| t.render(&values));
    Row {
        order: 0,
        service: service.clone(),
        pr_url,
        repo,
        number,
        title: pr.map(|p| p.title.clone()).unwrap_or_default(),
        author: pr.map(|p| p.author.clone()).unwrap_or_default(),
        branch: pr.map(|p| p.branch.clone()).unwrap_or_default(),
        jira: pr.map(|p| jira(inputs, p)).unwrap_or_default(),
        state_text: state_text(&state, inputs.now),
        state,
        url: None,
        commit: None,
        dependencies: Vec::new(),
        seed: None,
        capacity: None,
        expires_at: None,
        time_left: None,
        cost: None,
        application_url,
        logs_url,
    }
}

pub(super) fn preview_row(inputs: &Inputs<'_>, preview: &Preview, state: RowState) -> Row {
    let mut row = base_row(
        inputs,
        &preview.service,
        preview.pr.number,
        Some(&preview.pr),
        state,
    );
    row.url = Some(preview.url.clone());
    row.commit = Some(preview.revision.clone());
    row.dependencies = preview
        .dependencies
        .iter()
        .map(|d| Dependency {
            service: d.service.clone(),
            target: match d.route {
                DependencyRoute::Staging => "staging".to_owned(),
                DependencyRoute::Preview { number } => format!("PR #{number}"),
            },
            url: d.url.clone(),
        })
        .collect();
    row.seed = preview
        .seed_tag()
        .map(|tag| crate::naming::short_sha(tag, 8).to_owned());
    row.capacity = Some(preview.capacity.as_str());
    row.expires_at = preview.expires_at;
    row.time_left = preview.expires_at.map(|at| time_left(at - inputs.now));
    row.cost = inputs.meter.cost_of(inputs.fleet, preview);
    row
}

pub(super) fn held_row(inputs: &Inputs<'_>, held: &Held, apps: &BTreeMap<&str, &Observed>) -> Row {
    let state = RowState::Held {
        reason: held.reason.describe(),
    };
    let mut row = base_row(inputs, &held.service, held.number, None, state);
    let fleet = inputs.fleet;
    let name = crate::naming::preview_name(&fleet.namespace_prefix, &held.service, held.number);
    // Only what Argo CD itself decides: the commit it runs. Its external URLs come from the
    // preview's own manifests (the PR author's): the address is the fleet's.
    if let Some(app) = apps.get(name.as_str()) {
        row.commit.clone_from(&app.revision);
    }
    if let Some(service) = fleet.service(held.service.as_str()) {
        let host =
            service
                .policy
                .host_pattern
                .render(&service.name, held.number, &fleet.base_domain);
        row.url = Some(format!("https://{host}"));
    }
    row.cost = inputs.meter.unplanned_cost_of(fleet, &held.key());
    row
}

pub(super) fn waiting_row(inputs: &Inputs<'_>, exclusion: &Exclusion) -> Row {
    let state = match exclusion.reason {
        ExclusionReason::Queued {
            position,
            scope,
            limit,
        } => RowState::Queued {
            position,
            scope: match scope {
                QuotaScope::Fleet => "fleet",
                QuotaScope::Repo => "repository",
            },
            limit,
        },
        _ => RowState::WaitingForBuild,
    };
    base_row(
        inputs,
        &exclusion.service,
        exclusion.number,
        exclusion.pr.as_deref(),
        state,
    )
}

pub(super) fn left(inputs: &Inputs<'_>, exclusion: &Exclusion, reason: ExclusionReason) -> Left {
    let pr = exclusion.pr.as_deref();
    Left {
        service: exclusion.service.clone(),
        number: exclusion.number,
        pr_url: repo_and_link(inputs.fleet, &exclusion.service, exclusion.number).1,
        title: pr.map(|p| p.title.clone()).unwrap_or_default(),
        author: pr.map(|p| p.author.clone()).unwrap_or_default(),
        reason: reason.describe(),
    }
}
