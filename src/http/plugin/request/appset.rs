//! Which ApplicationSets are answered: only those the fleet names
//! ([`Fleet::applicationset_names`]). A copied or misconfigured second ApplicationSet would
//! otherwise get the same parameter sets, and generate Applications with the same names as the
//! real one. Pure.

use crate::fleet::Fleet;
use crate::http::ApiError;

/// Most characters of an unknown name quoted back.
const MAX_QUOTED_CHARS: usize = 64;

/// `Ok` when `name` (the request's `applicationSetName`, `None` when absent) is one of the
/// fleet's ApplicationSets; otherwise a `400` naming those the fleet answers.
pub(super) fn check(name: Option<&str>, fleet: &Fleet) -> Result<(), ApiError> {
    let known = fleet.applicationset_names();
    let asked = match name {
        Some(name) if known.contains(&name) => return Ok(()),
        Some(name) if !name.is_empty() => format!("ApplicationSet `{}`", quote(name)),
        _ => "a request without `applicationSetName`".to_owned(),
    };
    Err(ApiError::BadRequest(format!(
        "{asked} is not answered: this plugin answers the ApplicationSets its fleet names \
         (`applicationsets`, top level and per service): {}",
        known.join(", ")
    )))
}

/// At most [`MAX_QUOTED_CHARS`] characters of `name`, and `…` when cut; control characters,
/// line separators, bidi controls and backticks shown as `?`: it stays inside its code span,
/// on one line, and reads as written.
fn quote(name: &str) -> String {
    let unsafe_char = |c: char| {
        c.is_control()
            || c == '`'
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    let mut out: String = name
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| if unsafe_char(c) { '?' } else { c })
        .collect();
    if name.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fleet;

    fn fleet_naming(top_level: &[&str], web: &[&str]) -> Fleet {
        let mut fleet = fleet();
        fleet.applicationsets = top_level.iter().map(|n| (*n).to_owned()).collect();
        for service in &mut fleet.services {
            service.applicationsets = fleet.applicationsets.clone();
        }
        fleet.services[0].applicationsets = web.iter().map(|n| (*n).to_owned()).collect();
        fleet
    }

    #[test]
    fn the_fleets_and_the_services_applicationsets_are_answered() {
        let fleet = fleet_naming(&["previews"], &["previews", "previews-web"]);
        for name in ["previews", "previews-web"] {
            assert!(check(Some(name), &fleet).is_ok(), "{name}");
        }
    }

    #[test]
    fn any_other_name_is_refused_naming_those_answered() {
        let fleet = fleet_naming(&["previews"], &["previews-web"]);
        for name in [
            Some("no-such-appset"),
            Some(""),
            None,
            Some("Previews"),
            Some("previews "),
        ] {
            let Err(error) = check(name, &fleet) else {
                panic!("{name:?} answered");
            };
            assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
            let message = error.to_string();
            assert!(message.ends_with(": previews, previews-web"), "{message}");
        }
    }

    #[test]
    fn an_unknown_name_stays_in_its_quotes_and_on_one_line() {
        let fleet = fleet_naming(&["previews"], &["previews"]);
        let hostile = format!("a`b\nc\u{1b}\u{2028}\u{202e}{}", "x".repeat(500));
        let Err(error) = check(Some(&hostile), &fleet) else {
            panic!("answered");
        };
        let message = error.to_string();
        assert!(
            message.starts_with("ApplicationSet `a?b?c???xxx"),
            "{message}"
        );
        assert!(!message.chars().any(char::is_control), "{message}");
        assert_eq!(message.matches('`').count(), 4, "{message}");
        assert!(message.len() < 300, "{message}");
    }
}
