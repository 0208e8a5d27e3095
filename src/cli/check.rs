//! `preview-tower check-config`: validate a repo config file, as app repos' CI does.

use std::process::ExitCode;

use anyhow::{Context, bail};

use super::CheckConfigArgs;
use crate::fleet::Fleet;
use crate::repo_config::{self, Bounds};

pub(super) fn run(args: &CheckConfigArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.path)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    let path = args.path.display().to_string();
    let Ok(text) = String::from_utf8(bytes) else {
        println!("{path}: error: not UTF-8 text\n{path}: 1 error");
        return Ok(ExitCode::FAILURE);
    };
    let fleet = match &args.config {
        Some(path) => Some(super::load_fleet(&super::FleetArgs {
            config: Some(path.clone()),
            demo: false,
        })?),
        None => None,
    };
    let service = match &fleet {
        Some(fleet) => Some(pick_service(fleet, args.service.as_deref())?),
        None => None,
    };
    let bounds = service.map(|s| Bounds {
        dependencies: &s.dependencies,
        max_ttl: s.policy.max_ttl,
    });
    match repo_config::parse(&text, bounds.as_ref()) {
        Ok(_) => {
            match service {
                Some(s) => println!("{path}: ok for service `{}`", s.name),
                None => {
                    println!("{path}: ok (shape only; pass --config to check the fleet's bounds)")
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            print!("{}", repo_config::render_errors(&path, &errors));
            println!(
                "{path}: {} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn pick_service<'a>(
    fleet: &'a Fleet,
    name: Option<&str>,
) -> anyhow::Result<&'a crate::fleet::Service> {
    let known = || {
        fleet
            .services
            .iter()
            .map(|s| s.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (name, fleet.services.as_slice()) {
        (Some(name), _) => match fleet.service(name) {
            Some(service) => Ok(service),
            None => bail!("--service: unknown service `{name}`; known: {}", known()),
        },
        (None, [only]) => Ok(only),
        (None, _) => bail!("--service is needed with this fleet; one of: {}", known()),
    }
}
