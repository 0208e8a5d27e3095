//! Names derived from pull requests: slugs, DNS labels, namespaces, Application names.
//!
//! Every name that reaches Kubernetes or DNS is built here from validated parts (the fleet's
//! prefix and service name, the PR number), never from the branch name or the title, so it stays
//! valid and stable for the PR's whole life whatever the untrusted text holds. The slugs of
//! untrusted text are for display and for templates that want them; they are always valid DNS
//! labels too. Pure.

mod names;

pub use names::{InvalidRepoName, PreviewKey, RepoName, ServiceName};

/// The first `len` characters of a commit SHA, as GitHub shows commits (7 or 8), or the whole
/// text when it is shorter or `len` does not fall on a character boundary: never panics,
/// whatever a fake or a future API hands over.
pub fn short_sha(sha: &str, len: usize) -> &str {
    sha.get(..len).unwrap_or(sha)
}

/// Longest DNS label (RFC 1123), also the longest namespace name.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest DNS name, also the longest Application name.
pub const MAX_NAME_LEN: usize = 253;
/// Longest branch slug, as Argo CD's pullRequest generator makes them.
pub const MAX_SLUG_LEN: usize = 50;

/// Whether `s` is an RFC 1123 label: 1 to 63 of `[a-z0-9-]`, starting and ending alphanumeric.
pub fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Whether `s` is an RFC 1123 subdomain: dot-separated labels, 253 characters at most.
pub fn is_dns_name(s: &str) -> bool {
    s.len() <= MAX_NAME_LEN && s.split('.').all(is_dns_label)
}

/// A slug of untrusted text: lowercase ASCII letters and digits, every other run of characters
/// turned into one `-`, no `-` at either end, at most `max_len` characters (cut at the last `-`
/// before the limit when there is one, like Argo CD's `branch_slug`). Empty when the text has no
/// ASCII letter or digit.
pub fn slug(text: &str, max_len: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_len));
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    if out.len() <= max_len {
        return out;
    }
    let cut = &out[..max_len];
    let cut = match cut.rfind('-') {
        Some(at) if at > 0 => &cut[..at],
        _ => cut,
    };
    cut.trim_end_matches('-').to_owned()
}

/// The name shared by a preview's namespace and its Argo CD Application:
/// `<prefix>-<service>-pr-<number>`. Valid and unique per service × PR by construction, given a
/// prefix and service name the fleet validated.
pub fn preview_name(prefix: &str, service: &ServiceName, number: u64) -> String {
    format!("{prefix}-{service}-pr-{number}")
}

/// A PR number as the naming rule writes it: decimal digits, no leading zero, not 0.
pub fn pr_number(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    canonical.then(|| text.parse().ok()).flatten()
}

/// The service name and PR number of a name made by [`preview_name`] with `prefix`; `None` for
/// any other name. The service part is returned as written (check it against the fleet).
pub fn parse_preview_name<'a>(prefix: &str, name: &'a str) -> Option<(&'a str, u64)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    let (service, number) = rest.rsplit_once("-pr-")?;
    (!service.is_empty()).then_some(())?;
    Some((service, pr_number(number)?))
}

/// The environment variables the plugin sets for every preview (`env` and `env_patch`).
pub const PREVIEW_ENV: [&str; 7] = [
    "PREVIEW_SERVICE",
    "PREVIEW_PR_NUMBER",
    "PREVIEW_HOST",
    "PREVIEW_URL",
    "PREVIEW_REVISION",
    "PREVIEW_BASE_DOMAIN",
    "PREVIEW_REPLICAS",
];

/// The prefix of a dependency's environment variables: `billing-api` → `BILLING_API`.
pub fn env_prefix(service: &str) -> String {
    service.to_ascii_uppercase().replace('-', "_")
}

