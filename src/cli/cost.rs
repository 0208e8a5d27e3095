//! `preview-tower cost`: what previews cost under each policy, over a recorded trace of PR
//! events or a simulated month, replayed through the real planner (see `docs/cost.md`).

use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

use super::CostArgs;
use crate::cost::replay::Window;
use crate::cost::report::{report, table};
use crate::cost::simulate::{Params, simulate};
use crate::cost::trace::{self, TraceEvent};
use crate::fleet::Fleet;

pub(super) fn run(args: &CostArgs) -> anyhow::Result<ExitCode> {
    let fleet = fleet(args)?;
    let (events, window) = match (&args.trace, args.simulate) {
        (Some(path), false) => {
            if args.write_trace.is_some() {
                bail!("--write-trace saves a simulated trace: use it with --simulate");
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--trace: cannot read {}", path.display()))?;
            let events = trace::parse(&text)
                .with_context(|| format!("--trace: invalid trace in {}", path.display()))?;
            let window = trace_window(&events, args.from, args.to)?;
            (events, window)
        }
        (None, true) => {
            if args.from.is_some() || args.to.is_some() {
                bail!("--from and --to choose a window of a --trace; --simulate covers --days");
            }
            let params = Params {
                engineers: args.engineers,
                days: args.days,
                seed: args.seed,
            };
            let (events, window) = simulate(&fleet, &params);
            if let Some(path) = &args.write_trace {
                std::fs::write(path, trace::to_json_lines(&events))
                    .with_context(|| format!("--write-trace: cannot write {}", path.display()))?;
            }
            (events, window)
        }
        _ => bail!("give either --simulate or --trace FILE"),
    };
    let report = report(&fleet, &events, window);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn fleet(args: &CostArgs) -> anyhow::Result<Fleet> {
    super::load_fleet(&super::FleetArgs {
        demo: args.fleet.is_none(),
        config: args.fleet.clone(),
    })
}

/// `[from, to)`: by default from the first event to the last.
fn trace_window(
    events: &[TraceEvent],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> anyhow::Result<Window> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        bail!("--trace: the trace has no events");
    };
    let window = Window {
        from: from.unwrap_or(first.at),
        to: to.unwrap_or(last.at),
    };
    if window.to <= window.from {
        bail!(
            "the window is empty: --to ({}) must be after --from ({})",
            window.to.to_rfc3339(),
            window.from.to_rfc3339()
        );
    }
    Ok(window)
}
