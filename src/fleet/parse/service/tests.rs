use super::super::tests::{BASE, assert_error, fleet_yaml, parse_err, parse_ok};

#[test]
fn service_keys_are_checked() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("repo: acme", "services[0].repo", &["not a GitHub repository", "owner/name"]),
        ("image: registry.example.com/web:1.2", "services[0].image", &["tag `:1.2`", "remove it"]),
        ("image: registry.example.com/web@sha256:abc", "services[0].image", &["digest"]),
        ("image: registry.example.com/Web", "services[0].image", &["uppercase"]),
        ("image: registry.example.com/web--/x", "services[0].image", &["path component"]),
        ("image: bad_host:99999999/web", "services[0].image", &["not a registry host"]),
        ("overlay_path: ../other/deploy", "services[0].overlay_path", &["`..`"]),
        ("staging_url: ftp://web.example.com", "services[0].staging_url", &["http(s) URL"]),
        ("staging_url: not a url", "services[0].staging_url", &["not a URL"]),
        ("staging_url: https://u:p@web.example.com", "services[0].staging_url", &["credentials"]),
        ("staging_internal_url: web", "services[0].staging_internal_url", &["not a URL"]),
        ("port: 0", "services[0].port", &["from 1 to 65535"]),
        ("port: 70000", "services[0].port", &["from 1 to 65535"]),
        ("imagee: x", "services[0].imagee", &["did you mean `image`?"]),
    ];
    for (web, field, words) in cases {
        assert_error(&with_web_line(web), field, words);
    }
}

/// [`BASE`] with `line` (`key: value`) replacing the same key of `web`, or added to it.
fn with_web_line(line: &str) -> String {
    let key = line.split(':').next().unwrap_or_default();
    let Some(start) = BASE.find(&format!("    {key}: ")) else {
        return fleet_yaml("", line, "");
    };
    let end = BASE[start..].find('\n').map_or(BASE.len(), |e| start + e);
    format!("{}    {line}{}", &BASE[..start], &BASE[end..])
}

#[test]
fn names_and_kinds_are_checked() {
    assert_error(
        &BASE.replace("name: api", "name: web"),
        "services[1].name",
        &["already the name of services[0]"],
    );
    assert_error(
        &BASE.replace("name: web", "name: Web"),
        "services[0].name",
        &["not a service name"],
    );
    let long = "s".repeat(41);
    assert_error(
        &BASE.replace("name: web", &format!("name: {long}")),
        "services[0].name",
        &["at most 40"],
    );
    assert_error(
        &BASE.replace("kind: frontend", "kind: frontent"),
        "services[0].kind",
        &["did you mean `frontend`?"],
    );
}

#[test]
fn seeds_and_databases_are_checked() {
    assert_error(
        &fleet_yaml("", "", "databases: [postgresql]"),
        "services[1].databases[0]",
        &["did you mean `postgres`?"],
    );
    assert_error(
        &fleet_yaml("", "", "databases: [redis, redis]"),
        "services[1].databases[1]",
        &["listed twice"],
    );
    assert_error(
        &fleet_yaml("", "databases: [redis]", ""),
        "services[0].databases",
        &["frontend runs no databases"],
    );
    assert_error(
        &fleet_yaml("", "seed: {image: r.io/s, path: db}", ""),
        "services[0].seed",
        &["frontend has no database to seed"],
    );
    assert_error(
        &fleet_yaml("", "", "seed: {image: r.io/s}"),
        "services[1].seed.path",
        &["is required"],
    );
    assert_error(
        &fleet_yaml("", "", "seed: {image: r.io/s:v1, path: /db}"),
        "services[1].seed.image",
        &["tag"],
    );
    let fleet = parse_ok(&fleet_yaml(
        "",
        "",
        "seed: {image: r.io/s, path: db/seed}\ndatabases: [postgres]\nport: 8000",
    ));
    assert_eq!(fleet.services[1].port, 8000);
    assert_eq!(
        fleet.services[1].seed,
        Some(crate::fleet::Seed {
            image: "r.io/s".into(),
            path: "db/seed".into()
        })
    );
}

#[test]
fn missing_service_keys_say_what_to_add() {
    let text = "base_domain: a.example.com\nservices:\n  - name: web\n";
    for key in ["repo", "kind", "image", "overlay_path", "staging_url"] {
        assert_error(
            text,
            &format!("services[0].{key}"),
            &["is required", &format!("add `{key}: ")],
        );
    }
}

#[test]
fn dependencies_must_be_known_other_and_acyclic() {
    assert_error(
        &BASE.replace("[api]", "[apii]"),
        "services[0].dependencies[0]",
        &["not a service", "did you mean `api`?"],
    );
    assert_error(
        &BASE.replace("[api]", "[web]"),
        "services[0].dependencies[0]",
        &["cannot depend on itself"],
    );
    assert_error(
        &BASE.replace("[api]", "[api, api]"),
        "services[0].dependencies[1]",
        &["listed twice"],
    );
    assert_error(
        &fleet_yaml("", "", "dependencies: [web]"),
        "services[0].dependencies",
        &["cycle: web -> api -> web"],
    );
}

#[test]
fn a_longer_cycle_is_reported_once_from_its_first_service() {
    let text = format!(
        "{}{}",
        fleet_yaml("", "", "dependencies: [billing]"),
        "  - {name: billing, repo: acme/b, kind: backend, image: r.io/b, overlay_path: d, staging_url: 'http://b', dependencies: [web]}\n"
    );
    let errors = parse_err(&text);
    let cycles: Vec<_> = errors
        .iter()
        .filter(|e| e.message.contains("cycle"))
        .collect();
    assert_eq!(cycles.len(), 1, "{errors:#?}");
    assert_eq!(cycles[0].field, "services[0].dependencies");
    assert!(
        cycles[0].message.contains("web -> api -> billing -> web"),
        "{errors:#?}"
    );
}

#[test]
fn cycles_are_reported_even_when_another_service_is_invalid() {
    let text = fleet_yaml("", "", "dependencies: [web]").replace("repo: acme/web", "repo: acme");
    let errors = parse_err(&text);
    assert!(
        errors.iter().any(|e| e.field == "services[0].repo"),
        "{errors:#?}"
    );
    assert!(
        !errors.iter().any(|e| e.message.contains("cycle")),
        "web is invalid: {errors:#?}"
    );
    let billing = "  - {name: billing, repo: acme/b, kind: backend, image: r.io/b, overlay_path: d, staging_url: 'http://b', dependencies: [api]}\n";
    let text = format!(
        "{}{billing}",
        fleet_yaml("", "", "dependencies: [billing]").replace("repo: acme/web", "repo: acme")
    );
    assert_error(
        &text,
        "services[1].dependencies",
        &["cycle: api -> billing -> api"],
    );
}

#[test]
fn errors_come_in_file_order() {
    let text = BASE
        .replace("repo: acme/api", "repo: acme")
        .replace("kind: frontend", "kind: front");
    let lines: Vec<_> = parse_err(&text).iter().map(|e| e.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}
