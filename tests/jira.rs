//! The real Jira REST adapter against the fake Jira, over real HTTP, as Jira Cloud and as
//! Jira Data Center. The fake checks every body against the vendor's schemas.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use preview_tower::issues::{Event, IssueKey, Note, NotePreview, render_adf, render_wiki};
use preview_tower::jira::rest::{Edition, JiraAuth, JiraConfig, JiraRest, MAX_PAGES};
use preview_tower::jira::{IssueNotifier, JiraError};
use preview_tower::naming::ServiceName;
use secrecy::SecretString;
use serde_json::json;
use support::fake_jira::{EMAIL, FakeJira, TOKEN};

const EDITIONS: [Edition; 2] = [Edition::Cloud, Edition::DataCenter];
const ISSUE: &str = "ABC-1";

fn key(text: &str) -> IssueKey {
    text.parse().unwrap()
}

fn note(event: Event) -> Note {
    let preview = |service: &str| NotePreview {
        service: ServiceName::new(service).unwrap(),
        url: format!("https://{service}-pr-42.preview.example.com/"),
    };
    Note {
        event,
        repo: "acme/web".parse().unwrap(),
        number: 42,
        title: "ABC-1: fix the login form".to_owned(),
        pr_url: "https://github.com/acme/web/pull/42".to_owned(),
        previews: vec![preview("web"), preview("api")],
    }
}

fn config(jira: &FakeJira, token: &str, timeout: Duration) -> JiraConfig {
    let token = SecretString::from(token);
    JiraConfig {
        base_url: jira.url(),
        edition: jira.edition(),
        auth: match jira.edition() {
            Edition::Cloud => JiraAuth::Basic {
                email: EMAIL.to_owned(),
                token,
            },
            Edition::DataCenter => JiraAuth::Bearer { token },
        },
        timeout,
    }
}

fn rest(jira: &FakeJira) -> JiraRest {
    JiraRest::new(config(jira, TOKEN, Duration::from_secs(5))).unwrap()
}

async fn fake(edition: Edition) -> FakeJira {
    let jira = FakeJira::start(edition).await;
    jira.add_issue(ISSUE);
    jira
}

#[tokio::test]
async fn a_ready_note_is_posted_once_in_the_editions_format_and_found_again() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        let ready = note(Event::Ready);
        assert!(!rest.has_comment(&key(ISSUE), &ready).await.unwrap());
        rest.comment(&key(ISSUE), &ready).await.unwrap();
        assert!(rest.has_comment(&key(ISSUE), &ready).await.unwrap());

        let comments = jira.comments(ISSUE);
        assert_eq!(comments.len(), 1, "{edition:?}");
        assert!(comments[0].by_bot);
        assert!(
            comments[0]
                .text
                .contains("https://web-pr-42.preview.example.com/")
        );
        let expected = match edition {
            Edition::Cloud => render_adf(&ready),
            Edition::DataCenter => json!(render_wiki(&ready)),
        };
        assert_eq!(comments[0].body, expected);
        let requests = jira.requests();
        assert!(requests.iter().all(|r| r.authorized), "{requests:#?}");
        let version = if edition == Edition::Cloud { "3" } else { "2" };
        assert!(
            requests
                .iter()
                .all(|r| r.path == format!("/rest/api/{version}/issue/{ISSUE}/comment"))
        );
        let get = requests.iter().find(|r| r.method == "GET").unwrap();
        assert_eq!(get.query, "startAt=0&maxResults=100&orderBy=-created");
    }
}

#[tokio::test]
async fn the_marker_is_found_past_the_first_page() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        rest.comment(&key(ISSUE), &note(Event::Ready))
            .await
            .unwrap();
        for n in 0..150 {
            jira.add_foreign_comment(ISSUE, &format!("Unrelated comment {n}: see ABC-2"));
        }
        assert!(
            rest.has_comment(&key(ISSUE), &note(Event::Ready))
                .await
                .unwrap()
        );
        assert!(jira.count("GET") >= 2, "{edition:?} read one page only");

        let before = jira.count("GET");
        assert!(
            !rest
                .has_comment(&key(ISSUE), &note(Event::Gone))
                .await
                .unwrap()
        );
        let pages = if edition == Edition::Cloud { 2 } else { 4 };
        assert_eq!(jira.count("GET") - before, pages, "{edition:?}");
    }
}

