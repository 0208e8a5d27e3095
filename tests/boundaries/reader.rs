//! Reading Rust source with `syn`: which top-level modules of the crate a file refers to, by
//! `crate::`, `super::` or `self::` paths (in `use` trees, types, expressions, patterns and
//! macro bodies), outside items under `#[cfg(test)]`. Comments and strings are not code, so
//! they are never read as paths.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// What the reader keeps of a source file.
#[derive(Debug, Default)]
pub(crate) struct Code {
    /// The top-level modules (or crate-root items) its paths name: the first segment after
    /// the crate root.
    pub(crate) refs: BTreeSet<String>,
    /// The file modules it declares (`mod x;`), test-only or not.
    pub(crate) modules: Vec<String>,
    /// Those declared under `#[cfg(test)]`.
    pub(crate) test_modules: Vec<String>,
    /// Paths no module boundary can be drawn from: a glob or an alias of the crate root.
    pub(crate) problems: Vec<String>,
}

/// Reads `text`, the file of module `path` (`["plan", "hold"]` for `src/plan/hold.rs`, empty
/// for `src/lib.rs`). A file that does not parse is a test failure, not a silent pass.
pub(crate) fn code_of(text: &str, path: &[String]) -> Code {
    let file = syn::parse_file(text).unwrap_or_else(|e| panic!("cannot parse {path:?}: {e}"));
    let mut reader = Reader {
        code: Code::default(),
        path: path.to_vec(),
        depth: 0,
    };
    reader.visit_file(&file);
    reader.code
}

struct Reader {
    code: Code,
    /// The module the code being read is in (inline modules push onto it).
    path: Vec<String>,
    /// How many inline modules deep in the file the reader is (for `mod x;` declarations).
    depth: usize,
}

/// Whether `attrs` hold `#[cfg(test)]` (or a `cfg` that names `test`, such as
/// `cfg(all(test, ...))`).
fn test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .meta
                .require_list()
                .is_ok_and(|list| mentions_test(list.tokens.clone()))
    })
}

fn mentions_test(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == "test",
        TokenTree::Group(group) => mentions_test(group.stream()),
        _ => false,
    })
}

impl Reader {
    /// Records the top-level module a path made of `segments` names, if it is the crate's.
    fn path(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.path.clone(),
            "super" => self.path.clone(),
            _ => return,
        };
        let mut rest = &segments[1..];
        if first == "super" {
            base.pop();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        match (base.first(), rest.first()) {
            (Some(top), _) => {
                self.code.refs.insert(top.clone());
            }
            (None, Some(name)) if name == "*" => self.code.problems.push(format!(
                "a glob of the crate root ({})",
                segments.join("::")
            )),
            (None, Some(name)) => {
                self.code.refs.insert(name.clone());
            }
            (None, None) => self.code.problems.push(format!(
                "the crate root named by itself ({})",
                segments.join("::")
            )),
        }
    }

