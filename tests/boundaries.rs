//! The module map stays as drawn, standing in for a crate split. Drawn from the source's own
//! `crate::` paths (single, grouped `crate::{a::X, b}` and nested groups alike):
//!
//! - no module of the pure core ([`CORE`]: configuration, planning, parameters, names, the
//!   lifecycle's decisions, the issue keys and notes) refers to an I/O module ([`IO`]);
//! - no two top-level modules of `src/` refer to each other, directly or around a longer
//!   circle: the whole module graph is acyclic.
//!
//! Test code may cross layers and is not read: the `#[cfg(test)]` modules (`testing`, each
//! `tests.rs`, `tests/` directory, any other `#[cfg(test)] mod x;` or inline
//! `#[cfg(test)] mod tests { ... }`), and comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[path = "boundaries/reader.rs"]
mod reader;

use reader::{Code, code_of};

/// Modules with no I/O: planning, parameters, config parsing, names, the lifecycle's
/// decisions, Jira issue keys and notes, the backoff, the YAML loader.
const CORE: [&str; 10] = [
    "backoff",
    "fleet",
    "issues",
    "lifecycle",
    "naming",
    "params",
    "plan",
    "pull_request",
    "repo_config",
    "yaml",
];

/// Modules that talk to the outside world (or own a process-wide resource).
const IO: [&str; 16] = [
    "argocd",
    "board",
    "cli",
    "cost",
    "demo",
    "freshness",
    "github",
    "http",
    "jira",
    "leader",
    "metrics",
    "reconcile",
    "snapshot",
    "sync",
    "telemetry",
    "tls",
];

/// Which module refers to which, each edge with the files that make it.
type Graph = BTreeMap<String, BTreeMap<String, Vec<PathBuf>>>;

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read a source file")
}

/// The top-level modules of the library, as `src/lib.rs` declares them, but the test-only
/// ones (`#[cfg(test)] mod testing;`).
fn modules() -> Vec<String> {
    let lib = code_of(&read(&src().join("lib.rs")), &[]);
    let mut out: Vec<String> = lib
        .modules
        .into_iter()
        .filter(|name| !lib.test_modules.contains(name))
        .collect();
    out.sort();
    out
}

/// The module path of a file under `src/`: `["plan", "hold"]` for `src/plan/hold.rs`.
fn module_path(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src()).expect("a file under src/");
    let mut names: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if names.last().is_some_and(|n| n == "mod") {
        names.pop();
    }
    names
}

/// The non-test source files of `module`: `src/<module>.rs` and everything under
/// `src/<module>/`, but `tests.rs` files, `tests/` directories and the files of modules
/// declared under `#[cfg(test)]`, with the code each keeps.
fn files_of(module: &str) -> Vec<(PathBuf, Code)> {
    let mut found = Vec::new();
    let file = src().join(format!("{module}.rs"));
    if file.exists() {
        found.push(file);
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
                found.push(path);
            }
        }
    }
    let read: Vec<(PathBuf, Code)> = found
        .into_iter()
        .map(|path| {
            let code = code_of(&read(&path), &module_path(&path));
            (path, code)
        })
        .collect();
    // `#[cfg(test)] mod x;` in `a/b.rs` makes `a/b/x.rs` and `a/b/x/` test code.
    let test_only: Vec<PathBuf> = read
        .iter()
        .flat_map(|(path, code)| {
            let children = path.with_extension("");
            code.test_modules
                .iter()
                .map(move |name| children.join(name))
        })
        .collect();
    read.into_iter()
        .filter(|(path, _)| {
            !test_only
                .iter()
                .any(|t| path.starts_with(t) || *path == t.with_extension("rs"))
        })
        .collect()
}

