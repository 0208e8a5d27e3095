//! The command line's shape: no flag carries a secret.

use clap::CommandFactory as _;

use super::Cli;

/// Words that make a flag a secret's.
const SECRET_WORDS: [&str; 5] = ["token", "secret", "password", "key", "credential"];

/// Every flag of `command` and its subcommands that takes a secret's value rather than a
/// file's path, as `subcommand --flag`.
fn secret_flags(command: &clap::Command, prefix: &str, found: &mut Vec<String>) {
    let path = format!("{prefix}{} ", command.get_name());
    for arg in command.get_arguments() {
        let name = arg.get_long().unwrap_or(arg.get_id().as_str());
        let secret = SECRET_WORDS.iter().any(|word| name.contains(word));
        if secret && arg.get_action().takes_values() && !name.ends_with("-file") {
            found.push(format!("{path}--{name}"));
        }
    }
    for subcommand in command.get_subcommands() {
        secret_flags(subcommand, &path, found);
    }
}

#[test]
fn no_flag_takes_a_secret_value() {
    let mut found = Vec::new();
    secret_flags(&Cli::command(), "", &mut found);
    assert!(
        found.is_empty(),
        "flags taking a secret (ps shows them; use a file or the environment): {found:?}"
    );
}

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn a_secret_flag_is_refused_with_where_the_secret_goes_and_never_repeated() {
    let cases = [
        (
            &["plan", "--demo", "--github-token", "ghp_x1"][..],
            "--github-token-file",
        ),
        (
            &["plan", "--demo", "--github-token=ghp_x1"][..],
            "PREVIEW_TOWER_GITHUB_TOKEN",
        ),
        (
            &["serve", "--demo", "--plugin-token", "ghp_x1"][..],
            "--plugin-token-file",
        ),
        (
            &["serve", "--webhook-secret=ghp_x1"][..],
            "PREVIEW_TOWER_WEBHOOK_SECRET",
        ),
        (
            &["serve", "--jira-token", "ghp_x1"][..],
            "PREVIEW_TOWER_JIRA_TOKEN",
        ),
    ];
    for (args, instead) in cases {
        let argv = std::iter::once("preview-tower").chain(args.iter().copied());
        let Err(error) = super::parse_from(argv) else {
            panic!("{args:?} parsed");
        };
        let text = error.to_string();
        assert_eq!(error.exit_code(), 2, "{text}");
        assert!(
            text.contains(instead) && text.contains("`ps`"),
            "{args:?}: {text}"
        );
        assert!(!text.contains("ghp_x1"), "{args:?}: {text}");
    }
}

#[test]
fn other_unknown_flags_keep_clap_s_own_message() {
    let argv = ["preview-tower", "plan", "--demo", "--github-tokens", "x"];
    let Err(error) = super::parse_from(argv) else {
        panic!("parsed");
    };
    assert!(!error.to_string().contains("`ps`"), "{error}");
}

#[test]
fn the_security_guide_lists_every_secret_and_where_it_is_read_from() {
    let guide = include_str!("../../docs/security.md");
    let places = [
        super::GITHUB_TOKEN_ENV,
        super::PLUGIN_TOKEN_ENV,
        super::WEBHOOK_SECRET_ENV,
        super::JIRA_TOKEN_ENV,
        "--github-token-file",
        "--github-app-key-file",
        "--plugin-token-file",
        "--webhook-secret-file",
        "--jira-token-file",
    ];
    for place in places {
        assert!(
            guide.contains(&format!("`{place}`")),
            "docs/security.md lacks {place}"
        );
    }
}
