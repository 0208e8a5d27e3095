//! The `preview-tower` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = preview_tower::cli::parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
    match preview_tower::cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
