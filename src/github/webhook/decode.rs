//! [`parse`]: a verified body into an [`Event`], reading only what each event needs.

use super::{
    Conclusion, Event, MAX_LABEL_CHARS, MAX_NAME_CHARS, PayloadError, PullRequestAction,
    parse_command, short, wire,
};
use crate::naming::RepoName;
use crate::pull_request::is_full_sha;

/// The event in `body`, a delivery of event `event_name` (the `X-GitHub-Event` header).
/// Verify the signature first: this trusts nothing, but only a verified body deserves a 400.
pub fn parse(event_name: &str, body: &[u8]) -> Result<Event, PayloadError> {
    if body.starts_with(b"payload=") {
        return Err(PayloadError::FormEncoded);
    }
    match event_name {
        "ping" => {
            let ping: wire::Ping = wire::decode("ping", body)?;
            let zen = short(ping.zen.as_deref().unwrap_or_default(), 200);
            Ok(Event::Ping { zen })
        }
        "pull_request" => pull_request(body),
        "issue_comment" => issue_comment(body),
        "check_run" => check_run(body),
        "check_suite" => check_suite(body),
        "workflow_run" => workflow_run(body),
        other => Ok(ignored(
            other,
            wire::action_of(body).as_deref(),
            "preview-tower does not act on this event",
        )),
    }
}

fn pull_request(body: &[u8]) -> Result<Event, PayloadError> {
    let payload: wire::PullRequestEvent = wire::decode("pull_request", body)?;
    let action = payload.action.ok_or(PayloadError::Missing("action"))?;
    let action = PullRequestAction::from_wire(&action);
    if let PullRequestAction::Other(other) = &action {
        return Ok(ignored(
            "pull_request",
            Some(other),
            "this pull_request action does not change a preview",
        ));
    }
    let number = payload
        .number
        .or(payload.pull_request.and_then(|p| p.number))
        .ok_or(PayloadError::Missing("number"))?;
    Ok(Event::PullRequest {
        repo: repo(payload.repository)?,
        number: pr_number(number, "number")?,
        action,
    })
}

fn issue_comment(body: &[u8]) -> Result<Event, PayloadError> {
    let payload: wire::IssueCommentEvent = wire::decode("issue_comment", body)?;
    let action = payload.action.ok_or(PayloadError::Missing("action"))?;
    if action != "created" {
        let reason = "only new comments give commands: edited and deleted ones are ignored";
        return Ok(ignored("issue_comment", Some(&action), reason));
    }
    let issue = payload.issue.ok_or(PayloadError::Missing("issue"))?;
    if issue.pull_request.as_ref().is_none_or(|p| !p.is_object()) {
        let reason = "a comment on an issue, not on a pull request";
        return Ok(ignored("issue_comment", Some(&action), reason));
    }
    let comment = payload.comment.ok_or(PayloadError::Missing("comment"))?;
    let text = comment.body.unwrap_or_default();
    let command = match parse_command(&text) {
        Ok(Some(command)) => command,
        Ok(None) => {
            let reason = "no /preview command in the comment";
            return Ok(ignored("issue_comment", Some(&action), reason));
        }
        Err(error) => return Ok(ignored("issue_comment", Some(&action), &error.to_string())),
    };
    let author = comment
        .user
        .and_then(|u| u.login)
        .ok_or(PayloadError::Missing("comment.user.login"))?;
    if !crate::github::valid_login(&author) {
        return Err(invalid("comment.user.login", "not a GitHub login", &author));
    }
    let number = issue.number.ok_or(PayloadError::Missing("issue.number"))?;
    Ok(Event::Command {
        repo: repo(payload.repository)?,
        number: pr_number(number, "issue.number")?,
        author,
        command,
    })
}

fn check_run(body: &[u8]) -> Result<Event, PayloadError> {
    let payload: wire::CheckRunEvent = wire::decode("check_run", body)?;
    let run = payload.check_run.unwrap_or_default();
    let build = Build {
        event: "check_run",
        name_field: "check_run.name",
        sha_field: "check_run.head_sha",
        name: run.name,
        head_sha: run.head_sha,
        conclusion: run.conclusion,
    };
    build.finished(payload.action, payload.repository)
}

fn check_suite(body: &[u8]) -> Result<Event, PayloadError> {
    let payload: wire::CheckSuiteEvent = wire::decode("check_suite", body)?;
    let suite = payload.check_suite.unwrap_or_default();
    let build = Build {
        event: "check_suite",
        name_field: "check_suite.app.slug",
        sha_field: "check_suite.head_sha",
        name: suite.app.and_then(|app| app.slug),
        head_sha: suite.head_sha,
        conclusion: suite.conclusion,
    };
    build.finished(payload.action, payload.repository)
}

fn workflow_run(body: &[u8]) -> Result<Event, PayloadError> {
    let payload: wire::WorkflowRunEvent = wire::decode("workflow_run", body)?;
    let run = payload.workflow_run.unwrap_or_default();
    let build = Build {
        event: "workflow_run",
        name_field: "workflow_run.name",
        sha_field: "workflow_run.head_sha",
        name: run.name,
        head_sha: run.head_sha,
        conclusion: run.conclusion,
    };
    build.finished(payload.action, payload.repository)
}

/// What the three build events have in common.
struct Build {
    event: &'static str,
    name_field: &'static str,
    sha_field: &'static str,
    name: Option<String>,
    head_sha: Option<String>,
    conclusion: Option<String>,
}

impl Build {
    fn finished(
        self,
        action: Option<String>,
        repository: Option<wire::Repository>,
    ) -> Result<Event, PayloadError> {
        let action = action.ok_or(PayloadError::Missing("action"))?;
        if action != "completed" {
            let reason = "only completed builds matter";
            return Ok(ignored(self.event, Some(&action), reason));
        }
        let Some(conclusion) = self.conclusion else {
            let reason = "completed without a conclusion";
            return Ok(ignored(self.event, Some(&action), reason));
        };
        let name = self
            .name
            .filter(|name| !name.is_empty())
            .ok_or(PayloadError::Missing(self.name_field))?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(
                self.name_field,
                "longer than 255 characters",
                &name,
            ));
        }
        let head_sha = self.head_sha.ok_or(PayloadError::Missing(self.sha_field))?;
        if !is_full_sha(&head_sha) {
            return Err(invalid(self.sha_field, "not a full commit SHA", &head_sha));
        }
        Ok(Event::BuildFinished {
            repo: repo(repository)?,
            head_sha,
            name,
            conclusion: Conclusion::from_wire(&conclusion),
        })
    }
}

fn repo(repository: Option<wire::Repository>) -> Result<RepoName, PayloadError> {
    let full_name = repository
        .and_then(|r| r.full_name)
        .ok_or(PayloadError::Missing("repository.full_name"))?;
    full_name.parse().map_err(|_| {
        invalid(
            "repository.full_name",
            "not a GitHub owner/name",
            &full_name,
        )
    })
}

fn pr_number(number: u64, field: &'static str) -> Result<u64, PayloadError> {
    if number == 0 {
        return Err(invalid(field, "pull request numbers start at 1", "0"));
    }
    Ok(number)
}

fn invalid(field: &'static str, what: &str, value: &str) -> PayloadError {
    PayloadError::Invalid {
        field,
        detail: format!("{what}: `{}`", short(value, 100)),
    }
}

fn ignored(event: &str, action: Option<&str>, reason: &str) -> Event {
    Event::Ignored {
        event: short(event, MAX_LABEL_CHARS),
        action: action.map(|a| short(a, MAX_LABEL_CHARS)),
        reason: reason.to_owned(),
    }
}
