//! The label sets: bounded, never a PR number, a SHA or anything a PR author writes.

use prometheus_client::encoding::EncodeLabelSet;

/// Labels of a plugin request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    /// `all`, `service`, `matrix` or `invalid`.
    pub mode: &'static str,
    /// HTTP status code.
    pub status: u16,
}

/// Labels of a sync outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RepoLabels {
    /// `owner/name`.
    pub repo: String,
    /// `ok` or an error kind.
    pub outcome: &'static str,
}

/// Labels of a call to the code host.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `list_pulls`, `file` or `object_sha`.
    pub operation: &'static str,
    /// `ok`, `cache_hit` or an error kind.
    pub outcome: &'static str,
}

/// Labels of a lifecycle write.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    /// `github` or `jira`.
    pub target: &'static str,
    /// `create_deployment`, `set_status`, `create_comment`, `update_comment`, `read_back`,
    /// `jira_comment` or `jira_read_back`.
    pub action: &'static str,
    /// `ok` or an error kind.
    pub outcome: &'static str,
}

/// Labels of an outcome alone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok` or an error kind.
    pub outcome: &'static str,
}

/// Labels of a webhook delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// The `X-GitHub-Event` from a fixed list (see [`crate::github::webhook::event_label`]),
    /// else `other`.
    pub event: &'static str,
    /// `accepted`, `ignored`, `duplicate`, `unauthorized`, `invalid` or `pong`.
    pub outcome: &'static str,
}

/// Labels naming one repo.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RepoLabel {
    /// `owner/name`.
    pub repo: String,
}

/// Labels naming one service.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabel {
    /// The fleet service.
    pub service: String,
}

/// Labels of a listener's connection metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabel {
    /// `plugin`, `webhook` or `admin`.
    pub listener: &'static str,
}

/// Labels of preview-hours.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HoursLabels {
    /// The fleet service.
    pub service: String,
    /// `awake_spot`, `awake_on_demand` or `asleep` (see [`crate::cost::HourState`]).
    pub state: &'static str,
}
