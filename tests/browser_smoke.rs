//! The browser harness itself (`support::browser`), on a page made here: headless Chromium
//! loads a table and a search form from a tiny server on `127.0.0.1`, reads the cells as a
//! person sees them (escaped markup is text, not a script), submits the form, and takes a
//! screenshot.
//!
//! Without Chromium and ChromeDriver it says loudly that it did not run, and fails only under
//! CI. No timing assertion: generous deadlines only.

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;

use support::browser::{Browser, DEADLINE};

/// The page: a table whose last row carries markup, escaped as a page must, and a GET form.
const BOARD: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Smoke board</title>
<style>
  body { font-family: sans-serif; margin: 2em; }
  table { border-collapse: collapse; }
  th, td { border: 1px solid #888; padding: 0.3em 0.8em; text-align: left; }
</style></head>
<body>
<h1>Smoke board</h1>
<table id="board">
  <thead><tr><th>Service</th><th>PR</th><th>Title</th></tr></thead>
  <tbody>
    <tr><td class="service">web</td><td class="pr">#12</td><td class="title">Faster checkout</td></tr>
    <tr><td class="service">api</td><td class="pr">#7</td><td class="title">Rate limits</td></tr>
    <tr><td class="service">web</td><td class="pr">#13</td><td class="title" id="hostile">&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>
  </tbody>
</table>
<form id="search" method="get" action="/search">
  <label>Search <input id="q" name="q" type="search"></label>
  <button>Go</button>
</form>
</body>
</html>
"#;

/// Serves [`BOARD`] at `/` and an answer at `/search`, on a free loopback port, in this
/// runtime.
async fn serve_board() -> SocketAddr {
    async fn search(Query(query): Query<Vec<(String, String)>>) -> Html<String> {
        let q = query
            .iter()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let q = q
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        Html(format!(
            "<!doctype html><title>Results</title><p id=\"searched\">Results for {q}</p>"
        ))
    }
    let app = Router::new()
        .route("/", get(|| async { Html(BOARD) }))
        .route("/search", get(search));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve the board");
    });
    addr
}

#[tokio::test]
async fn a_page_is_read_and_used_as_a_person_would() {
    let Some(browser) = Browser::start("browser_smoke").await else {
        return;
    };
    let addr = serve_board().await;

    browser.goto(&format!("http://{addr}/")).await;
    assert_eq!(browser.text("h1").await, "Smoke board");
    assert_eq!(browser.texts("#board th").await, ["Service", "PR", "Title"]);
    assert_eq!(
        browser.texts("#board td.service").await,
        ["web", "api", "web"]
    );
    assert_eq!(browser.texts("#board td.pr").await, ["#12", "#7", "#13"]);

    // Escaped markup reads as the markup's text, and makes no element.
    assert_eq!(browser.text("#hostile").await, "<script>alert(1)</script>");
    assert!(
        browser.find_all("#hostile script").await.is_empty(),
        "the escaped text became a script element"
    );
    assert!(browser.find_all("#hostile *").await.is_empty());

    let shot = browser.screenshot("browser_smoke").await;
    let size = std::fs::metadata(&shot)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()))
        .len();
    assert!(size > 0, "empty screenshot at {}", shot.display());
    let png = std::fs::read(&shot).expect("read the screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {}",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());

    // The form, filled and submitted, carries the query in the URL it loads.
    browser.fill("#q", "checkout & <b>").await;
    browser.submit("#search").await;
    browser
        .wait_until("the search page", DEADLINE, async |b| {
            b.url().await.path() == "/search"
        })
        .await;
    let url = browser.url().await;
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [("q".to_owned(), "checkout & <b>".to_owned())],
        "{url}"
    );
    browser
        .wait_until("the search answer", DEADLINE, async |b| {
            !b.find_all("#searched").await.is_empty()
        })
        .await;
    assert_eq!(
        browser.text("#searched").await,
        "Results for checkout & <b>"
    );

    browser.close().await;
}
