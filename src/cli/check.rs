//! `preview-tower check-config`: validate a repo config file, as app repos' CI does.
//!
//! The file is untrusted and so is its path's target: only a regular file is read, and only up
//! to [`MAX_FILE_BYTES`] and one byte more, so that a huge file, a FIFO or a device
//! (`/dev/zero`) costs neither memory nor a hang.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::CheckConfigArgs;
use crate::fleet::Fleet;
use crate::repo_config::{self, Bounds, MAX_FILE_BYTES};

pub(super) fn run(args: &CheckConfigArgs) -> anyhow::Result<ExitCode> {
    let path = args.path.display().to_string();
    let bytes = match read_limited(&args.path)? {
        Contents::Bytes(bytes) => bytes,
        Contents::TooLarge(size) => {
            print!(
                "{}",
                repo_config::render_errors(&path, &[repo_config::too_large(size)])
            );
            println!("{path}: 1 error");
            return Ok(ExitCode::FAILURE);
        }
    };
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

/// What [`read_limited`] found.
#[derive(Debug)]
enum Contents {
    /// The whole file, at most [`MAX_FILE_BYTES`].
    Bytes(Vec<u8>),
    /// A file over the limit: its size in bytes, as far as known.
    TooLarge(u64),
}

/// Reads the file at `path`, refusing anything but a regular file (followed through symbolic
/// links) before opening it, and reading at most [`MAX_FILE_BYTES`] + 1 bytes.
fn read_limited(path: &Path) -> anyhow::Result<Contents> {
    let cannot_read = || format!("cannot read {}", path.display());
    let kind = std::fs::metadata(path)
        .with_context(cannot_read)?
        .file_type();
    refuse_unless_regular(path, kind)?;
    let file = std::fs::File::open(path).with_context(cannot_read)?;
    // The path may have been replaced since: check what was opened.
    let metadata = file.metadata().with_context(cannot_read)?;
    refuse_unless_regular(path, metadata.file_type())?;
    let limit = MAX_FILE_BYTES as u64;
    if metadata.len() > limit {
        return Ok(Contents::TooLarge(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(MAX_FILE_BYTES + 1);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot_read)?;
    if bytes.len() > MAX_FILE_BYTES {
        // It grew since its size was read.
        return Ok(Contents::TooLarge(bytes.len() as u64));
    }
    Ok(Contents::Bytes(bytes))
}

fn refuse_unless_regular(path: &Path, kind: std::fs::FileType) -> anyhow::Result<()> {
    if kind.is_file() {
        return Ok(());
    }
    bail!(
        "{} is not a regular file ({}): check-config reads a repo config file such as \
         .preview.yaml",
        path.display(),
        kind_name(kind)
    )
}

/// What a file that is not a regular file is, for a message.
fn kind_name(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
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