#[tokio::test]
async fn a_gone_note_has_its_own_marker() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        let (ready, gone) = (note(Event::Ready), note(Event::Gone));
        assert_ne!(ready.marker(), gone.marker());
        rest.comment(&key(ISSUE), &ready).await.unwrap();
        assert!(!rest.has_comment(&key(ISSUE), &gone).await.unwrap());
        rest.comment(&key(ISSUE), &gone).await.unwrap();
        assert!(rest.has_comment(&key(ISSUE), &gone).await.unwrap());
        assert!(rest.has_comment(&key(ISSUE), &ready).await.unwrap());
        assert_eq!(jira.comments(ISSUE).len(), 2);
    }
}

#[tokio::test]
async fn paging_stops_at_the_page_limit() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        for n in 0..2100 {
            jira.add_foreign_comment(ISSUE, &format!("comment {n}"));
        }
        let found = rest(&jira)
            .has_comment(&key(ISSUE), &note(Event::Ready))
            .await;
        assert!(!found.unwrap());
        assert_eq!(jira.count("GET") as u64, MAX_PAGES, "{edition:?}");
    }
}

#[tokio::test]
async fn rate_limits_come_back_with_retry_after() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        jira.rate_limit_next(17);
        match rest.comment(&key(ISSUE), &note(Event::Ready)).await {
            Err(JiraError::RateLimited { retry_after }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(17)));
            }
            other => panic!("{edition:?}: {other:?}"),
        }
        assert!(jira.comments(ISSUE).is_empty());
        jira.rate_limit_next(3);
        let error = rest.has_comment(&key(ISSUE), &note(Event::Ready)).await;
        assert!(matches!(error, Err(JiraError::RateLimited { .. })));
    }
}

#[tokio::test]
async fn an_unknown_issue_is_rejected() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        let missing = key("NOPE-9");
        let error = rest
            .comment(&missing, &note(Event::Ready))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, JiraError::Rejected(m) if m.contains("Issue does not exist")),
            "{error:?}"
        );
        let error = rest.has_comment(&missing, &note(Event::Ready)).await;
        assert!(matches!(error, Err(JiraError::Rejected(_))));
    }
}

#[tokio::test]
async fn bad_credentials_and_missing_permissions_are_unauthorized() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let wrong = JiraRest::new(config(&jira, "not-the-token", Duration::from_secs(5))).unwrap();
        let error = wrong.comment(&key(ISSUE), &note(Event::Ready)).await;
        assert!(
            matches!(error, Err(JiraError::Unauthorized(_))),
            "{error:?}"
        );
        assert!(!jira.requests()[0].authorized);

        jira.fail_next(1, 403);
        let error = rest(&jira)
            .has_comment(&key(ISSUE), &note(Event::Ready))
            .await;
        assert!(
            matches!(error, Err(JiraError::Unauthorized(_))),
            "{error:?}"
        );
        assert!(jira.comments(ISSUE).is_empty());
    }
}

#[tokio::test]
async fn an_outage_is_upstream_with_jiras_message() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        jira.down();
        match rest.has_comment(&key(ISSUE), &note(Event::Ready)).await {
            Err(JiraError::Upstream { status, message }) => {
                assert_eq!(status, 503);
                assert!(message.contains("temporarily unavailable"), "{message}");
            }
            other => panic!("{edition:?}: {other:?}"),
        }
        jira.up();
        rest.comment(&key(ISSUE), &note(Event::Ready))
            .await
            .unwrap();
        jira.fail_next(1, 500);
        let error = rest.comment(&key(ISSUE), &note(Event::Gone)).await;
        assert!(matches!(
            error,
            Err(JiraError::Upstream { status: 500, .. })
        ));
    }
}

