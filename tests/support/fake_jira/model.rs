//! What the fake Jira knows: issues and their comments, injected faults, the request log and
//! the conformance violations seen. Plain data behind one mutex.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use preview_tower::jira::rest::Edition;
use serde_json::{Value, json};

use crate::support::fake_server::Conformance;

/// The account the fake expects: email for Jira Cloud's basic auth.
pub const EMAIL: &str = "preview-bot@acme.example";
/// The API token (Cloud) or personal access token (Data Center) the fake expects.
pub const TOKEN: &str = "jira-TOPSECRET-7f3a9c1e";

/// An injected misbehaviour, used by the next request (or every request while down).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with a Jira-shaped error body.
    Status(u16),
    /// `429` with `Retry-After: seconds` and the matching `X-RateLimit-Reset`.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after: u64,
    },
    /// Wait this long, then answer normally.
    Stall(Duration),
    /// `200` with an HTML login page, as an SSO proxy in front of Jira sends.
    Malformed,
}

/// One request the fake answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without query.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The status answered.
    pub status: u16,
    /// Whether the `Authorization` header matched.
    pub authorized: bool,
}

/// A stored comment as tests see it.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeComment {
    /// Jira's comment id.
    pub id: String,
    /// The body as sent: ADF (Cloud) or a string (Data Center).
    pub body: Value,
    /// The body's text (ADF text nodes joined, blocks on their own lines).
    pub text: String,
    /// Whether preview-tower's account wrote it.
    pub by_bot: bool,
}

pub(super) struct Issue {
    pub(super) id: u64,
    pub(super) comments: Vec<Stored>,
}

pub(super) struct Stored {
    pub(super) id: u64,
    pub(super) body: Value,
    pub(super) by_bot: bool,
    pub(super) created: DateTime<Utc>,
}

pub(super) struct State {
    pub(super) edition: Edition,
    pub(super) base_url: String,
    pub(super) issues: BTreeMap<String, Issue>,
    pub(super) next_id: u64,
    pub(super) faults: VecDeque<Fault>,
    pub(super) down: bool,
    pub(super) log: Vec<RequestRecord>,
    pub(super) violations: Vec<String>,
}

impl Conformance for State {
    const NAME: &'static str = "fake Jira";
    const BROKEN: &'static str = "saw non-conformant bodies";

    fn violations(&mut self) -> &mut Vec<String> {
        &mut self.violations
    }
}

impl State {
    pub(super) fn new(edition: Edition, base_url: String) -> Self {
        Self {
            edition,
            base_url,
            issues: BTreeMap::new(),
            next_id: 10_000,
            faults: VecDeque::new(),
            down: false,
            log: Vec::new(),
            violations: Vec::new(),
        }
    }

    /// Stores a comment and returns it as Jira serves it; `created` advances a second per
    /// comment so the order is total.
    pub(super) fn store(&mut self, key: &str, body: Value, by_bot: bool) -> Option<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let epoch = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single()?;
        let created = epoch + chrono::Duration::seconds((id - 10_000) as i64);
        let issue = self.issues.get_mut(key)?;
        issue.comments.push(Stored {
            id,
            body,
            by_bot,
            created,
        });
        let issue_id = issue.id;
        let issue = self.issues.get(key)?;
        Some(self.render(issue_id, issue.comments.last()?))
    }

    /// A comment as Jira serves it (`Comment` in the v3 schema; v2 has the same shape with a
    /// string body and server-style users).
    pub(super) fn render(&self, issue_id: u64, comment: &Stored) -> Value {
        let user = self.user(comment.by_bot);
        let created = comment
            .created
            .format("%Y-%m-%dT%H:%M:%S%.3f%z")
            .to_string();
        let mut json = json!({
            "self": format!(
                "{}/rest/api/{}/issue/{issue_id}/comment/{}",
                self.base_url,
                self.edition.api_version(),
                comment.id
            ),
            "id": comment.id.to_string(),
            "author": user,
            "body": comment.body,
            "updateAuthor": user,
            "created": created,
            "updated": created,
        });
        if self.edition == Edition::Cloud {
            json["jsdPublic"] = Value::Bool(true);
        }
        json
    }

    fn user(&self, bot: bool) -> Value {
        let (name, display) = if bot {
            ("preview-bot", "Preview Bot")
        } else {
            ("mia", "Mia Krystof")
        };
        match self.edition {
            Edition::Cloud => json!({
                "self": format!("{}/rest/api/3/user?accountId=5b10a2844c20165700ede21{}", self.base_url, name.len()),
                "accountId": format!("5b10a2844c20165700ede21{}", name.len()),
                "displayName": display,
                "active": true,
                "accountType": "atlassian",
                "timeZone": "Europe/Berlin",
            }),
            Edition::DataCenter => json!({
                "self": format!("{}/rest/api/2/user?username={name}", self.base_url),
                "name": name,
                "key": format!("JIRAUSER{}", 10_000 + name.len()),
                "displayName": display,
                "active": true,
                "timeZone": "Europe/Berlin",
            }),
        }
    }
}

impl Stored {
    pub(super) fn view(&self) -> FakeComment {
        let mut text = String::new();
        text_of(&self.body, &mut text);
        FakeComment {
            id: self.id.to_string(),
            body: self.body.clone(),
            text: text.trim_end().to_owned(),
            by_bot: self.by_bot,
        }
    }
}

fn text_of(node: &Value, out: &mut String) {
    match node {
        Value::String(text) => out.push_str(text),
        Value::Array(nodes) => nodes.iter().for_each(|n| text_of(n, out)),
        Value::Object(fields) => {
            if let Some(Value::String(text)) = fields.get("text") {
                out.push_str(text);
            }
            if let Some(content) = fields.get("content") {
                text_of(content, out);
                if fields.get("type").and_then(Value::as_str) != Some("doc") {
                    out.push('\n');
                }
            }
        }
        _ => {}
    }
}

/// A comment body by someone else, in the edition's format.
pub(super) fn foreign_body(edition: Edition, text: &str) -> Value {
    match edition {
        Edition::Cloud => json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": text}]}
        ]}),
        Edition::DataCenter => Value::String(text.to_owned()),
    }
}
