//! Logging setup: `tracing` with plain or JSON output, filtered by `RUST_LOG` (default `info`).
//!
//! `ERROR` means an operator must act. A dependency that logs its own `ERROR` for a failure
//! this service handles would cry wolf beside our own line: octocrab logs every failed GitHub
//! call (`failed with status 502`) at `ERROR`, although the adapter returns each failure to the
//! sync, which backs off, keeps serving the last good state and logs it once as a `WARN` with
//! the repository and what it means. Those events are dropped, whatever `RUST_LOG` says; the
//! dependency's other events (octocrab's `debug` request spans) stay available.

use std::io::IsTerminal as _;

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, filter};

/// Dependencies whose `ERROR` events are failures returned to, handled and logged by our own
/// code: octocrab (every GitHub call goes through `github::octocrab`, which returns its errors).
const HANDLED_FAILURE_TARGETS: [&str; 1] = ["octocrab"];

/// The log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Plain,
    /// One JSON object per event, for log pipelines.
    Json,
}

/// Installs the global subscriber, logging to stderr (stdout is for command output).
/// Calling it twice is harmless.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let _ = subscriber(format, filter, ansi, std::io::stderr).try_init();
}

/// The subscriber [`init`] installs, writing to `writer`.
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(writer);
    let layer = match format {
        LogFormat::Plain => layer.boxed(),
        LogFormat::Json => layer.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(layer.with_filter(filter::filter_fn(|meta| !is_handled_failure(meta))))
}

/// Whether `meta` is an `ERROR` event of a [`HANDLED_FAILURE_TARGETS`] dependency.
fn is_handled_failure(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    meta.is_event()
        && *meta.level() == Level::ERROR
        && HANDLED_FAILURE_TARGETS.iter().any(|dependency| {
            target
                .strip_prefix(dependency)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;

    /// Everything written, shared with the test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            buffer.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            let buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&buffer).into_owned()
        }
    }

    fn logged(format: LogFormat, directives: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(format, EnvFilter::new(directives), false, move || {
            writer.clone()
        });
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "octocrab", "failed with status 502 Bad Gateway");
            tracing::error!(target: "octocrab::service", "failed with error timeout");
            tracing::debug!(target: "octocrab", "requesting");
            tracing::error!(target: "octocrabby", "another crate's error");
            tracing::warn!(target: "preview_tower::sync", "refresh failed: GitHub answered 502");
            tracing::error!(target: "preview_tower::cli::serve", "a background task stopped");
        });
        captured.text()
    }

    #[test]
    fn octocrab_errors_are_dropped_and_everything_else_kept() {
        for format in [LogFormat::Plain, LogFormat::Json] {
            let text = logged(format, "info");
            assert!(!text.contains("failed with"), "{format:?}: {text}");
            for kept in [
                "another crate's error",
                "refresh failed",
                "a background task",
            ] {
                assert!(text.contains(kept), "{format:?} lacks {kept}: {text}");
            }
        }
    }

    #[test]
    fn octocrab_errors_stay_dropped_when_its_debug_events_are_asked_for() {
        let text = logged(LogFormat::Plain, "info,octocrab=debug");
        assert!(text.contains("requesting"), "{text}");
        assert!(!text.contains("failed with"), "{text}");
    }
}
