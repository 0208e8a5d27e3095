//! `access`: who may open a service's previews, `private` (the default, behind the platform's
//! sign-in) or `public`. A fleet key only: `.preview.yaml` does not know it.

use crate::fleet::Access;
use crate::fleet::parse::cx::{Cx, quote};
use crate::yaml::{Located, did_you_mean};

const VALUES: [&str; 2] = ["private", "public"];

/// The value at `path`: `private` or `public`.
pub(super) fn access(cx: &mut Cx, path: &str, node: &Located) -> Option<Access> {
    let text = cx.text(path, node)?;
    match text {
        "private" => Some(Access::Private),
        "public" => Some(Access::Public),
        _ => {
            let fix = did_you_mean(text, VALUES)
                .map_or(String::new(), |c| format!("did you mean `{c}`? "));
            let message = format!(
                "{} is not an access: {fix}use `private` (behind the sign-in, the default) or `public` (anyone with the URL)",
                quote(text)
            );
            cx.error(path, Some(node), message);
            None
        }
    }
}
