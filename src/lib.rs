//! preview-tower: Heroku-style review apps on Kubernetes with Argo CD.
//!
//! The crate is a pure core wrapped in a thin I/O shell. Data flows one way:
//!
//! ```text
//! fleet (YAML) ─┐
//! GitHub ─ sync ┴─▶ facts ─▶ plan (pure) ─▶ params (pure) ─▶ snapshot ─▶ http (plugin)
//!                                                              │
//! Argo CD Applications ─ argocd::watch ─▶ reconcile ◀──────────┘
//!               lifecycle::decide (pure) ◀─┘ └─▶ GitHub, Jira
//! ```
//!
//! Pure modules (no I/O, no async runtime): [`fleet`], [`repo_config`], [`pull_request`],
//! [`naming`], [`plan`], [`params`], [`lifecycle`] (decisions, the PR comment, notices),
//! [`issues`] (Jira issue keys, the notes and their rendering), `yaml` and `backoff`. The
//! shell: [`cost`] (the meter task, replay and simulation), [`board`] (the previews board:
//! what the page and its JSON show), [`github`] (octocrab adapter, demo source), [`sync`] (refresh loop, caches, last
//! known good), [`snapshot`], [`http`] (plugin and admin routers), [`argocd`] (the
//! Applications' typed subset and watch), [`leader`] (Lease election), [`reconcile`] (the
//! lifecycle's shell: read back, decide, write the difference to GitHub and Jira),
//! [`freshness`] (webhook-woken refreshes and ApplicationSet refresh patches), [`jira`] (the
//! REST adapter), [`metrics`], [`telemetry`], [`cli`].

pub mod argocd;
pub(crate) mod backoff;
pub mod board;
pub mod cli;
pub mod cost;
pub mod demo;
pub mod fleet;
pub mod freshness;
pub mod github;
pub mod http;
pub mod issues;
pub mod jira;
pub mod leader;
pub mod lifecycle;
pub mod metrics;
pub mod naming;
pub mod params;
pub mod plan;
pub mod pull_request;
pub mod reconcile;
pub mod repo_config;
pub mod snapshot;
pub mod sync;
pub mod telemetry;
pub mod tls;
pub(crate) mod yaml;

#[cfg(test)]
mod testing;
