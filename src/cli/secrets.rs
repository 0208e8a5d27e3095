//! Where every secret comes from: a file named by a `--…-file` flag, or an environment
//! variable; never a flag's value, which `ps` and shell histories show. `docs/security.md`
//! lists them all.

use anyhow::{Context, bail};
use clap::CommandFactory as _;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use secrecy::SecretString;

use super::Cli;

/// The environment variable holding a GitHub token (there is no flag: `ps` would show it).
pub const GITHUB_TOKEN_ENV: &str = "PREVIEW_TOWER_GITHUB_TOKEN";
/// The environment variable holding the GitHub webhook secret (no flag either).
pub const WEBHOOK_SECRET_ENV: &str = "PREVIEW_TOWER_WEBHOOK_SECRET";
/// The environment variable holding the plugin token (no flag either).
pub const PLUGIN_TOKEN_ENV: &str = "PREVIEW_TOWER_PLUGIN_TOKEN";
/// The environment variable holding the Jira API token or personal access token (no flag
/// either).
pub const JIRA_TOKEN_ENV: &str = "PREVIEW_TOWER_JIRA_TOKEN";

/// Flags someone may try for a secret, and where that secret goes instead.
const SECRET_FLAGS: [(&str, &str); 4] = [
    (
        "--github-token",
        "--github-token-file PATH or PREVIEW_TOWER_GITHUB_TOKEN",
    ),
    (
        "--plugin-token",
        "--plugin-token-file PATH or PREVIEW_TOWER_PLUGIN_TOKEN",
    ),
    (
        "--webhook-secret",
        "--webhook-secret-file PATH or PREVIEW_TOWER_WEBHOOK_SECRET",
    ),
    (
        "--jira-token",
        "--jira-token-file PATH or PREVIEW_TOWER_JIRA_TOKEN",
    ),
];

/// `error` as it is, unless it is about an unknown flag of [`SECRET_FLAGS`]: then an error
/// naming the flag and where the secret goes instead, without the value given.
pub(super) fn refuse_secret_flag(error: clap::Error) -> clap::Error {
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let flag = given
        .split_once('=')
        .map_or(given.as_str(), |(flag, _)| flag);
    let Some((flag, instead)) = SECRET_FLAGS.iter().find(|(name, _)| *name == flag) else {
        return error;
    };
    Cli::command().error(
        ErrorKind::UnknownArgument,
        format!(
            "`{flag}` does not exist: a secret on the command line shows in `ps` and shell \
             histories; use {instead}"
        ),
    )
}

/// A secret from the environment, trimmed; `None` when unset, an error when set but empty.
pub(crate) fn secret_from_env(name: &str) -> anyhow::Result<Option<SecretString>> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => bail!("{name} is set but empty"),
        Ok(value) => Ok(Some(SecretString::from(value.trim().to_owned()))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
    }
}

/// Reads a secret from a file, trimmed; an empty file is an error.
pub(crate) fn read_secret(path: &std::path::Path, flag: &str) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{flag}: cannot read {}", path.display()))?;
    let text = text.trim();
    if text.is_empty() {
        bail!("{flag}: {} is empty", path.display());
    }
    Ok(SecretString::from(text.to_owned()))
}
