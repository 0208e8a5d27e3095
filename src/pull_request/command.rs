//! `/preview` commands in pull-request comments: `/preview keep`, `/preview extend <duration>`
//! and `/preview wake`.
//!
//! The command is the first line of the comment's first [`MAX_COMMAND_LINES`] lines that
//! starts with `/preview` (leading spaces allowed), outside fenced code blocks: a comment that
//! quotes (`> /preview keep`) or shows (```` ``` ````) a command does not give it. Only that
//! line is read, and at most [`MAX_LINE_CHARS`] of it. The text is untrusted: what an error
//! quotes from it is short and printable.

use std::time::Duration;

/// Lines of a comment searched for a command.
pub const MAX_COMMAND_LINES: usize = 20;
/// Characters of the command line read; the rest is ignored.
pub const MAX_LINE_CHARS: usize = 200;
/// Longest `/preview extend`: 90 days.
pub const MAX_EXTENSION: Duration = Duration::from_secs(90 * 24 * 3600);

const PREFIX: &str = "/preview";

/// What a `/preview` comment asks for. Its effects belong to the cost controls; this module
/// only reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Keep the preview: no idle expiry.
    Keep,
    /// Extend the preview's life by this much (more than zero, at most [`MAX_EXTENSION`]).
    Extend(Duration),
    /// Start a preview that was put to sleep.
    Wake,
}

/// Why a `/preview` line is not a command. The messages are meant for the commenter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// `/preview` alone.
    #[error("`/preview` needs a command: keep, extend <duration> or wake")]
    Empty,
    /// `/preview xyz`.
    #[error("unknown command `/preview {0}`: use keep, extend <duration> or wake")]
    Unknown(String),
    /// `/preview keep now`: `keep` and `wake` take nothing more.
    #[error("`/preview {0}` takes no argument")]
    UnexpectedArgument(&'static str),
    /// `/preview extend` without a duration.
    #[error("`/preview extend` needs a duration, such as 3d, 12h or 90m")]
    MissingDuration,
    /// A duration humantime cannot read.
    #[error("`{input}` is not a duration ({detail}): use a form such as 3d, 12h or 90m")]
    BadDuration {
        /// The argument, shortened.
        input: String,
        /// humantime's reason.
        detail: String,
    },
    /// `/preview extend 0s`.
    #[error("`/preview extend` needs a duration longer than zero")]
    ZeroDuration,
    /// More than [`MAX_EXTENSION`].
    #[error("`/preview extend` can add at most 90 days, not {0}")]
    TooLong(String),
}

/// The command in comment `body`: `Ok(None)` when no line starts with `/preview`, an error
/// when the first such line is not a valid command. Never panics, whatever the text.
pub fn parse_command(body: &str) -> Result<Option<Command>, CommandError> {
    let Some(line) = command_line(body) else {
        return Ok(None);
    };
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Err(CommandError::Empty);
    };
    let rest: Vec<&str> = words.collect();
    match verb.to_ascii_lowercase().as_str() {
        "keep" if rest.is_empty() => Ok(Some(Command::Keep)),
        "wake" if rest.is_empty() => Ok(Some(Command::Wake)),
        "keep" => Err(CommandError::UnexpectedArgument("keep")),
        "wake" => Err(CommandError::UnexpectedArgument("wake")),
        "extend" => extension(&rest.join(" ")).map(|d| Some(Command::Extend(d))),
        _ => Err(CommandError::Unknown(quote(verb))),
    }
}

/// What follows `/preview` on the command line, if the comment has one.
fn command_line(body: &str) -> Option<String> {
    let mut fenced = false;
    for line in body.lines().take(MAX_COMMAND_LINES) {
        let line = line.trim_start();
        if line.starts_with("```") || line.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let Some(rest) = line.strip_prefix(PREFIX) else {
            continue;
        };
        // `/previewer` is not a command.
        if rest.chars().next().is_none_or(char::is_whitespace) {
            return Some(rest.chars().take(MAX_LINE_CHARS).collect());
        }
    }
    None
}

fn extension(text: &str) -> Result<Duration, CommandError> {
    if text.is_empty() {
        return Err(CommandError::MissingDuration);
    }
    let duration = humantime::parse_duration(text).map_err(|e| CommandError::BadDuration {
        input: quote(text),
        detail: e.to_string(),
    })?;
    if duration.is_zero() {
        Err(CommandError::ZeroDuration)
    } else if duration > MAX_EXTENSION {
        Err(CommandError::TooLong(quote(text)))
    } else {
        Ok(duration)
    }
}

