//! Environment variables as the kubelet expands `$(VAR)` references, and templates as
//! `envsubst` fills them.

use serde_json::Value;

/// The value of a container's environment variable, with `$(VAR)` references expanded from
/// the container's other variables and `preview-env` (as the kubelet does).
pub fn expanded_env(container: &Value, name: &str, preview_env: &Value) -> Option<String> {
    let entries = container["env"].as_array()?;
    let raw = entries.iter().find(|e| e["name"] == name)?["value"]
        .as_str()?
        .to_owned();
    let lookup = |var: &str| {
        entries
            .iter()
            .find(|e| e["name"] == var)
            .and_then(|e| e["value"].as_str())
            .or_else(|| preview_env[var].as_str())
            .map(str::to_owned)
    };
    let mut out = String::new();
    let mut rest = raw.as_str();
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find(')')?;
        out.push_str(&lookup(&after[..end]).unwrap_or_else(|| format!("$({})", &after[..end])));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// What `envsubst` makes of `${VAR}` and `$VAR` in `template` with `env`.
pub fn envsubst(template: &str, env: &Value) -> String {
    let mut out = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &template[i + 1..];
        let (name, skip) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..len], len)
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        out.push_str(env[name].as_str().unwrap_or(""));
        for _ in 0..skip {
            chars.next();
        }
    }
    out
}

#[test]
fn env_references_expand_like_the_kubelet_and_envsubst() {
    let env = serde_json::json!({"PREVIEW_HOST": "web-pr-1.example.com", "API_URL": "https://api"});
    let container = serde_json::json!({"env": [
        {"name": "A", "value": "$(PREVIEW_HOST),localhost"},
        {"name": "B", "value": "x-$(A)"}
    ]});
    assert_eq!(
        expanded_env(&container, "A", &env).as_deref(),
        Some("web-pr-1.example.com,localhost")
    );
    assert_eq!(
        envsubst(
            "window.c = {api: \"${API_URL}\", h: \"$PREVIEW_HOST\"};",
            &env
        ),
        "window.c = {api: \"https://api\", h: \"web-pr-1.example.com\"};"
    );
}
