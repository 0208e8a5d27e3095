//! `quota` (the most previews alive at once) and `currency` (of the prices).

use super::cx::{Cx, quote};
use crate::fleet::Quota;
use crate::yaml::Located;

const QUOTA_KEYS: [&str; 2] = ["max_previews", "max_previews_per_repo"];

/// Largest limit accepted: far beyond what one cluster runs, small enough to catch a typo.
const MAX_LIMIT: i128 = 100_000;

/// The `quota` mapping; absent or empty: no limit.
pub(super) fn quota(cx: &mut Cx, node: Option<&Located>) -> Option<Quota> {
    let fields = cx.fields("quota", node, &QUOTA_KEYS);
    let max_previews = fields.read_optional(cx, "max_previews", limit);
    let per_repo = fields.read_optional(cx, "max_previews_per_repo", limit);
    Some(Quota {
        max_previews: max_previews?,
        max_previews_per_repo: per_repo?,
    })
}

fn limit(cx: &mut Cx, path: &str, node: &Located) -> Option<u32> {
    cx.integer(path, node, 1, MAX_LIMIT)
        .and_then(|n| u32::try_from(n).ok())
}

/// An ISO 4217 currency code: three capital letters (`USD`, `EUR`). Only its shape is checked:
/// it labels the report, nothing converts it.
pub(super) fn currency(cx: &mut Cx, path: &str, node: &Located) -> Option<String> {
    cx.checked_text(path, node, |code| {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Ok(());
        }
        let fix = if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
            format!("write it in capitals: `{}`", code.to_ascii_uppercase())
        } else {
            "write an ISO 4217 code of three capital letters, e.g. `USD` or `EUR`".to_owned()
        };
        Err(format!("{} is not a currency code: {fix}", quote(code)))
    })
}
