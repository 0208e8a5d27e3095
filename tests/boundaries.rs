//! The pure core stays pure, standing in for a crate split: drawn from the source's own
//! `crate::` paths, no module of the core refers to an I/O module, and the core's modules do not
//! refer to each other in a circle. Test code (`tests.rs`, `tests/` directories) may cross
//! layers; comments are not read.
//!
//! `lifecycle` joins the core once its decisions and its I/O shell are apart (issue 14).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules with no I/O: planning, parameters, config parsing, names.
const CORE: [&str; 8] = [
    "backoff",
    "fleet",
    "naming",
    "params",
    "plan",
    "pull_request",
    "repo_config",
    "yaml",
];

/// Modules that talk to the outside world (or own a process-wide resource).
const IO: [&str; 12] = [
    "argocd",
    "cli",
    "demo",
    "freshness",
    "github",
    "http",
    "jira",
    "leader",
    "lifecycle",
    "metrics",
    "snapshot",
    "sync",
];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The non-test source files of `module`: `src/<module>.rs` and everything under
/// `src/<module>/`.
fn files_of(module: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src().join(format!("{module}.rs"));
    if file.exists() {
        out.push(file);
    }
    let mut stack = vec![src().join(module)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != "tests" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                out.push(path);
            }
        }
    }
    out
}

/// The top-level modules `text` names as `crate::<module>`, outside comments.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Which core module refers to which other modules, with the files that do.
fn graph() -> BTreeMap<&'static str, BTreeMap<String, Vec<PathBuf>>> {
    CORE.iter()
        .map(|module| {
            let mut refs: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
            for file in files_of(module) {
                let text = std::fs::read_to_string(&file).expect("read a source file");
                for name in referenced(&text) {
                    if name != *module {
                        refs.entry(name).or_default().push(file.clone());
                    }
                }
            }
            (*module, refs)
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(src().parent().expect("root"))
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn no_core_module_refers_to_an_io_module() {
    let mut problems = Vec::new();
    for (module, refs) in graph() {
        for (name, files) in refs {
            if IO.contains(&name.as_str()) {
                let files: Vec<String> = files.iter().map(|f| relative(f)).collect();
                problems.push(format!("{module} -> {name} ({})", files.join(", ")));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the pure core refers to I/O modules:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_core_modules_refer_to_each_other_without_a_circle() {
    let graph = graph();
    let edges: BTreeMap<&str, Vec<&str>> = graph
        .iter()
        .map(|(module, refs)| {
            let to: Vec<&str> = refs
                .keys()
                .filter_map(|name| CORE.iter().copied().find(|c| *c == name))
                .collect();
            (*module, to)
        })
        .collect();
    // Depth-first search for a back edge, reporting the circle.
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node);
            return Some(circle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in CORE {
        let mut path = Vec::new();
        if let Some(circle) = visit(module, &edges, &mut path, &mut done) {
            panic!(
                "the core modules refer to each other: {}",
                circle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_reader_finds_paths_and_skips_comments() {
    let text = "use crate::fleet::{Fleet, Service};\n// crate::github is only mentioned\nlet x = crate::naming::slug(a); /* */ // crate::http\n";
    assert_eq!(
        referenced(text),
        ["fleet", "naming"].map(str::to_owned).into()
    );
}
