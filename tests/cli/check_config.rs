//! `check-config`, as an app repo's CI runs it: each error at its line, the fleet's bounds for
//! a service, a file that is not text.

use std::io::Write as _;

use super::{run, stdout, temp_file};

#[test]
fn check_config_points_at_the_line_of_each_error() {
    let file = temp_file("# preview config\ndependancies:\n  api: pr-1\nttl: 3d\nspot: maybe\n");
    let path = file.path().to_str().expect("utf-8 path");
    let output = run(&["check-config", path]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{path}:2:")), "{text}");
    assert!(text.contains("dependencies"), "did you mean: {text}");
    assert!(text.contains(&format!("{path}:5:")), "{text}");
    assert!(text.contains("2 errors"), "{text}");
}

#[test]
fn check_config_checks_the_fleet_bounds_for_a_service() {
    let fleet = temp_file(preview_tower::demo::FLEET_YAML);
    let fleet_path = fleet.path().to_str().expect("utf-8 path");
    let good = temp_file("dependencies:\n  api: pr-42\nttl: 5d\n");
    let good_path = good.path().to_str().expect("utf-8 path");
    let output = run(&[
        "check-config",
        good_path,
        "--config",
        fleet_path,
        "--service",
        "web",
    ]);
    assert!(output.status.success(), "{}", stdout(&output));
    // billing does not depend on api, and 30 days is past the maximum.
    let bad = temp_file("dependencies:\n  api: pr-42\nttl: 30d\n");
    let bad_path = bad.path().to_str().expect("utf-8 path");
    let output = run(&[
        "check-config",
        bad_path,
        "--config",
        fleet_path,
        "--service",
        "billing",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{bad_path}:2:")), "{text}");
    assert!(text.contains(&format!("{bad_path}:3:")), "{text}");
    let output = run(&["check-config", good_path, "--config", fleet_path]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a multi-service fleet needs --service"
    );
}

#[test]
fn check_config_reports_a_file_that_is_not_text() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&[0xff, 0xfe, b'a', 0]).expect("write");
    let path = file.path().to_str().expect("utf-8 path");
    let output = run(&["check-config", path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("not UTF-8"), "{}", stdout(&output));
}
