//! The process's TLS set-up: one rustls crypto provider for every client (octocrab's, kube's,
//! the Jira client's). rustls refuses to pick one when two are compiled in, so it is installed
//! once, before the first client is built.

/// Installs aws-lc-rs as the process's rustls crypto provider, if no provider is installed
/// yet. Call before building any TLS client; calling again is harmless.
pub fn install_crypto_provider() {
    // An error means a provider is already installed, which is all we need.
    let _already = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
