//! The previews board's links: URL templates for a preview's Argo CD Application and its logs,
//! set in the fleet (`links`), with placeholders filled from the preview's names.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Where the board links each preview to, beside its URL and PR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// The preview's Argo CD Application, e.g.
    /// `https://argocd.example.com/applications/argocd/{application}`.
    pub application: Option<LinkTemplate>,
    /// The preview's logs, e.g. a Grafana Explore or CloudWatch Logs Insights link with
    /// `{namespace}` in its query.
    pub logs: Option<LinkTemplate>,
}

/// An `http(s)` URL with placeholders: `{application}`, `{namespace}`, `{service}`, `{pr}`,
/// `{repo}`. Each value is percent-encoded as it is put in, so it stays within its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Placeholder),
}

/// What a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placeholder {
    Application,
    Namespace,
    Service,
    Pr,
    Repo,
}

/// The values of one preview, for [`LinkTemplate::render`].
#[derive(Clone, Copy, Debug)]
pub struct LinkValues<'a> {
    /// The Argo CD Application's name.
    pub application: &'a str,
    /// The preview's namespace.
    pub namespace: &'a str,
    /// The fleet service.
    pub service: &'a str,
    /// The PR number.
    pub pr: u64,
    /// The repository, `owner/name`.
    pub repo: &'a str,
}

/// Everything but the unreserved characters of RFC 3986 is encoded.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl LinkTemplate {
    /// The placeholders a template may use.
    pub const PLACEHOLDERS: [&'static str; 5] =
        ["application", "namespace", "service", "pr", "repo"];

    /// Parses a template: known placeholders in braces, no other braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err("has a `}` without its `{`".to_owned());
            }
            let (before, after) = rest.split_at(open);
            let Some(close) = after.find('}') else {
                return Err("has a `{` without its `}`".to_owned());
            };
            let name = &after[1..close];
            let placeholder = match name {
                "application" => Placeholder::Application,
                "namespace" => Placeholder::Namespace,
                "service" => Placeholder::Service,
                "pr" => Placeholder::Pr,
                "repo" => Placeholder::Repo,
                _ => {
                    return Err(format!(
                        "has an unknown placeholder `{{{name}}}`: use {}",
                        Self::PLACEHOLDERS.map(|p| format!("`{{{p}}}`")).join(", ")
                    ));
                }
            };
            if !before.is_empty() {
                parts.push(Part::Text(before.to_owned()));
            }
            parts.push(Part::Value(placeholder));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The link of one preview.
    pub fn render(&self, values: &LinkValues<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value(placeholder) => {
                    let value = match placeholder {
                        Placeholder::Application => values.application,
                        Placeholder::Namespace => values.namespace,
                        Placeholder::Service => values.service,
                        Placeholder::Repo => values.repo,
                        Placeholder::Pr => {
                            let _ = write!(out, "{}", values.pr);
                            continue;
                        }
                    };
                    out.extend(utf8_percent_encode(value, VALUE));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> LinkValues<'static> {
        LinkValues {
            application: "preview-web-pr-7",
            namespace: "preview-web-pr-7",
            service: "web",
            pr: 7,
            repo: "acme/web",
        }
    }

    #[test]
    fn placeholders_are_filled_and_encoded() {
        let template =
            LinkTemplate::parse("https://g.example.com/explore?q={namespace}&r={repo}&n={pr}")
                .expect("a template");
        assert_eq!(
            template.render(&values()),
            "https://g.example.com/explore?q=preview-web-pr-7&r=acme%2Fweb&n=7"
        );
    }

    #[test]
    fn unknown_or_unbalanced_placeholders_are_refused() {
        assert!(
            LinkTemplate::parse("https://x/{branch}")
                .expect_err("refused")
                .contains("`{branch}`")
        );
        assert!(LinkTemplate::parse("https://x/{pr").is_err());
        assert!(LinkTemplate::parse("https://x/pr}").is_err());
    }

    #[test]
    fn the_fleet_file_names_a_bad_template_by_its_field() {
        let demo = crate::demo::FLEET_YAML;
        let fleet = crate::fleet::Fleet::from_yaml(demo).expect("the demo fleet");
        assert!(fleet.links.application.is_some() && fleet.links.logs.is_some());
        let bad = demo.replace(
            "https://argocd.example.com/applications/argocd/{application}",
            "https://argocd.example.com/{app}",
        );
        let errors = crate::fleet::Fleet::from_yaml(&bad).expect_err("refused");
        let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert!(
            text.iter()
                .any(|e| e.starts_with("links.application") && e.contains("`{app}`")),
            "{text:?}"
        );
        let not_a_url = demo.replace(
            "https://argocd.example.com/applications/argocd/{application}",
            "javascript:alert({pr})",
        );
        let errors = crate::fleet::Fleet::from_yaml(&not_a_url).expect_err("refused");
        assert!(
            errors.iter().any(|e| e.to_string().contains("http(s)")),
            "{errors:?}"
        );
    }
}
