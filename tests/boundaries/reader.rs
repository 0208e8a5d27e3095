//! Reading Rust source as rustfmt lays it out: which top-level modules a file names as
//! `crate::` paths, outside comments and test-only items.

use std::collections::BTreeSet;

/// What the reader keeps of a source file.
pub(crate) struct Code {
    /// The text without comments and without `#[cfg(test)]` items.
    pub(crate) text: String,
    /// The file modules it declares (`mod x;`), test-only or not.
    pub(crate) modules: Vec<String>,
    /// Those declared under `#[cfg(test)]`.
    pub(crate) test_modules: Vec<String>,
}

/// Reads `text` as rustfmt lays it out: line comments dropped (`//`, `///`, `//!`; block
/// comments are not used here), and an item under `#[cfg(test)]` skipped whole: a `mod x;`
/// line, or a block up to the `}` at the item's own indentation.
pub(crate) fn code_of(text: &str) -> Code {
    let mut code = Code {
        text: String::new(),
        modules: Vec::new(),
        test_modules: Vec::new(),
    };
    let mut test_only = false;
    let mut skip_until: Option<String> = None;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or_default();
        if let Some(end) = &skip_until {
            if line.trim_end() == end {
                skip_until = None;
            }
            continue;
        }
        let item = line.trim();
        if item.starts_with("#[cfg(test)]") {
            test_only = true;
            continue;
        }
        if test_only && item.starts_with("#[") {
            continue;
        }
        let declared = without_visibility(item)
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(name) = declared {
            code.modules.push(name.trim().to_owned());
            if test_only {
                code.test_modules.push(name.trim().to_owned());
            }
        }
        if test_only {
            test_only = false;
            if item.ends_with('{') {
                let indent = &line[..line.len() - line.trim_start().len()];
                skip_until = Some(format!("{indent}}}"));
            }
            continue;
        }
        code.text.push_str(line);
        code.text.push('\n');
    }
    code
}

/// `item` without its visibility (`pub`, `pub(crate)`, `pub(super)`, ...).
fn without_visibility(item: &str) -> &str {
    let Some(rest) = item.strip_prefix("pub") else {
        return item;
    };
    match rest.strip_prefix('(') {
        Some(scoped) => scoped.split_once(')').map_or(scoped, |(_, after)| after),
        None => rest,
    }
    .trim_start()
}

/// The top-level modules `code` names as `crate::<module>`, or inside a group
/// `crate::{<module>::X, <module>, <module>::{...}}` (only the group's first level names
/// modules). Reads code only: strip comments first ([`code_of`]).
pub(crate) fn referenced(code: &str) -> BTreeSet<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        // `my_crate::x` is another path.
        if code[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if !rest.starts_with('{') {
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() {
                out.insert(name);
            }
            continue;
        }
        // A group: the first identifier of each item at depth 1.
        let mut depth = 0usize;
        let mut item_start = false;
        let mut name = String::new();
        for c in rest.chars() {
            if depth == 1 && item_start {
                if is_ident(c) {
                    name.push(c);
                    continue;
                }
                if name.is_empty() && c.is_whitespace() {
                    continue;
                }
                if name != "self" && !name.is_empty() {
                    out.insert(name.clone());
                }
                name.clear();
                item_start = false;
            }
            match c {
                '{' => {
                    depth += 1;
                    item_start = depth == 1;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => item_start = true,
                _ => {}
            }
        }
    }
    out
}

#[test]
fn the_reader_finds_paths_and_skips_comments() {
    let text = "use crate::fleet::{Fleet, Service};\n// crate::github is only mentioned\nlet x = crate::naming::slug(a); /* */ // crate::http\n";
    assert_eq!(
        referenced(&code_of(text).text),
        ["fleet", "naming"].map(str::to_owned).into()
    );
}

#[test]
fn the_reader_finds_the_modules_of_a_group() {
    let one_line = "use crate::{fleet::Fleet, github::{GitHubError, octocrab::X}, naming};";
    assert_eq!(
        referenced(one_line),
        ["fleet", "github", "naming"].map(str::to_owned).into()
    );
    let nested = "use crate::{\n    plan::{Preview, hold::{Held}},\n    self,\n    sync::Syncer as S,\n};\nuse my_crate::http;";
    assert_eq!(
        referenced(&code_of(nested).text),
        ["plan", "sync"].map(str::to_owned).into()
    );
}

#[test]
fn the_reader_skips_test_only_items() {
    let text = "use crate::fleet::Fleet;\npub(super) mod wire;\n\n#[cfg(test)]\nmod properties;\n#[cfg(test)]\n#[allow(clippy::unwrap_used)]\nmod tests {\n    use crate::github::X;\n    fn f() {\n        crate::http::y();\n    }\n}\n\nfn g() -> crate::naming::Name {}\n";
    let code = code_of(text);
    assert_eq!(
        referenced(&code.text),
        ["fleet", "naming"].map(str::to_owned).into()
    );
    assert_eq!(code.modules, ["wire", "properties"]);
    assert_eq!(code.test_modules, ["properties"]);
}
