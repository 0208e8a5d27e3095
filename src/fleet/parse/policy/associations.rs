//! `activity_associations`: whose comments and reviews keep a preview alive, by how their
//! author is associated with the repository (GitHub's `author_association`, written exactly
//! as GitHub writes it).

use super::{Layer, pick, value};
use crate::fleet::parse::cx::{Cx, index, quote};
use crate::pull_request::AuthorAssociation;
use crate::yaml::{Located, Node};

/// The list at `path`: distinct values of GitHub's `author_association`. Empty (or null):
/// only comments and reviews by accounts known to have write access count.
pub(super) fn list(cx: &mut Cx, path: &str, node: &Located) -> Option<Vec<AuthorAssociation>> {
    let items = cx.list(path, node)?;
    let mut values = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let text = match &item.value {
            Node::Str(text) => Some(text.as_str()),
            _ => None,
        };
        let shown = item
            .value
            .scalar_text()
            .unwrap_or_else(|| item.value.kind().to_owned());
        match text.and_then(AuthorAssociation::parse) {
            Some(value) if values.contains(&value) => {
                let message = format!("{} is listed twice: remove one", quote(&shown));
                cx.error(&index(path, i), Some(item), message);
                valid = false;
            }
            Some(value) => values.push(value),
            None => {
                let message = unknown(&shown, text);
                cx.error(&index(path, i), Some(item), message);
                valid = false;
            }
        }
    }
    valid.then_some(values)
}

/// The list `over` sets, else the one `default` sets, else the built-in default (the
/// repository's own people): a list is replaced whole, never merged.
pub(super) fn merged(default: &Layer, over: &Layer) -> Vec<AuthorAssociation> {
    let set = pick(&over.activity_associations, &default.activity_associations);
    value(set, AuthorAssociation::COUNTED_BY_DEFAULT.to_vec())
}

/// Why `shown` is no association, with the value meant when only its spelling is off
/// (`member`, `first-timer`).
fn unknown(shown: &str, text: Option<&str>) -> String {
    let meant = text.and_then(|text| {
        let upper = text.trim().to_ascii_uppercase().replace(['-', ' '], "_");
        AuthorAssociation::parse(&upper)
    });
    let fix = meant.map_or(String::new(), |value| format!("did you mean `{value}`? "));
    let values: Vec<&str> = AuthorAssociation::ALL
        .iter()
        .map(|value| value.as_str())
        .collect();
    format!(
        "{} is not one of GitHub's author associations: {fix}use {} (as GitHub writes them)",
        quote(shown),
        values.join(", ")
    )
}
