//! The binary as an operator and an app repo's CI run it: `plan --demo`, `check-config`, and
//! `serve --demo` answered over real HTTP.

mod support;

#[path = "cli/check_config.rs"]
mod check_config;
#[path = "cli/plan.rs"]
mod plan;
#[path = "cli/refusals.rs"]
mod refusals;
#[path = "cli/serve.rs"]
mod serve;

use std::io::Write as _;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_preview-tower");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("PREVIEW_TOWER_CONFIG")
        .env_remove("PREVIEW_TOWER_SERVICE")
        .output()
        .expect("run preview-tower")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}
