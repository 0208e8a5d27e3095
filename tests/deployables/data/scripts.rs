//! The scripts behind it, run here against stand-ins for PostgreSQL's entrypoint and Django:
//! an unfinished seed is started over and a complete one kept; the schema wait passes once
//! migrated and is bounded.

use std::path::Path;
use std::process::Command;

use super::script;
use crate::scratch;

/// A directory of stand-in commands, each a shell script.
fn stand_ins(dir: &Path, commands: &[(&str, &str)]) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for (command, body) in commands {
        let path = bin.join(command);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        let status = Command::new("chmod")
            .arg("+x")
            .arg(&path)
            .status()
            .expect("chmod");
        assert!(status.success());
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `start-postgres.sh` hands over to the entrypoint with its arguments, keeps a complete seed
/// and removes an unfinished one; `postgres-seeded.sh` marks a seed complete.
#[test]
fn an_unfinished_seed_is_started_over_and_a_complete_one_kept() {
    let dir = scratch("data-seed");
    let volume = dir.join("volume");
    let pgdata = volume.join("pgdata");
    let log = dir.join("entrypoint.log");
    let path = stand_ins(
        &dir,
        &[(
            "docker-entrypoint.sh",
            &format!(
                "echo \"$* $(ls \"$PGDATA\" 2>/dev/null)\" >> '{}'",
                log.display()
            ),
        )],
    );
    let start = |label: &str| {
        let output = Command::new("sh")
            .arg(script("start-postgres.sh"))
            .args(["-c", "synchronous_commit=off"])
            .env("PATH", &path)
            .env("PGDATA", &pgdata)
            .output()
            .expect("run start-postgres.sh");
        assert!(output.status.success(), "{label}: {output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // A first start, and a seed cut short: PG_VERSION written, never marked complete.
    std::fs::create_dir_all(&pgdata).expect("pgdata");
    std::fs::write(pgdata.join("PG_VERSION"), "17\n").expect("write");
    let said = start("unfinished");
    assert!(!pgdata.exists(), "an unfinished seed is removed");
    assert!(said.contains("unfinished seed"), "{said}");
    // The entrypoint seeds it, and its last init script marks it complete.
    std::fs::create_dir_all(&pgdata).expect("pgdata");
    std::fs::write(pgdata.join("PG_VERSION"), "17\n").expect("write");
    let sourced = Command::new("sh")
        .arg("-c")
        .arg(format!(". '{}'", script("postgres-seeded.sh").display()))
        .env("PGDATA", &pgdata)
        .status()
        .expect("source postgres-seeded.sh");
    assert!(sourced.success());
    assert!(volume.join(".preview-tower-seeded").exists(), "marked");
    // Woken up, moved to another node: the data is kept, the seed not loaded again.
    start("complete");
    assert!(
        pgdata.join("PG_VERSION").exists(),
        "a complete seed is kept"
    );
    let calls = std::fs::read_to_string(&log).expect("entrypoint called");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "-c synchronous_commit=off ",
            "-c synchronous_commit=off PG_VERSION"
        ],
        "the entrypoint gets the arguments, after the data directory was settled"
    );
}

/// `wait-for-schema.sh` passes once `python manage.py migrate --check` does, and gives up with
/// a clear message after its bound.
#[test]
fn the_schema_wait_passes_once_migrated_and_is_bounded() {
    let dir = scratch("data-schema");
    let attempts = dir.join("attempts");
    // Django: unapplied migrations twice, then none. `sleep` returns at once.
    let python = format!(
        "echo \"$*\" >> '{0}'; [ \"$(wc -l < '{0}')\" -ge 3 ] || {{ echo 'unapplied'; exit 1; }}",
        attempts.display()
    );
    let path = stand_ins(&dir, &[("python", &python), ("sleep", "exit 0")]);
    let run = |timeout: &str| {
        Command::new("sh")
            .arg(script("wait-for-schema.sh"))
            .env("PATH", &path)
            .env("WAIT_TIMEOUT_SECONDS", timeout)
            .output()
            .expect("run wait-for-schema.sh")
    };
    let output = run("600");
    assert!(output.status.success(), "{output:?}");
    let calls = std::fs::read_to_string(&attempts).expect("python called");
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["manage.py migrate --check"; 3]
    );
    std::fs::write(&attempts, "").expect("reset");
    let output = run("0");
    assert!(!output.status.success(), "gives up after its bound");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("giving up") && said.contains("unapplied"),
        "says why, with Django's output: {said}"
    );
}
