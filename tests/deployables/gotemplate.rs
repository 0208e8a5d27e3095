//! Renders an ApplicationSet template for one parameter set as Argo CD's goTemplate mode does,
//! for the subset our templates use: plain `{{ .key }}` references in string fields, with
//! `missingkey=error`. Any other template construct is refused, so that what ships stays within
//! what this check can vouch for.

use serde_json::{Map, Value};

/// Every `{{ ... }}` in `text`, trimmed.
pub fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push(after.trim().to_owned());
            break;
        };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    out
}

/// The key of a plain `.key` reference.
fn key_of(reference: &str) -> Result<&str, String> {
    let key = reference
        .strip_prefix('.')
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .ok_or_else(|| {
            format!("unsupported template construct `{{{{ {reference} }}}}`: use `{{{{ .key }}}}`")
        })?;
    Ok(key)
}

/// Every key the template value references, anywhere.
pub fn keys(template: &Value) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    walk_strings(template, &mut |s| {
        for reference in references(s) {
            keys.push(key_of(&reference)?.to_owned());
        }
        Ok(())
    })?;
    Ok(keys)
}

fn walk_strings(
    value: &Value,
    f: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().try_for_each(|v| walk_strings(v, f)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            f(k)?;
            walk_strings(v, f)
        }),
        _ => Ok(()),
    }
}

fn render_str(text: &str, params: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
        let key = key_of(after[..end].trim())?;
        match params.get(key) {
            Some(Value::String(v)) => out.push_str(v),
            Some(other) => {
                return Err(format!(
                    "`{key}` is not a string ({other}): templates may only use string keys"
                ));
            }
            None => {
                return Err(format!(
                    "map has no entry for key \"{key}\" (missingkey=error)"
                ));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The template with every string field rendered for `params`.
pub fn render(template: &Value, params: &Map<String, Value>) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => Value::String(render_str(s, params)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render(v, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((render_str(k, params)?, render(v, params)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}
