//! Who preview-tower is on GitHub: the one account whose writes it recognises as its own (the
//! sticky comment, the deployments) and whose events are not activity.
//!
//! With a token, the token's user (`GET /user`). With a GitHub App, the App's bot account,
//! `<slug>[bot]`, the slug from `GET /app` asked with the App's JWT: exactly that login, never
//! any bot, since any workflow of a repository can write as `github-actions[bot]` (a PR author
//! could plant a comment or a deployment that looks like ours). Read once per process, on first
//! use; a failed read is an error of the call that needed it, and is tried again next time.

use super::wire::account;
use super::{Auth, GitHubSource, transport};
use crate::github::GitHubError;

impl GitHubSource {
    /// The login of preview-tower's own account (see the module doc), read once.
    pub(super) async fn own_account(&self) -> Result<String, GitHubError> {
        let login = self
            .own_login
            .get_or_try_init(|| async {
                let (client, route) = match &self.auth {
                    Auth::Token { client, .. } => (&**client, "/user"),
                    Auth::App { app, .. } => (&**app, "/app"),
                };
                let answer = transport::get(client, route, None, &self.exchange).await?;
                if !answer.status.is_success() {
                    return Err(match transport::status_error(&answer) {
                        GitHubError::Unauthorized(message) if route == "/app" => {
                            GitHubError::Auth(format!(
                                "{message} (GET /app with the App's JWT: check the App ID and \
                                 its private key)"
                            ))
                        }
                        other => other,
                    });
                }
                match &self.auth {
                    Auth::Token { .. } => account::decode_login(&answer.body),
                    Auth::App { .. } => account::decode_app_login(&answer.body),
                }
            })
            .await?;
        Ok(login.clone())
    }
}
