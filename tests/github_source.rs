//! The real octocrab adapter against the fake GitHub, over real HTTP.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "github_source/app.rs"]
mod app;
#[path = "github_source/bulk.rs"]
mod bulk;
#[path = "github_source/contents.rs"]
mod contents;
#[path = "github_source/errors.rs"]
mod errors;
#[path = "github_source/fake.rs"]
mod fake;
#[path = "github_source/pulls.rs"]
mod pulls;
#[path = "github_source/transport.rs"]
mod transport;

use std::time::Duration;

use preview_tower::github::auth::Credentials;
use preview_tower::github::octocrab::GitHubSource;
use preview_tower::naming::RepoName;
use support::fake_github::{FakeGitHub, sha1_hex};

const REPO: &str = "acme/web";
const TOKEN: &str = "ghp_0123456789abcdefTOPSECRET";

fn repo() -> RepoName {
    REPO.parse().unwrap()
}

fn sha(seed: &str) -> String {
    sha1_hex(seed.as_bytes())
}

async fn fake() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.add_repo(REPO);
    github
}

fn source(github: &FakeGitHub) -> GitHubSource {
    source_with_timeout(github, Duration::from_secs(5))
}

fn source_with_timeout(github: &FakeGitHub, timeout: Duration) -> GitHubSource {
    GitHubSource::new(github.url(), Credentials::token(TOKEN).unwrap(), timeout).unwrap()
}