    /// Every path of a `use` tree, `{...}` groups expanded.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.path(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.path(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                prefix.push("*".to_owned());
                self.path(prefix);
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    /// `crate::x`, `$crate::x`, `super::x` and `self::x` sequences inside a macro's tokens.
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (at, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident)
                    if ident == "crate" || ident == "super" || ident == "self" =>
                {
                    let mut segments = vec![ident.to_string()];
                    let mut next = at + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) =
                        (tokens.get(next), tokens.get(next + 1))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        match tokens.get(next + 2) {
                            Some(TokenTree::Ident(name)) => segments.push(name.to_string()),
                            _ => break,
                        }
                        next += 3;
                    }
                    if segments.len() > 1 {
                        self.path(&segments);
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Reader {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::ExternCrate(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::ForeignMod(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::TraitAlias(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => &[],
        };
        let test = test_only(attrs);
        if let syn::Item::Mod(module) = item {
            let name = module.ident.to_string();
            if module.content.is_none() && self.depth == 0 {
                self.code.modules.push(name.clone());
                if test {
                    self.code.test_modules.push(name);
                }
                return;
            }
            if test {
                return;
            }
            self.path.push(name);
            self.depth += 1;
            visit::visit_item_mod(self, module);
            self.depth -= 1;
            self.path.pop();
            return;
        }
        if !test {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs: &[syn::Attribute] = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if let syn::Stmt::Local(local) = stmt
            && test_only(&local.attrs)
        {
            return;
        }
        visit::visit_stmt(self, stmt);
    }

    /// `pub(crate)`, `pub(super)`, `pub(in path)`: visibility, not a reference.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_none() {
            self.path(&segments);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

#[cfg(test)]
fn refs(text: &str, path: &[&str]) -> BTreeSet<String> {
    let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
    code_of(text, &path).refs
}

#[cfg(test)]
fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_reader_finds_paths_and_skips_comments_and_strings() {
    let text = "use crate::fleet::{Fleet, Service};\n// crate::github is only mentioned\nfn f() { let x = crate::naming::slug(a); /* crate::jira */ let u = format!(\"https://{}\", crate::plan::X); } // crate::http\nconst S: &str = \"crate::sync::x\";\n";
    assert_eq!(refs(text, &["cost"]), set(&["fleet", "naming", "plan"]));
}

#[test]
fn the_reader_finds_the_modules_of_a_group() {
    let one_line = "use crate::{fleet::Fleet, github::{GitHubError, octocrab::X}, naming};";
    assert_eq!(
        refs(one_line, &["cost"]),
        set(&["fleet", "github", "naming"])
    );
    let nested = "use crate::{\n    plan::{Preview, hold::{Held}},\n    sync::Syncer as S,\n};\nuse my_crate::http;";
    assert_eq!(refs(nested, &["cost"]), set(&["plan", "sync"]));
}

#[test]
fn the_reader_resolves_super_and_self() {
    // In src/plan.rs, `super` is the crate root; in src/plan/hold.rs, `super` is `plan`.
    assert_eq!(refs("use super::github::X;", &["plan"]), set(&["github"]));
    assert_eq!(
        refs(
            "use super::super::github::X;\nuse super::Preview;",
            &["plan", "hold"]
        ),
        set(&["github", "plan"])
    );
    assert_eq!(
        refs("fn f() { super::super::http::g(); }", &["plan", "hold"]),
        set(&["http"])
    );
    assert_eq!(refs("use self::x::Y;", &["plan"]), set(&["plan"]));
    // Inside an inline module of src/plan.rs, `super::super` is the crate root.
    assert_eq!(
        refs("mod inner { use super::super::jira::X; }", &["plan"]),
        set(&["jira"])
    );
}

#[test]
fn the_reader_finds_paths_in_macros_and_flags_root_globs() {
    assert_eq!(
        refs(
            "fn f() { tracing::info!(x = %crate::github::name(), \"y\"); }",
            &["plan"]
        ),
        set(&["github"])
    );
    let code = code_of("use crate::*;", &["plan".to_owned()]);
    assert_eq!(code.problems.len(), 1, "{:?}", code.problems);
    let code = code_of("use super::*;", &["plan".to_owned()]);
    assert_eq!(code.problems.len(), 1, "{:?}", code.problems);
}

#[test]
fn the_reader_skips_test_only_items() {
    let text = "use crate::fleet::Fleet;\npub(super) mod wire;\n\n#[cfg(test)]\nmod properties;\n#[cfg(test)]\n#[allow(clippy::unwrap_used)]\nmod tests {\n    use crate::github::X;\n    fn f() {\n        crate::http::y();\n    }\n}\n#[cfg(test)]\nconst T: X = X {\n    a: crate::jira::A,\n};\n\nfn g() -> crate::naming::Name {}\n";
    let code = code_of(text, &["cost".to_owned()]);
    assert_eq!(code.refs, set(&["fleet", "naming"]));
    assert_eq!(code.modules, ["wire", "properties"]);
    assert_eq!(code.test_modules, ["properties"]);
}
