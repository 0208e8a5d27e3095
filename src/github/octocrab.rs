//! PLACEHOLDER until the GitHub adapter lands.

use std::time::Duration;

use async_trait::async_trait;

use super::auth::Credentials;
use crate::github::{PullRequestSource, SourceError};
use crate::pull_request::{ConfigFile, PullRequest, RepoName};

/// Installs the process-wide rustls crypto provider.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// GitHub over octocrab.
pub struct GitHubSource;

impl GitHubSource {
    /// Builds a client.
    pub fn new(
        _api_url: url::Url,
        _credentials: Credentials,
        _timeout: Duration,
    ) -> Result<Self, SourceError> {
        Err(SourceError::Auth("not built yet".into()))
    }
}

#[async_trait]
impl PullRequestSource for GitHubSource {
    async fn open_pull_requests(&self, _repo: &RepoName) -> Result<Vec<PullRequest>, SourceError> {
        Err(SourceError::Auth("not built yet".into()))
    }
    async fn file_at(&self, _r: &RepoName, _s: &str, _p: &str) -> Result<ConfigFile, SourceError> {
        Err(SourceError::Auth("not built yet".into()))
    }
    async fn object_sha_at(
        &self,
        _r: &RepoName,
        _s: &str,
        _p: &str,
    ) -> Result<Option<String>, SourceError> {
        Err(SourceError::Auth("not built yet".into()))
    }
}
