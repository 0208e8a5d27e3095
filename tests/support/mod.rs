//! Support shared by integration tests: fakes of GitHub, Jira and the Kubernetes API server
//! that speak HTTP, vendor-schema conformance checks, GitHub App keys made at test time, and
//! webhook payloads built from the vendor's schemas.
//!
//! Use it from a test file with `mod support;` at the crate root (the fake refers to
//! `crate::support::conformance`). Each test binary uses a different part, hence the allow.
#![allow(dead_code, unused_imports)]

pub mod app_key;
pub mod conformance;
pub mod fake_github;
pub mod fake_jira;
pub mod fake_kube;
pub mod fake_server;
pub mod serve;
pub mod switch;
pub mod webhook_payload;
