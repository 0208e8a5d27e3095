#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

fn keys(title: &str, branch: &str, body: &str, projects: &[&str]) -> Vec<String> {
    let projects: Vec<String> = projects.iter().map(|p| (*p).to_owned()).collect();
    issue_keys(title, branch, body, &projects)
        .into_iter()
        .map(|k| k.as_str().to_owned())
        .collect()
}

#[test]
fn parse_accepts_only_jira_shaped_keys() {
    let good = ["AB-1", "ABC-123", "A1_B-42", "X9-999999999999"];
    for text in good {
        assert_eq!(
            IssueKey::parse(text).map(|k| k.to_string()),
            Some(text.to_owned())
        );
    }
    let long_project = format!("{}-1", "A".repeat(MAX_PROJECT_LEN + 1));
    let bad = [
        "",
        "A-1",
        "abc-1",
        "Abc-1",
        "1BC-1",
        "_BC-1",
        "ABC-0",
        "ABC-01",
        "ABC-",
        "ABC",
        "ABC-1 ",
        " ABC-1",
        "ABC-1x",
        "ABC--1",
        "AB-C-1",
        "ABC-1234567890123",
        long_project.as_str(),
        "ÄBC-1",
    ];
    for text in bad {
        assert_eq!(IssueKey::parse(text), None, "{text:?}");
        assert_eq!(
            text.parse::<IssueKey>(),
            Err(InvalidIssueKey(text.to_owned()))
        );
    }
}

#[test]
fn project_is_the_part_before_the_dash() {
    let key: IssueKey = "MY_PROJ-12".parse().unwrap();
    assert_eq!(key.project(), "MY_PROJ");
}

#[test]
fn prose_keys_match_at_word_boundaries_only() {
    let table: &[(&str, &[&str])] = &[
        ("ABC-1: fix login", &["ABC-1"]),
        ("Fix login (ABC-12)", &["ABC-12"]),
        ("see https://acme.atlassian.net/browse/ABC-7.", &["ABC-7"]),
        ("ABC-1/DEF-2, GH-3", &["ABC-1", "DEF-2", "GH-3"]),
        ("“ABC-5”—done", &["ABC-5"]),
        ("XABC-1 is one key", &["XABC-1"]),
        ("ABC-12x is not a key", &[]),
        ("MY_ABC-1 is one key", &["MY_ABC-1"]),
        ("éABC-1 glued to a letter", &[]),
        ("abc-1 lower case", &[]),
        ("Abc-1 mixed case", &[]),
        ("ABC-0 and ABC-012", &[]),
        ("UTF-8 and ISO-8859", &["ISO-8859", "UTF-8"]),
        ("ABC-1-2", &["ABC-1"]),
        ("ABC-1234567890123 too long", &[]),
    ];
    for (title, want) in table {
        assert_eq!(keys(title, "", "", &[]), *want, "{title:?}");
    }
}

#[test]
fn allow_list_drops_other_projects_and_glued_keys() {
    assert_eq!(keys("UTF-8 fix for ABC-3", "", "", &["abc"]), ["ABC-3"]);
    assert_eq!(keys("XABC-1", "", "", &["ABC"]), Vec::<String>::new());
    assert_eq!(keys("", "", "DEF-9 and ABC-9", &[" ABC ", ""]), ["ABC-9"]);
}

#[test]
fn branch_is_case_folded_only_with_an_allow_list() {
    let table: &[(&str, &[&str], &[&str])] = &[
        ("feature/abc-123-login", &[], &[]),
        ("feature/abc-123-login", &["ABC"], &["ABC-123"]),
        ("feature/ABC-123-login", &[], &["ABC-123"]),
        ("fix-2", &[], &[]),
        ("fix-2", &["ABC"], &[]),
        ("feat_abc-4_login", &["ABC"], &["ABC-4"]),
        ("FEAT_ABC-4", &[], &["FEAT_ABC-4"]),
        ("Abc-5.hotfix", &["abc"], &["ABC-5"]),
        ("abc-6x", &["ABC"], &[]),
        ("release/1.2-abc-7", &["ABC"], &["ABC-7"]),
    ];
    for (branch, projects, want) in table {
        assert_eq!(
            keys("", branch, "", projects),
            *want,
            "{branch:?} {projects:?}"
        );
    }
}

#[test]
fn title_and_body_stay_upper_case_even_with_an_allow_list() {
    assert_eq!(keys("abc-1", "", "abc-2", &["ABC"]), Vec::<String>::new());
}

#[test]
fn results_are_sorted_and_deduplicated() {
    assert_eq!(
        keys("DEF-2 ABC-1", "DEF-2", "ABC-1 ABC-1 ZZ-1", &[]),
        ["ABC-1", "DEF-2", "ZZ-1"]
    );
}

#[test]
fn at_most_max_keys_title_first() {
    let body: String = (1..=500).map(|n| format!("BODY-{n} ")).collect();
    let found = keys("TITLE-1", "", &body, &[]);
    assert_eq!(found.len(), MAX_KEYS);
    assert!(found.contains(&"TITLE-1".to_owned()));
    assert!(found.contains(&"BODY-1".to_owned()));
    assert!(!found.contains(&"BODY-10".to_owned()));
}

#[test]
fn body_is_scanned_only_so_far() {
    let late = format!("{}ABC-1", " ".repeat(BODY_SCAN_BYTES));
    assert_eq!(keys("", "", &late, &[]), Vec::<String>::new());
    let just_in = format!("{}ABC-1", " ".repeat(BODY_SCAN_BYTES - 1));
    assert_eq!(keys("", "", &just_in, &[]), ["ABC-1"]);
}

proptest! {
    #[test]
    fn extraction_never_panics_and_yields_keys(
        title in "(?s).{0,80}",
        branch in "[a-zA-Z0-9_/.-]{0,60}",
        body in "([A-Za-z_]{1,4}-[0-9]{1,3}|[ \\-_/a-zA-Z0-9é—]|\\PC){0,200}",
        projects in proptest::collection::vec("[A-Za-z]{1,4}", 0..3),
    ) {
        let found = issue_keys(&title, &branch, &body, &projects);
        prop_assert!(found.len() <= MAX_KEYS);
        prop_assert!(found.windows(2).all(|w| w[0] < w[1]));
        for key in &found {
            prop_assert_eq!(IssueKey::parse(key.as_str()), Some(key.clone()));
            if !projects.is_empty() {
                prop_assert!(projects.iter().any(|p| p.eq_ignore_ascii_case(key.project())));
            }
        }
    }

    #[test]
    fn a_key_alone_is_found(project in "[A-Z][A-Z0-9_]{1,10}", number in 1u64..1_000_000) {
        let key = format!("{project}-{number}");
        let found = issue_keys(&format!("[{key}] title"), "", "", &[]);
        prop_assert_eq!(found, vec![IssueKey::parse(&key).unwrap()]);
    }
}
