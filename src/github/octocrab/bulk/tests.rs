use super::*;

#[test]
fn the_graphql_endpoint_follows_the_rest_base() {
    let url = |s: &str| graphql_url(&Url::parse(s).expect("url")).to_string();
    assert_eq!(
        url("https://api.github.com"),
        "https://api.github.com/graphql"
    );
    assert_eq!(
        url("https://github.acme.test/api/v3"),
        "https://github.acme.test/api/graphql"
    );
    assert_eq!(
        url("https://github.acme.test/api/v3/"),
        "https://github.acme.test/api/graphql"
    );
    assert_eq!(
        url("https://api.acme.ghe.com"),
        "https://api.acme.ghe.com/graphql"
    );
    assert_eq!(
        url("http://127.0.0.1:8080"),
        "http://127.0.0.1:8080/graphql"
    );
}
