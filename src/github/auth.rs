//! GitHub credentials: a token or a GitHub App key, loaded from a file or a string, checked at
//! start-up, and never printed.
//!
//! This module owns the secrets and their validation. It must not talk to GitHub: turning
//! credentials into a client is [`super::octocrab`]'s job, and exposing a secret happens only
//! there, at the call site.

use std::fmt;
use std::path::{Path, PathBuf};

use octocrab::jsonwebtoken::{self, Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};

/// How preview-tower authenticates to GitHub.
///
/// Build it with [`Credentials::token`], [`Credentials::app`] or their `_from_file` variants:
/// they validate, so a `Credentials` in hand is well formed (it may still be revoked).
#[derive(Clone)]
pub enum Credentials {
    /// A personal access token (classic or fine-grained) or any other bearer token, sent as
    /// `Authorization: Bearer <token>`.
    Token(SecretString),
    /// A GitHub App: a JWT signed with the private key finds the installation of each
    /// repository owner and mints short-lived installation tokens.
    App {
        /// The numeric App ID (the JWT's `iss`; octocrab does not support client IDs there).
        app_id: u64,
        /// The App's RSA private key, PEM (`BEGIN RSA PRIVATE KEY` or `BEGIN PRIVATE KEY`).
        private_key: SecretString,
    },
}

/// Why credentials are unusable. Messages name the problem and the fix, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file holding a secret could not be read.
    #[error("cannot read the GitHub {what} from {}: {source}", path.display())]
    Read {
        /// Which secret ("token" or "App private key").
        what: &'static str,
        /// The file that was asked for.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token is empty after trimming surrounding whitespace.
    #[error("the GitHub token is empty: give a personal access token or App credentials")]
    EmptyToken,
    /// The token holds characters that cannot go in an HTTP header.
    #[error(
        "the GitHub token contains spaces or non-printable characters: give the token alone, \
         without a `Bearer ` prefix or quotes"
    )]
    InvalidToken,
    /// The App ID is zero.
    #[error("the GitHub App ID must be a positive number (see the App's settings page)")]
    InvalidAppId,
    /// The private key is not a usable PEM RSA key.
    #[error(
        "the GitHub App private key is not a PEM-encoded RSA private key ({0}): use the `.pem` \
         file downloaded from the App's settings page"
    )]
    InvalidKey(String),
}

impl Credentials {
    /// A token given as text. Surrounding whitespace (a file's trailing newline) is dropped.
    pub fn token(token: impl Into<String>) -> Result<Self, CredentialsError> {
        let token = token.into();
        let trimmed = token.trim();
        if trimmed.is_empty() {
            return Err(CredentialsError::EmptyToken);
        }
        // octocrab builds the Authorization header with `parse().unwrap()`: a token that is not
        // a valid header value would panic there, so it is refused here.
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CredentialsError::InvalidToken);
        }
        Ok(Self::Token(SecretString::from(trimmed.to_owned())))
    }

    /// A token read from `path` (for example a mounted Kubernetes secret).
    pub fn token_from_file(path: &Path) -> Result<Self, CredentialsError> {
        Self::token(read_secret(path, "token")?)
    }

    /// A GitHub App from its ID and PEM private key; the key is checked by signing a test JWT.
    pub fn app(app_id: u64, private_key_pem: impl Into<String>) -> Result<Self, CredentialsError> {
        if app_id == 0 {
            return Err(CredentialsError::InvalidAppId);
        }
        let private_key = SecretString::from(private_key_pem.into());
        encoding_key(&private_key)?;
        Ok(Self::App {
            app_id,
            private_key,
        })
    }

    /// A GitHub App whose private key is read from `path`.
    pub fn app_from_file(app_id: u64, path: &Path) -> Result<Self, CredentialsError> {
        Self::app(app_id, read_secret(path, "App private key")?)
    }

    /// Checks credentials built directly from the enum variants.
    pub fn validate(&self) -> Result<(), CredentialsError> {
        self.normalized().map(drop)
    }

    /// The same credentials as the constructors would build them: checked, token trimmed.
    pub fn normalized(&self) -> Result<Self, CredentialsError> {
        match self {
            Self::Token(token) => Self::token(token.expose_secret()),
            Self::App {
                app_id,
                private_key,
            } => Self::app(*app_id, private_key.expose_secret()),
        }
    }

    /// `token` or `app`: a bounded label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::App { .. } => "app",
        }
    }
}

/// The signing key of an App's PEM private key, proven usable by signing a throw-away JWT
/// (`from_rsa_pem` alone only checks the PEM armour, not the key inside).
pub(crate) fn encoding_key(private_key: &SecretString) -> Result<EncodingKey, CredentialsError> {
    let key = EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
        .map_err(|e| CredentialsError::InvalidKey(e.to_string()))?;
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &serde_json::json!({}), &key)
        .map_err(|e| CredentialsError::InvalidKey(e.to_string()))?;
    Ok(key)
}

fn read_secret(path: &Path, what: &'static str) -> Result<String, CredentialsError> {
    std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Credentials::Token(<redacted>)"),
            Self::App { app_id, .. } => f
                .debug_struct("Credentials::App")
                .field("app_id", app_id)
                .field("private_key", &"<redacted>")
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_trimmed_and_checked() {
        let creds = Credentials::token("ghp_abc123\n").expect("valid");
        match &creds {
            Credentials::Token(t) => assert_eq!(t.expose_secret(), "ghp_abc123"),
            Credentials::App { .. } => panic!("expected a token"),
        }
        assert!(matches!(
            Credentials::token(" \n"),
            Err(CredentialsError::EmptyToken)
        ));
        assert!(matches!(
            Credentials::token("Bearer ghp_abc"),
            Err(CredentialsError::InvalidToken)
        ));
        assert!(matches!(
            Credentials::token("ghp_\u{7f}x"),
            Err(CredentialsError::InvalidToken)
        ));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let creds = Credentials::token("ghp_supersecret").expect("valid");
        assert!(!format!("{creds:?}").contains("supersecret"));
        let app = Credentials::App {
            app_id: 7,
            private_key: SecretString::from("-----BEGIN PRIVATE KEY-----secret".to_owned()),
        };
        let printed = format!("{app:?}");
        assert!(printed.contains("app_id: 7"), "{printed}");
        assert!(!printed.contains("secret\""), "{printed}");
        assert!(!printed.contains("BEGIN"), "{printed}");
    }

    #[test]
    fn garbage_keys_are_refused_with_a_hint() {
        let err = Credentials::app(1, "not a key").expect_err("invalid");
        assert!(
            err.to_string().contains("PEM-encoded RSA private key"),
            "{err}"
        );
        let armoured = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            Credentials::app(1, armoured),
            Err(CredentialsError::InvalidKey(_))
        ));
        assert!(matches!(
            Credentials::app(0, armoured),
            Err(CredentialsError::InvalidAppId)
        ));
    }

    #[test]
    fn missing_files_name_the_path() {
        let err = Credentials::token_from_file(Path::new("/nonexistent/token")).expect_err("io");
        assert!(err.to_string().contains("/nonexistent/token"), "{err}");
    }
}
