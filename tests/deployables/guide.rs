//! `docs/getting-started.md` as a platform team follows it: every manifest it applies is in the
//! repository and checked. A directory it applies with `kubectl apply -k` renders and is valid;
//! a manifest it writes inline (`kubectl apply -f - <<EOF`) is valid once its shell variables
//! are set to the example values of the guide.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{documents, root, schemas, scratch, tools};

const GUIDE: &str = "docs/getting-started.md";

fn guide() -> String {
    std::fs::read_to_string(root().join(GUIDE)).expect("the guide")
}

/// The guide's shell variables: its `export NAME=value` lines and `NAME=value` assignments,
/// with example values for those it computes (`$(...)`).
fn variables(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start().trim_start_matches("export ");
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            continue;
        }
        let value = value.split(" #").next().unwrap_or_default().trim();
        if !value.starts_with("$(") && !value.is_empty() {
            vars.entry(name.to_owned())
                .or_insert_with(|| value.trim_matches('"').to_owned());
        }
    }
    let computed = [
        ("AWS_ACCOUNT_ID", "123456789012"),
        (
            "CERT_ARN",
            "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
        ),
        (
            "OIDC_PROVIDER",
            "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
        ),
    ];
    for (name, value) in computed {
        vars.entry(name.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    vars
}

/// `text` with `$NAME` and `${NAME}` replaced (longest names first) and `\$` unescaped, as an
/// unquoted heredoc expands them.
fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_owned();
    for _ in 0..3 {
        for name in &names {
            out = out
                .replace(&format!("${{{name}}}"), &vars[*name])
                .replace(&format!("${name}"), &vars[*name]);
        }
    }
    out.replace("\\$", "$")
}

/// The bodies of the guide's `kubectl apply -f - <<EOF` heredocs.
fn inline_manifests(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("kubectl apply -f - <<") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "EOF").collect();
            out.push(body.join("\n"));
        }
    }
    out
}

/// The paths of the guide's `kubectl apply -k <dir>` and `kubectl apply -f <file>`.
fn applied_paths(text: &str) -> Vec<(char, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("kubectl apply -") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let flag = words.next().and_then(|f| f.chars().next());
        let path = words.next().unwrap_or_default();
        if let Some(flag) = flag
            && path != "-"
        {
            out.push((flag, path.trim_end_matches('/').to_owned()));
        }
    }
    out
}

fn validate(tools: &tools::Tools, docs: &[Value], origin: &str) -> Vec<String> {
    schemas::validate(tools, docs, origin, &scratch("guide"))
}

#[test]
fn every_manifest_the_guide_applies_is_in_the_repository_and_valid() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let text = guide();
    let vars = variables(&text);
    let mut problems = Vec::new();

    let inline = inline_manifests(&text);
    for (i, body) in inline.iter().enumerate() {
        let expanded = expand(body, &vars);
        let unset = expanded.match_indices('$').any(|(at, _)| {
            expanded[at + 1..]
                .chars()
                .next()
                .is_some_and(|c| c == '{' || c.is_ascii_uppercase())
        });
        assert!(
            !unset,
            "inline manifest {i} keeps an unset variable:\n{expanded}"
        );
        problems.extend(validate(
            &tools,
            &documents(&expanded),
            &format!("{GUIDE} inline manifest {i}"),
        ));
    }

    let applied = applied_paths(&text);
    for (flag, path) in &applied {
        let full = root().join(path);
        match flag {
            'k' => match tools.kustomize(&full) {
                Ok(rendered) => problems.extend(validate(&tools, &documents(&rendered), path)),
                Err(error) => problems.push(format!("{path}: {error}")),
            },
            'f' => match std::fs::read_to_string(&full) {
                Ok(file) => problems.extend(validate(&tools, &documents(&file), path)),
                Err(error) => problems.push(format!("{path}: {error}")),
            },
            _ => problems.push(format!("kubectl apply -{flag} {path}: not understood")),
        }
    }
    for needed in ["manifests", "argocd", "argocd/guardrails", "platform"] {
        assert!(
            applied.iter().any(|(f, p)| *f == 'k' && p == needed),
            "the guide applies {needed}/"
        );
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_guide_reader_finds_what_it_checks() {
    let text = "export A=1 # one\nB=x\n```sh\nkubectl apply -k platform/\nkubectl apply -f - <<EOF\nkind: $A-${B}-\\$C\nEOF\n```\n";
    let vars = variables(text);
    assert_eq!(vars["A"], "1");
    assert_eq!(vars["B"], "x");
    let inline = inline_manifests(text);
    assert_eq!(inline.len(), 1);
    assert_eq!(expand(&inline[0], &vars), "kind: 1-x-$C");
    assert_eq!(applied_paths(text), [('k', "platform".to_owned())]);
}