/// The variables a dependency on `service` sets: its public URL, its in-cluster URL and its
/// route (`staging` or `pr-<N>`), in that order.
pub fn dependency_env(service: &str) -> [String; 3] {
    let prefix = env_prefix(service);
    ["_URL", "_INTERNAL_URL", "_ROUTE"].map(|suffix| format!("{prefix}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn preview_keys_order_by_service_then_number() {
        let key = |service: &str, number| {
            PreviewKey::new(ServiceName::new(service).expect("name"), number)
        };
        let mut keys = vec![key("web", 2), key("api", 10), key("web", 1), key("api", 9)];
        keys.sort();
        assert_eq!(
            keys,
            [key("api", 9), key("api", 10), key("web", 1), key("web", 2)]
        );
    }

    #[test]
    fn a_short_sha_never_panics() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(short_sha(sha, 7), "0123456");
        assert_eq!(short_sha(sha, 8), "01234567");
        assert_eq!(short_sha("abc", 7), "abc");
        assert_eq!(
            short_sha("ééééé", 7),
            "ééééé",
            "not on a character boundary"
        );
    }

    #[test]
    fn slugs_follow_argo_cd_conventions() {
        assert_eq!(slug("feature/Add_Login", MAX_SLUG_LEN), "feature-add-login");
        assert_eq!(slug("--weird__name--", MAX_SLUG_LEN), "weird-name");
        assert_eq!(slug("ünïcödé", MAX_SLUG_LEN), "n-c-d");
        assert_eq!(slug("🚀", MAX_SLUG_LEN), "");
        let long = "a-".repeat(40);
        let s = slug(&long, MAX_SLUG_LEN);
        assert!(s.len() <= MAX_SLUG_LEN && !s.ends_with('-'), "{s}");
    }

    #[test]
    fn dns_labels_are_checked() {
        assert!(is_dns_label("preview-web-pr-42"));
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(is_dns_name("web-pr-1.preview.example.com"));
        assert!(!is_dns_name("web..example.com"));
    }

    #[test]
    fn preview_names_fit_a_label_for_the_longest_service_and_number() {
        let service = ServiceName::new(&"s".repeat(ServiceName::MAX_LEN)).expect("valid");
        let name = preview_name("preview", &service, u64::from(u32::MAX));
        assert!(is_dns_label(&name), "{name}");
    }

    #[test]
    fn preview_names_are_read_back_and_other_names_are_not() {
        let web = ServiceName::new("web").expect("valid");
        let billing_api = ServiceName::new("billing-api").expect("valid");
        assert_eq!(
            parse_preview_name("preview", "preview-web-pr-42"),
            Some(("web", 42))
        );
        let name = preview_name("preview", &billing_api, 7);
        assert_eq!(
            parse_preview_name("preview", &name),
            Some(("billing-api", 7))
        );
        // A service whose name holds `-pr-`: the last one splits.
        assert_eq!(
            parse_preview_name("pv", "pv-web-pr-x-pr-3"),
            Some(("web-pr-x", 3))
        );
        for other in [
            "preview-web-pr-0",
            "preview-web-pr-042",
            "preview-web-pr-",
            "preview-web-pr-4x",
            "preview--pr-4",
            "previewweb-pr-4",
            "staging-web-pr-4",
            "preview-web-pr-99999999999999999999999",
        ] {
            assert_eq!(parse_preview_name("preview", other), None, "{other}");
        }
        assert_eq!(pr_number("12"), Some(12));
        assert_eq!(pr_number("+12"), None);
        assert_eq!(
            parse_preview_name("preview", &preview_name("preview", &web, 1)),
            Some(("web", 1))
        );
    }

    proptest! {
        #[test]
        fn a_preview_name_reads_back_as_its_service_and_number(
            service in "[a-z][a-z0-9-]{0,20}[a-z0-9]", number in 1u64..u64::MAX,
        ) {
            let name = ServiceName::new(&service);
            prop_assume!(name.is_some());
            let name = name.expect("valid");
            let text = preview_name("preview", &name, number);
            prop_assert_eq!(parse_preview_name("preview", &text), Some((service.as_str(), number)));
        }

        #[test]
        fn slugs_of_any_text_are_dns_labels_or_empty(text in any::<String>(), max in 1usize..80) {
            let s = slug(&text, max);
            prop_assert!(s.len() <= max);
            prop_assert!(s.is_empty() || is_dns_label(&s), "{s:?}");
        }

        #[test]
        fn branch_like_text_keeps_its_words(words in proptest::collection::vec("[a-z0-9]{1,8}", 1..5)) {
            let branch = words.join("/");
            prop_assert_eq!(slug(&branch, 200), words.join("-"));
        }
    }
}
