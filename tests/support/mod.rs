//! Support shared by integration tests and benchmarks: fakes of GitHub, Jira and the Kubernetes
//! API server that speak HTTP (one frame, `fake_server`), vendor-schema conformance checks, the
//! real `serve` binary in its own process (`serve`), GitHub App keys made at test time,
//! webhook payloads built from the vendor's schemas, and headless Chromium for page tests
//! (`browser`).
//!
//! Use it from a test file with `mod support;` at the crate root (the fake refers to
//! `crate::support::conformance`); a benchmark mounts it with `#[path]`. Each binary uses a
//! different part, hence the allow.
#![allow(dead_code, unused_imports)]

pub mod app_key;
pub mod browser;
pub mod conformance;
pub mod fake_github;
pub mod fake_jira;
pub mod fake_kube;
pub mod fake_server;
pub mod serve;
pub mod switch;
pub mod webhook_payload;
