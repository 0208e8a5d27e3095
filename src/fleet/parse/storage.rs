//! `database_storage` (in `defaults` and `overrides`): the size of a preview's database
//! volumes, a Kubernetes quantity checked here so that it goes into the manifests as written.

use super::cx::{Cx, quote};
use crate::fleet::StorageSize;
use crate::yaml::{Located, Node};

/// The units accepted, with their size in bytes: binary (`Mi`, `Gi`, `Ti`) and decimal (`M`,
/// `G`, `T`), as Kubernetes writes them. Smaller units cannot reach the minimum.
const UNITS: [(&str, u64); 6] = [
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

/// Reads a volume size: a whole number and a unit, from 1Gi to 50Gi.
pub(super) fn database_storage(cx: &mut Cx, path: &str, node: &Located) -> Option<StorageSize> {
    if let Node::Int(n) = node.value {
        let message = format!("`{n}` has no unit: write e.g. `{n}Gi`");
        cx.error(path, Some(node), message);
        return None;
    }
    let text = cx.text(path, node)?;
    match size(text) {
        Ok(bytes) => Some(StorageSize::new_unchecked(text.to_owned(), bytes)),
        Err(message) => {
            cx.error(path, Some(node), message);
            None
        }
    }
}

/// The size in bytes of the quantity `text`, or what is wrong with it.
fn size(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let shape = || {
        format!(
            "{} is not a size: write a whole number and a unit, `Gi` or `Mi`, e.g. `2Gi`",
            quote(text)
        )
    };
    let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(shape());
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(shape)?;
    if !(StorageSize::MIN_BYTES..=StorageSize::MAX_BYTES).contains(&bytes) {
        return Err(format!(
            "{} is out of range: from `1Gi` (the smallest EBS volume) to `50Gi`",
            quote(text)
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_are_whole_numbers_with_a_unit_between_1gi_and_50gi() {
        let gib = 1u64 << 30;
        for (text, bytes) in [
            ("2Gi", 2 * gib),
            ("1Gi", gib),
            ("50Gi", 50 * gib),
            ("1536Mi", 1536 << 20),
            ("10G", 10_000_000_000),
        ] {
            assert_eq!(size(text), Ok(bytes), "{text}");
        }
        for (text, words) in [
            ("2", "not a size"),
            ("2GB", "not a size"),
            ("1.5Gi", "not a size"),
            ("-2Gi", "not a size"),
            ("Gi", "not a size"),
            ("2 Gi", "not a size"),
            ("99999999999999999999Gi", "not a size"),
            ("51Gi", "out of range"),
            ("1Ti", "out of range"),
            ("512Mi", "out of range"),
            ("1G", "out of range"),
        ] {
            let error = size(text).expect_err(text);
            assert!(error.contains(words), "{text}: {error}");
        }
    }
}
