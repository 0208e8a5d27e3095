//! Label and field selectors, parsed and matched as the API server does.
//!
//! Labels: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-joined (all
//! must hold). `!=` and `notin` also match objects without the label. Fields: `metadata.name`
//! and `metadata.namespace` with `=`, `==` or `!=`, the only fields a custom resource
//! supports; any other field is refused, as the API server refuses it.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::Equals(want), Some(v)) => v == want,
            (Op::NotEquals(want), v) => v != Some(want.as_str()),
            (Op::In(set), Some(v)) => set.iter().any(|s| s == v),
            (Op::NotIn(set), v) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
            (Op::Exists, v) => v.is_some(),
            (Op::DoesNotExist, v) => v.is_none(),
            (Op::Equals(_) | Op::In(_), None) => false,
        }
    }
}

/// A parsed selector: the conjunction of its requirements. Empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    labels: Vec<Requirement>,
    fields: Vec<Requirement>,
}

impl Selector {
    /// Parses `labelSelector` and `fieldSelector`; the error is the API server's message.
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, String> {
        let labels = split(labels.unwrap_or(""))
            .map(|r| label_requirement(&r))
            .collect::<Result<_, _>>()?;
        let fields = split(fields.unwrap_or(""))
            .map(|r| field_requirement(&r))
            .collect::<Result<_, _>>()?;
        Ok(Self { labels, fields })
    }

    /// Whether `object` is selected.
    pub fn matches(&self, object: &Value) -> bool {
        let metadata = &object["metadata"];
        let labels_hold = self.labels.iter().all(|r| {
            let value = metadata["labels"][r.key.as_str()].as_str();
            r.matches(value)
        });
        let fields_hold = self.fields.iter().all(|r| {
            let field = r.key.trim_start_matches("metadata.");
            r.matches(metadata[field].as_str())
        });
        labels_hold && fields_hold
    }

    /// Whether there is no requirement at all (lists then report `remainingItemCount`).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

/// The requirements of a selector: split at commas outside parentheses, trimmed.
fn split(selector: &str) -> impl Iterator<Item = String> {
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0_i32, String::new());
    for c in selector.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
}

fn label_requirement(text: &str) -> Result<Requirement, String> {
    let unparsable = || format!("unable to parse requirement: {text:?}");
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(unparsable)?;
        Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
    };
    let (key, op) = if let Some(key) = text.strip_prefix('!') {
        (key, Op::DoesNotExist)
    } else if let Some((key, rest)) = text.split_once(" notin ") {
        (key, Op::NotIn(set(rest)?))
    } else if let Some((key, rest)) = text.split_once(" in ") {
        (key, Op::In(set(rest)?))
    } else if let Some((key, value)) = equality(text) {
        (key, value)
    } else {
        (text, Op::Exists)
    };
    let key = key.trim();
    if !valid_label_key(key) {
        return Err(unparsable());
    }
    Ok(Requirement {
        key: key.to_owned(),
        op,
    })
}

/// `k!=v`, `k==v` or `k=v`.
fn equality(text: &str) -> Option<(&str, Op)> {
    if let Some((key, value)) = text.split_once("!=") {
        return Some((key, Op::NotEquals(value.trim().to_owned())));
    }
    let (key, value) = text.split_once("==").or_else(|| text.split_once('='))?;
    Some((key, Op::Equals(value.trim().to_owned())))
}

fn field_requirement(text: &str) -> Result<Requirement, String> {
    let (key, op) = equality(text)
        .ok_or_else(|| format!("invalid selector: '{text}'; can't understand '{text}'"))?;
    let key = key.trim();
    if key != "metadata.name" && key != "metadata.namespace" {
        return Err(format!("field label not supported: {key}"));
    }
    Ok(Requirement {
        key: key.to_owned(),
        op,
    })
}

/// An optional DNS subdomain prefix and `/`, then a name of alphanumerics, `-`, `_` and `.`.
fn valid_label_key(key: &str) -> bool {
    let name = key.rsplit_once('/').map_or(key, |(_, name)| name);
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    !name.is_empty()
        && name.len() <= 63
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