/// At most 32 printable characters of untrusted text, for an error message.
fn quote(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control() && *c != '`')
        .take(32)
        .collect();
    if text.chars().count() > 32 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;

    #[test]
    fn keep_extend_and_wake_are_commands() {
        let cases = [
            ("/preview keep", Command::Keep),
            ("/preview wake", Command::Wake),
            ("  /preview   KEEP  ", Command::Keep),
            (
                "/preview extend 3d",
                Command::Extend(Duration::from_secs(72 * HOUR)),
            ),
            (
                "/preview extend 12h",
                Command::Extend(Duration::from_secs(12 * HOUR)),
            ),
            (
                "/preview extend 90m",
                Command::Extend(Duration::from_secs(90 * 60)),
            ),
            (
                "/preview extend 1d 12h",
                Command::Extend(Duration::from_secs(36 * HOUR)),
            ),
            ("/preview extend 90d", Command::Extend(MAX_EXTENSION)),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_command(body), Ok(Some(expected)), "{body:?}");
        }
    }

    #[test]
    fn the_command_may_follow_other_lines() {
        let body = "Thanks!\r\n\r\n/preview extend 2h\nand then some";
        assert_eq!(
            parse_command(body),
            Ok(Some(Command::Extend(Duration::from_secs(2 * HOUR))))
        );
    }

    #[test]
    fn only_the_first_command_line_counts() {
        let body = "/preview wake\n/preview keep";
        assert_eq!(parse_command(body), Ok(Some(Command::Wake)));
    }

    #[test]
    fn comments_without_a_command_are_none() {
        for body in [
            "",
            "LGTM",
            "> /preview keep",
            "please /preview keep",
            "/previewer keep",
            "```\n/preview keep\n```",
            "~~~sh\n/preview wake\n~~~\nno command here",
        ] {
            assert_eq!(parse_command(body), Ok(None), "{body:?}");
        }
    }

    #[test]
    fn a_command_deeper_than_the_searched_lines_is_not_read() {
        let body = format!("{}/preview keep", "text\n".repeat(MAX_COMMAND_LINES));
        assert_eq!(parse_command(&body), Ok(None));
    }

    #[test]
    fn unknown_and_incomplete_commands_are_errors() {
        assert_eq!(parse_command("/preview"), Err(CommandError::Empty));
        assert_eq!(
            parse_command("/preview deploy"),
            Err(CommandError::Unknown("deploy".into()))
        );
        assert_eq!(
            parse_command("/preview keep forever"),
            Err(CommandError::UnexpectedArgument("keep"))
        );
        assert_eq!(
            parse_command("/preview extend"),
            Err(CommandError::MissingDuration)
        );
    }

    #[test]
    fn bad_durations_are_refused_with_a_reason() {
        assert!(matches!(
            parse_command("/preview extend soon"),
            Err(CommandError::BadDuration { input, .. }) if input == "soon"
        ));
        assert!(matches!(
            parse_command("/preview extend -3d"),
            Err(CommandError::BadDuration { .. })
        ));
        assert_eq!(
            parse_command("/preview extend 0s"),
            Err(CommandError::ZeroDuration)
        );
        assert_eq!(
            parse_command("/preview extend 0d"),
            Err(CommandError::ZeroDuration)
        );
        assert_eq!(
            parse_command("/preview extend 91d"),
            Err(CommandError::TooLong("91d".into()))
        );
        assert!(matches!(
            parse_command("/preview extend 1y"),
            Err(CommandError::TooLong(_))
        ));
        let message = parse_command("/preview extend 100d")
            .expect_err("too long")
            .to_string();
        assert!(message.contains("at most 90 days"), "{message}");
    }

    #[test]
    fn quoted_text_is_short_and_printable() {
        let verb = format!("x\u{7}`{}", "y".repeat(500));
        let Err(CommandError::Unknown(quoted)) = parse_command(&format!("/preview {verb}")) else {
            panic!("expected an unknown command");
        };
        assert!(quoted.chars().count() <= 33, "{quoted}");
        assert!(!quoted.contains('\u{7}') && !quoted.contains('`'));
    }
}