#[tokio::test]
async fn a_stalled_jira_times_out() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = JiraRest::new(config(&jira, TOKEN, Duration::from_millis(200))).unwrap();
        jira.stall_next(Duration::from_secs(30));
        let error = rest.comment(&key(ISSUE), &note(Event::Ready)).await;
        assert!(matches!(error, Err(JiraError::Timeout)), "{error:?}");
    }
}

#[tokio::test]
async fn a_login_page_instead_of_json_is_malformed() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let rest = rest(&jira);
        jira.malformed_next();
        let error = rest.has_comment(&key(ISSUE), &note(Event::Ready)).await;
        assert!(matches!(error, Err(JiraError::Malformed(_))), "{error:?}");
        jira.malformed_next();
        let error = rest.comment(&key(ISSUE), &note(Event::Ready)).await;
        assert!(matches!(error, Err(JiraError::Malformed(_))), "{error:?}");
    }
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let rest = JiraRest::new(JiraConfig {
        base_url: url.parse().unwrap(),
        edition: Edition::Cloud,
        auth: JiraAuth::Bearer {
            token: SecretString::from(TOKEN),
        },
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let error = rest.has_comment(&key(ISSUE), &note(Event::Ready)).await;
    assert!(matches!(error, Err(JiraError::Transport(_))), "{error:?}");
}

#[tokio::test]
async fn only_http_base_urls_are_accepted() {
    let jira = fake(Edition::Cloud).await;
    let mut config = config(&jira, TOKEN, Duration::from_secs(5));
    config.base_url = "ftp://jira.example.com".parse().unwrap();
    assert!(matches!(
        JiraRest::new(config),
        Err(JiraError::Transport(_))
    ));
}

#[tokio::test]
async fn the_token_never_shows_in_debug_output() {
    for edition in EDITIONS {
        let jira = fake(edition).await;
        let config = config(&jira, TOKEN, Duration::from_secs(5));
        let rest = JiraRest::new(config.clone()).unwrap();
        for debug in [
            format!("{config:?}"),
            format!("{rest:?}"),
            format!("{rest:#?}"),
        ] {
            assert!(!debug.contains(TOKEN), "{debug}");
            assert!(debug.contains("REDACTED"), "{debug}");
        }
    }
}

#[tokio::test]
async fn a_title_with_wiki_markup_cannot_make_a_link_on_data_center() {
    let jira = fake(Edition::DataCenter).await;
    let mut evil = note(Event::Ready);
    evil.title =
        "Fix [evil|http://x] {code}<script>{code}\n[~admin] !http://x/i.png!\r\nh1. Big".to_owned();
    rest(&jira).comment(&key(ISSUE), &evil).await.unwrap();
    let body = jira.comments(ISSUE)[0].body.as_str().unwrap().to_owned();

    // Every link opener left is ours: the PR link and one per preview.
    let openers = body
        .match_indices('[')
        .filter(|(i, _)| !body[..*i].ends_with('\\'));
    assert_eq!(openers.count(), 1 + evil.previews.len(), "{body}");
    assert!(!body.contains('{') && !body.contains('}'), "{body}");
    assert!(!body.contains("http://x"), "{body}");
    assert!(!body.contains("evil|"), "{body}");
    assert_eq!(body.lines().count(), 5, "{body}");
    assert!(body.lines().next().unwrap().contains("h1. Big"));
}

#[tokio::test]
async fn the_fake_refuses_a_plain_string_body_on_cloud() {
    preview_tower::tls::install_crypto_provider();
    let jira = fake(Edition::Cloud).await;
    let url = jira
        .url()
        .join(&format!("rest/api/3/issue/{ISSUE}/comment"))
        .unwrap();
    let response = reqwest::Client::new()
        .post(url)
        .basic_auth(EMAIL, Some(TOKEN))
        .json(&json!({"body": "Preview environment for PR #42 is ready"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let violations = jira.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("adf/full.json")),
        "{violations:#?}"
    );
    assert!(jira.comments(ISSUE).is_empty());
}
