//! PLACEHOLDER until the GitHub adapter lands.

use secrecy::SecretString;

/// How preview-tower authenticates to GitHub.
#[derive(Clone)]
pub enum Credentials {
    /// A personal access token or any bearer token.
    Token(SecretString),
    /// A GitHub App.
    App {
        /// The App's id.
        app_id: u64,
        /// The App's private key, PEM.
        private_key: SecretString,
    },
}
