//! `check-config` on what is not a small text file: a huge file is refused after reading at
//! most the size limit plus one byte, and a directory, a FIFO or a device is refused without
//! being read, each with a clear message.
//!
//! Each run gets at most 1 GiB of address space (`ulimit -v`), so that reading a whole huge
//! file, or `/dev/zero` forever, fails instead of filling the machine's memory, and a generous
//! bound after which a run still going is killed. Neither is a timing assertion.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_preview-tower");
/// How long a check may run before the test gives up on it.
const BOUND: Duration = Duration::from_secs(30);
/// The address space each run gets, in KiB.
const ADDRESS_SPACE_KIB: u64 = 1024 * 1024;

/// `preview-tower check-config <path>` with a bounded address space, to its end or killed
/// after [`BOUND`] (then it panics).
fn check_config(path: &std::path::Path) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" check-config \"$1\""
        ))
        .arg(BIN)
        .arg(path)
        .env_remove("PREVIEW_TOWER_CONFIG")
        .env_remove("PREVIEW_TOWER_SERVICE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn check-config");
    let until = Instant::now() + BOUND;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "check-config {} still running after {} s",
                path.display(),
                BOUND.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_huge_file_is_refused_after_reading_at_most_the_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.preview.yaml");
    // 4 GiB, sparse: it takes no disk, and reading it whole cannot fit in the address space.
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(4 << 30).expect("set_len");
    drop(file);
    let output = check_config(&path);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "a config error: {said}");
    assert!(
        said.contains("over the limit of 16384 bytes"),
        "says why: {said}"
    );
    assert!(said.contains(&path.display().to_string()), "{said}");
}

#[test]
fn a_file_just_over_the_limit_is_refused_and_one_at_the_limit_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at_limit = dir.path().join("at-limit.yaml");
    let comment = format!("# {}\n", "x".repeat(16 * 1024 - 3));
    assert_eq!(comment.len(), 16 * 1024);
    std::fs::write(&at_limit, &comment).expect("write");
    let output = check_config(&at_limit);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let over = dir.path().join("over.yaml");
    std::fs::write(&over, format!("{comment}\n")).expect("write");
    let output = check_config(&over);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("over the limit of 16384 bytes"),
        "{}",
        text(&output)
    );
}

#[test]
fn what_is_not_a_regular_file_is_refused_unread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo");
    let cases = [
        (dir.path().to_owned(), "a directory"),
        (fifo, "a FIFO"),
        ("/dev/zero".into(), "a device"),
    ];
    for (path, kind) in cases {
        let output = check_config(&path);
        let said = text(&output);
        assert_eq!(output.status.code(), Some(2), "{}: {said}", path.display());
        assert!(
            said.contains("not a regular file") && said.contains(kind),
            "{}: {said}",
            path.display()
        );
    }
}
