//! Who an account is, as GitHub answers it: `GET /user` (the user behind a token) and
//! `GET /app` (a GitHub App, whose installation tokens write as its bot `<slug>[bot]`). Pure.

use serde::Deserialize;

use crate::github::{GitHubError, valid_login};

/// `GET /user`: the login behind a token.
pub(in crate::github::octocrab) fn decode_login(body: &[u8]) -> Result<String, GitHubError> {
    #[derive(Deserialize)]
    struct WireUser {
        login: String,
    }
    serde_json::from_slice::<WireUser>(body)
        .map(|user| user.login)
        .map_err(|e| GitHubError::Malformed(format!("unreadable user: {e}")))
}

/// `GET /app` (GitHub's `integration`): the login of the App's bot account, `<slug>[bot]`.
/// A slug that makes no valid login is malformed: our own writes are recognised by this
/// login alone, and anything looser would adopt someone else's.
pub(in crate::github::octocrab) fn decode_app_login(body: &[u8]) -> Result<String, GitHubError> {
    #[derive(Deserialize)]
    struct WireApp {
        slug: Option<String>,
    }
    let app: WireApp = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Malformed(format!("unreadable GitHub App: {e}")))?;
    app.slug
        .map(|slug| format!("{slug}[bot]"))
        .filter(|login| valid_login(login))
        .ok_or_else(|| GitHubError::Malformed("the GitHub App has no usable `slug`".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apps_own_login_is_its_slug_as_a_bot() {
        let body = br#"{"id": 1, "slug": "acme-previews", "name": "Acme previews"}"#;
        let login = decode_app_login(body).expect("decoded");
        assert_eq!(login, "acme-previews[bot]");
        for body in [
            &br#"{"id": 1, "name": "no slug"}"#[..],
            br#"{"slug": ""}"#,
            br#"{"slug": "two words"}"#,
            br#"{"slug": "x[bot]"}"#,
            br#"{"slug": 42}"#,
            b"not json",
        ] {
            assert!(
                matches!(decode_app_login(body), Err(GitHubError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_tokens_login_is_its_users() {
        let body = br#"{"login": "deploy-bot", "id": 7, "type": "User"}"#;
        assert_eq!(decode_login(body).expect("decoded"), "deploy-bot");
        assert!(decode_login(b"{}").is_err());
    }
}
