//! The repo config in force for a preview: the file when valid, else the last valid one seen
//! for the PR, else the fleet defaults. Pure.

use serde::Serialize;

use crate::fleet::Service;
use crate::pull_request::ConfigFile;
use crate::repo_config::{self, Bounds, ConfigError, RepoConfig};

use super::Diagnostic;

/// Where the repo config in force came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    /// The file at the head commit, valid.
    File,
    /// No file: the fleet's defaults.
    Missing,
    /// The file is invalid; the last valid config seen for this PR is kept.
    LastValid,
    /// The file is invalid and no valid one was ever seen for this PR: the fleet's defaults.
    Defaults,
}

impl ConfigSource {
    /// The name used in the parameters and in `plan` output: `file`, `missing`, `last_valid`,
    /// `defaults`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Missing => "missing",
            Self::LastValid => "last_valid",
            Self::Defaults => "defaults",
        }
    }

    /// How the source reads in a sentence ("using …").
    pub fn describe(self) -> &'static str {
        match self {
            Self::File => "the repo config file",
            Self::Missing => "the fleet defaults (no repo config file)",
            Self::LastValid => "the last valid repo config of this PR",
            Self::Defaults => "the fleet defaults",
        }
    }
}

/// The repo config in force, with the errors that made it fall back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigOutcome {
    /// The config applied.
    pub effective: RepoConfig,
    /// Where it came from.
    pub source: ConfigSource,
    /// The file's errors, when it is invalid.
    pub errors: Vec<ConfigError>,
    /// Why the file could not be read at all, when so.
    pub unreadable: Option<String>,
}

impl ConfigOutcome {
    /// The config to remember as "last valid" for the PR, when the file was valid.
    pub fn valid_config(&self) -> Option<&RepoConfig> {
        (self.source == ConfigSource::File).then_some(&self.effective)
    }

    /// The diagnostic to show on the PR, when the file was not usable.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        if let Some(message) = &self.unreadable {
            return Some(Diagnostic::ConfigUnreadable {
                message: message.clone(),
                fallback: self.source,
            });
        }
        (!self.errors.is_empty()).then(|| Diagnostic::ConfigInvalid {
            errors: self.errors.clone(),
            fallback: self.source,
        })
    }
}

/// Resolves the repo config of one preview of `service`.
pub fn resolve_config(
    service: &Service,
    file: &ConfigFile,
    last_valid: Option<&RepoConfig>,
) -> ConfigOutcome {
    let fallback = |errors: Vec<ConfigError>, unreadable: Option<String>| match last_valid {
        Some(config) => ConfigOutcome {
            effective: config.clone(),
            source: ConfigSource::LastValid,
            errors,
            unreadable,
        },
        None => ConfigOutcome {
            effective: RepoConfig::default(),
            source: ConfigSource::Defaults,
            errors,
            unreadable,
        },
    };
    match file {
        ConfigFile::Missing => ConfigOutcome {
            effective: RepoConfig::default(),
            source: ConfigSource::Missing,
            errors: Vec::new(),
            unreadable: None,
        },
        ConfigFile::Unreadable(message) => fallback(Vec::new(), Some(message.clone())),
        ConfigFile::Present(text) => {
            let bounds = Bounds {
                dependencies: &service.dependencies,
                max_ttl: service.policy.max_ttl,
            };
            match repo_config::parse(text, Some(&bounds)) {
                Ok(config) => ConfigOutcome {
                    effective: config,
                    source: ConfigSource::File,
                    errors: Vec::new(),
                    unreadable: None,
                },
                Err(errors) => fallback(errors, None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConfigSource;

    #[test]
    fn names_match_the_serialized_form() {
        use ConfigSource::*;
        for source in [File, Missing, LastValid, Defaults] {
            assert_eq!(
                serde_json::to_value(source).ok(),
                Some(source.as_str().into())
            );
        }
    }
}
