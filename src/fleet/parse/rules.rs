//! Checks of single values of the fleet file: paths, URLs, image repositories, Kubernetes
//! label keys and values. Each returns what is wrong and how to fix it.

use url::Url;

use super::cx::quote;
use crate::naming::is_dns_name;
use crate::yaml::sanitize;

/// A path inside a repository: relative, without `..`.
pub(super) fn relative_path(path: &str) -> Result<(), String> {
    if path.trim().is_empty() {
        return Err("is empty: give a path relative to the repository root".into());
    }
    if path.starts_with('/') {
        return Err(format!("{} is absolute: drop the leading `/`", quote(path)));
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return Err(format!(
            "{} has a `\\` or a control character: use `/` between directories",
            quote(path)
        ));
    }
    if path.split('/').any(|part| part == "..") {
        return Err(format!(
            "{} leaves the repository with `..`: give a path inside it",
            quote(path)
        ));
    }
    Ok(())
}

/// A staging URL: `http` or `https`, with a host and no credentials.
pub(super) fn http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|err| {
        format!(
            "{} is not a URL ({err}): write e.g. `https://web.staging.example.com`",
            quote(text)
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{} is not an http(s) URL with a host", quote(text)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{} holds credentials: remove `user:password@`",
            quote(text)
        ));
    }
    Ok(url)
}

/// An image repository without tag or digest: `[registry[:port]/]path`, lowercase.
pub(super) fn image_repository(image: &str) -> Result<(), String> {
    if image.is_empty() {
        return Err("is empty: give the image repository, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web`".into());
    }
    if image.len() > 255 {
        return Err("is longer than 255 characters".into());
    }
    if let Some((_, digest)) = image.split_once('@') {
        return Err(format!(
            "has a digest `@{}`: remove it, previews are tagged by commit",
            digest_shown(digest)
        ));
    }
    let parts: Vec<&str> = image.split('/').collect();
    // A `:` before the last `/` belongs to a registry's port; after it, to a tag.
    if let Some((_, tag)) = parts.last().and_then(|last| last.split_once(':')) {
        return Err(format!(
            "has a tag `:{}`: remove it, previews are tagged by commit",
            digest_shown(tag)
        ));
    }
    let (registry, path) = match parts.split_first() {
        Some((first, rest)) if !rest.is_empty() && is_registry(first) => (Some(*first), rest),
        _ => (None, &parts[..]),
    };
    if let Some(registry) = registry {
        registry_host(registry)?;
    }
    if image.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "{} has uppercase letters: image repositories are lowercase",
            quote(image)
        ));
    }
    match path.iter().find(|part| !is_path_component(part)) {
        Some(part) => Err(format!(
            "{} is not a valid path component of {}: use lowercase letters and digits separated by `.`, `_`, `__` or `-`",
            quote(part),
            quote(image)
        )),
        None => Ok(()),
    }
}

/// An image reference with a tag: `<repository>:<tag>`, the repository as
/// [`image_repository`] wants it and a tag of `[A-Za-z0-9_.-]`, at most 128 characters.
pub(super) fn tagged_image(image: &str) -> Result<(), String> {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    let Some(colon) = image[slash..].rfind(':').map(|i| slash + i) else {
        return Err(format!(
            "{} has no tag: write `<repository>:<tag>`",
            quote(image)
        ));
    };
    let (repository, tag) = (&image[..colon], &image[colon + 1..]);
    image_repository(repository)?;
    let valid_tag = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid_tag {
        Ok(())
    } else {
        Err(format!("{} is not a valid tag", quote(tag)))
    }
}

fn digest_shown(text: &str) -> String {
    sanitize(text, 20)
}

/// Whether the first component of an image reference names a registry, as Docker decides it.
fn is_registry(part: &str) -> bool {
    part.contains('.') || part.contains(':') || part == "localhost"
}

fn registry_host(registry: &str) -> Result<(), String> {
    let (host, port) = match registry.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if is_dns_name(host) && port_ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a registry host: write e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`",
            quote(registry)
        ))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, the OCI distribution path component.
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.first().is_none_or(|b| !alnum(b)) || bytes.last().is_none_or(|b| !alnum(b)) {
        return false;
    }
    let mut separator = String::new();
    for &b in bytes {
        if alnum(&b) {
            let valid = separator.is_empty()
                || matches!(separator.as_str(), "." | "_" | "__")
                || separator.bytes().all(|s| s == b'-');
            if !valid {
                return false;
            }
            separator.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            separator.push(char::from(b));
        } else {
            return false;
        }
    }
    true
}

/// A Kubernetes label key or taint key: `[prefix/]name`, the prefix a DNS name.
pub(super) fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(is_dns_name);
    if prefix_ok && !name.is_empty() && is_label_value(name) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a Kubernetes label key: write `[dns-prefix/]name`, the name at most 63 letters, digits, `-`, `_` or `.`",
            quote(key)
        ))
    }
}

/// A non-empty Kubernetes label value.
pub(super) fn label_value(value: &str) -> Result<(), String> {
    if !value.is_empty() && is_label_value(value) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a Kubernetes label value: at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
            quote(value)
        ))
    }
}

fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.first().is_none_or(u8::is_ascii_alphanumeric)
        && bytes.last().is_none_or(u8::is_ascii_alphanumeric)
}