/// Every module's references to the other top-level modules.
fn graph() -> Graph {
    let modules = modules();
    modules
        .iter()
        .map(|module| {
            let mut refs: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
            for (file, code) in files_of(module) {
                for name in &code.refs {
                    if name != module && modules.contains(name) {
                        refs.entry(name.clone()).or_default().push(file.clone());
                    }
                }
            }
            (module.clone(), refs)
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(src().parent().expect("root"))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A circle in `graph` (its first module repeated at the end), if there is one.
fn circle(graph: &Graph) -> Option<Vec<String>> {
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_core_module_refers_to_an_io_module() {
    let mut problems = Vec::new();
    for (module, refs) in graph() {
        if !CORE.contains(&module.as_str()) {
            continue;
        }
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
fn no_modules_refer_to_each_other_in_a_circle() {
    let graph = graph();
    if let Some(circle) = circle(&graph) {
        let edges: Vec<String> = circle
            .windows(2)
            .map(|pair| {
                let files: Vec<String> = graph[&pair[0]][&pair[1]]
                    .iter()
                    .map(|f| relative(f))
                    .collect();
                format!("{} -> {} ({})", pair[0], pair[1], files.join(", "))
            })
            .collect();
        panic!(
            "modules refer to each other in a circle: {}\n{}",
            circle.join(" -> "),
            edges.join("\n")
        );
    }
}

#[test]
fn every_crate_path_names_a_module_and_none_hides_one() {
    // A `crate::X` that is no module (an item re-exported at the root, a glob or an alias of
    // the root) would hide which module it comes from: the library's root declares modules
    // only, and every path names one.
    let lib = code_of(&read(&src().join("lib.rs")), &[]);
    let declared = lib.modules;
    let mut problems = lib.problems;
    for module in modules() {
        for (file, code) in files_of(&module) {
            for problem in &code.problems {
                problems.push(format!("{}: {problem}", relative(&file)));
            }
            for name in &code.refs {
                if !declared.contains(name) {
                    problems.push(format!(
                        "{}: crate::{name} is no module of src/lib.rs",
                        relative(&file)
                    ));
                }
            }
        }
    }
    let root = read(&src().join("lib.rs"));
    let file = syn::parse_file(&root).expect("parse src/lib.rs");
    for item in &file.items {
        if !matches!(item, syn::Item::Mod(_)) {
            problems.push("src/lib.rs holds an item that is not a module".to_owned());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_layers_name_real_modules() {
    let modules = modules();
    for name in CORE.iter().chain(&IO) {
        assert!(
            modules.iter().any(|m| m == name),
            "`{name}` is not a module of src/lib.rs"
        );
    }
    assert!(
        !modules.iter().any(|m| m == "testing"),
        "test code is not read"
    );
    for module in &modules {
        assert!(
            CORE.contains(&module.as_str()) || IO.contains(&module.as_str()),
            "`{module}` is in neither layer: put it in CORE or IO"
        );
    }
}

/// The module map of `docs/architecture.md`: per module, the modules its row says it may
/// import (the third column; `(nothing)` for none).
fn documented_map() -> BTreeMap<String, BTreeSet<String>> {
    let doc = src().parent().expect("root").join("docs/architecture.md");
    let text = std::fs::read_to_string(&doc).expect("read docs/architecture.md");
    let names = |cell: &str| -> BTreeSet<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    text.lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let module = names(cells.first()?).into_iter().next()?;
            Some((module, names(cells.get(2)?)))
        })
        .collect()
}

#[test]
fn the_module_map_in_the_architecture_doc_is_as_built() {
    let documented = documented_map();
    let mut problems = Vec::new();
    for (module, refs) in graph() {
        let built: BTreeSet<String> = refs.keys().cloned().collect();
        let Some(listed) = documented.get(&module) else {
            problems.push(format!("`{module}` has no row in the module map"));
            continue;
        };
        for extra in built.difference(listed) {
            let files: Vec<String> = refs[extra].iter().map(|f| relative(f)).collect();
            problems.push(format!(
                "{module} imports {extra}, which its row does not list ({})",
                files.join(", ")
            ));
        }
        for gone in listed.difference(&built) {
            problems.push(format!(
                "{module}'s row lists {gone}, which it no longer imports"
            ));
        }
    }
    for module in documented.keys() {
        if !modules().contains(module) {
            problems.push(format!(
                "the module map lists `{module}`, which is no module"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md's module map is not the code's:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_circle_finder_reports_the_circle() {
    fn edge(graph: &mut Graph, from: &str, to: &str) {
        graph
            .entry(from.to_owned())
            .or_default()
            .insert(to.to_owned(), Vec::new());
    }
    let mut graph = Graph::new();
    edge(&mut graph, "a", "b");
    edge(&mut graph, "b", "c");
    edge(&mut graph, "c", "d");
    assert_eq!(circle(&graph), None);
    edge(&mut graph, "d", "b");
    assert_eq!(
        circle(&graph),
        Some(["b", "c", "d", "b"].map(str::to_owned).to_vec())
    );
}
