//! `links`: the previews board's URL templates (see [`crate::fleet::Links`]).

use super::cx::{Cx, quote};
use super::rules;
use crate::fleet::{LinkTemplate, LinkValues, Links};
use crate::yaml::Located;

const LINK_KEYS: [&str; 2] = ["application", "logs"];

/// The `links` mapping; absent: no links.
pub(super) fn links(cx: &mut Cx, node: Option<&Located>) -> Option<Links> {
    let fields = cx.fields("links", node, &LINK_KEYS);
    let application = fields.read_optional(cx, "application", template);
    let logs = fields.read_optional(cx, "logs", template);
    Some(Links {
        application: application?,
        logs: logs?,
    })
}

/// A template that is an `http(s)` URL once its placeholders are filled.
fn template(cx: &mut Cx, path: &str, node: &Located) -> Option<LinkTemplate> {
    let text = cx.text(path, node)?;
    let checked = LinkTemplate::parse(text)
        .map_err(|message| format!("{} {message}", quote(text)))
        .and_then(|template| {
            let example = template.render(&LinkValues {
                application: "preview-web-pr-1",
                namespace: "preview-web-pr-1",
                service: "web",
                pr: 1,
                repo: "acme/web",
            });
            rules::http_url(&example).map(|_| template)
        });
    checked
        .map_err(|message| cx.error(path, Some(node), message))
        .ok()
}
