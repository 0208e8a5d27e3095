//! The previews board in a real browser: `preview-tower serve --demo` with its board on a
//! loopback port, read by headless Chromium as a person reads it, against what
//! `preview-tower plan --demo` plans at the same moment.
//!
//! - The table has one row per planned preview and per PR queued or waiting for its build, and
//!   no other; the states the plan decides are the rows' states: asleep (unless Argo CD says
//!   degraded: the demo's api PR 43 is broken on purpose), queued, waiting for its build.
//! - The demo's states are on the page, whatever the time: asleep, queued, waiting for its
//!   build, degraded, and expiring (a preview within its expiry warning reads expiring, asleep
//!   or not).
//! - A PR title full of markup (web PR 104) reads as that text, and makes no element.
//! - The filter form, used as a person would (service `api`, then the button), leaves the api
//!   rows only, and the column headers' sort links keep the filter.
//!
//! Screenshots of the whole board and of the filtered one are saved under
//! `<target>/screenshots/` for a person to look at. The page refreshes its live part every
//! 15 seconds: the rows are read with one script each time, so that no refresh falls between
//! two reads.
//!
//! Without Chromium and ChromeDriver it says loudly that it did not run, and fails only under
//! CI. No timing assertion: bounded waits only.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use support::browser::{Browser, DEADLINE};
use support::serve::{BIN, Serve};

/// How long the demo is given to start and sync (it syncs at once; this is a bound for a
/// loaded machine).
const READY: Duration = Duration::from_secs(60);

/// The demo fleet's `expiry_warning` (src/demo/fleet.yaml): a preview expiring within it is
/// warned, and reads `expiring`.
const EXPIRY_WARNING: chrono::Duration = chrono::Duration::hours(12);

/// Web PR 104's title, as its author wrote it (src/demo/pulls.yaml).
const HOSTILE_TITLE: &str = r#"Escape <script>alert("pwned")</script> & <b>bold</b> in e-mails"#;

/// A row: service and PR number.
type Key = (String, u64);

/// What `plan --demo` says the board must show.
struct Expected {
    /// Every row.
    rows: BTreeSet<Key>,
    /// The state of the rows whose state the plan decides.
    states: BTreeMap<Key, &'static str>,
    /// Previews within the expiry warning: `expiring` unless Argo CD says otherwise.
    warned: BTreeSet<Key>,
}

/// `plan --demo --output json` now, from the binary under test, with nothing of the caller's
/// `PREVIEW_TOWER_*` environment.
fn plan() -> (Value, DateTime<Utc>) {
    let mut command = Command::new(BIN);
    command.args(["plan", "--demo", "--output", "json"]);
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("PREVIEW_TOWER_") {
            command.env_remove(var);
        }
    }
    let now = Utc::now();
    let out = command.output().expect("run preview-tower plan");
    assert!(
        out.status.success(),
        "plan --demo failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "plan --demo printed no JSON: {e}\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (plan, now)
}

/// The rows and states `plan` (made at `now`) implies.
fn expected(plan: &Value, now: DateTime<Utc>) -> Expected {
    let mut expected = Expected {
        rows: BTreeSet::new(),
        states: BTreeMap::new(),
        warned: BTreeSet::new(),
    };
    let sets = plan["output"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("no parameter sets in the plan: {plan}"));
    for set in sets {
        let service = set["service"].as_str().expect("a service").to_owned();
        let number: u64 = set["number"]
            .as_str()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no PR number in {set}"));
        let key = (service, number);
        // A sleeping preview runs every workload at 0 replicas; one within the expiry
        // warning reads expiring, asleep or not (its deletion is the news).
        let asleep = set["replicas"] == "0";
        let warned = set["expires_at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|at| at.with_timezone(&Utc) - now <= EXPIRY_WARNING);
        if warned {
            expected.warned.insert(key.clone());
        } else if asleep {
            expected.states.insert(key.clone(), "asleep");
        }
        expected.rows.insert(key);
    }
    let excluded = plan["excluded"]
        .as_array()
        .unwrap_or_else(|| panic!("no exclusions in the plan: {plan}"));
    for exclusion in excluded {
        let state = match &exclusion["reason"] {
            Value::Object(reason) if reason.contains_key("queued") => "queued",
            Value::String(reason) if reason == "waiting_for_build" => "waiting_for_build",
            _ => continue,
        };
        let key = (
            exclusion["service"].as_str().expect("a service").to_owned(),
            exclusion["number"].as_u64().expect("a PR number"),
        );
        expected.rows.insert(key.clone());
        expected.states.insert(key, state);
    }
    expected
}

/// The previews table's rows as the page shows them now: service, PR and state, in order,
/// read with one script (no refresh of the page's live part falls in between).
async fn rows(browser: &Browser) -> Vec<(Key, String)> {
    let script = "return Array.from(document.querySelectorAll('table.previews tbody tr'))\
                  .map(tr => [tr.dataset.service, tr.dataset.pr, tr.dataset.state]);";
    let value = browser
        .client()
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("read the rows: {e}\n{}", browser.output()));
    let rows: Vec<(String, String, String)> = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("rows with data-service, data-pr and data-state: {e}: {value}"));
    rows.into_iter()
        .map(|(service, pr, state)| {
            let pr = pr
                .parse()
                .unwrap_or_else(|_| panic!("data-pr {pr:?} is not a number"));
            ((service, pr), state)
        })
        .collect()
}

/// Saves a screenshot of the whole page, not only the window: the window is made as tall as
/// the page's content first (the body's bottom, which a taller window does not stretch).
async fn screenshot_whole(browser: &Browser, name: &str) -> std::path::PathBuf {
    let script = "return [Math.ceil(document.body.getBoundingClientRect().bottom + window.scrollY), \
                  window.outerHeight - window.innerHeight, window.outerWidth];";
    let value = browser
        .client()
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("measure the page: {e}"));
    let [page, chrome, width]: [u32; 3] =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("sizes: {e}: {value}"));
    browser
        .client()
        .set_window_size(width, page + chrome)
        .await
        .unwrap_or_else(|e| panic!("resize the window: {e}"));
    let shot = browser.screenshot(name).await;
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("read {}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {}",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());
    shot
}

#[tokio::test]
async fn the_board_shows_what_the_demo_plans_and_filters_as_a_person_asks() {
    let Some(browser) = Browser::start("board_browser").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut serve = Serve::start_demo(dir.path(), "board");
    let board = serve.board.expect("the demo's board port");

    // Every service synced once, and the board's JSON lists previews.
    serve.wait_ready(READY).await;
    let http = reqwest::Client::new();
    let json = format!("http://{board}/api/v1/previews");
    serve
        .eventually("the board's JSON lists previews", READY, async |_| {
            let Ok(answer) = http.get(&json).send().await else {
                return false;
            };
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            body["previews"].as_array().is_some_and(|p| !p.is_empty())
        })
        .await;

    // The page, then the plan at once: both at the same time of day (sleep starts and ends
    // hours apart).
    let page = format!("http://{board}/");
    browser.goto(&page).await;
    let shown = rows(&browser).await;
    let (plan, now) = plan();
    let expected = expected(&plan, now);

    let keys: BTreeSet<Key> = shown.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(keys.len(), shown.len(), "a row shown twice: {shown:?}");
    assert_eq!(
        keys, expected.rows,
        "the board's rows are not the plan's previews, queued and waiting PRs"
    );
    let state: BTreeMap<Key, String> = shown.iter().cloned().collect();
    for (key, planned) in &expected.states {
        let on_board = state[key].as_str();
        // Argo CD's word wins over sleep: a broken preview needs someone even asleep.
        if *planned == "asleep" && on_board == "degraded" {
            continue;
        }
        assert_eq!(on_board, *planned, "{key:?}: the board says {on_board}");
    }
    for (key, on_board) in &state {
        if on_board == "asleep" {
            assert_eq!(
                expected.states.get(key).copied(),
                Some("asleep"),
                "{key:?} reads asleep but is planned awake"
            );
        }
        if on_board == "expiring" {
            assert!(
                expected.warned.contains(key),
                "{key:?} reads expiring but is not a preview within the warning"
            );
        }
    }
    for (key, on_board) in &state {
        if expected.warned.contains(key) {
            assert!(
                ["expiring", "degraded", "progressing"].contains(&on_board.as_str()),
                "{key:?} is within the expiry warning, yet reads {on_board}"
            );
        }
    }
    let present: BTreeSet<&str> = state.values().map(String::as_str).collect();
    let promised = [
        "asleep",
        "queued",
        "waiting_for_build",
        "degraded",
        "expiring",
    ];
    for wanted in promised {
        assert!(
            present.contains(wanted),
            "no {wanted} row on the board; states: {state:?}"
        );
    }

    // Markup in a title is text on the page, and no element.
    let hostile = r#"table.previews tr[data-service="web"][data-pr="104"]"#;
    assert_eq!(
        browser.text(&format!("{hostile} td div.title")).await,
        HOSTILE_TITLE
    );
    for element in ["script", "b"] {
        assert!(
            browser
                .find_all(&format!("{hostile} {element}"))
                .await
                .is_empty(),
            "web PR 104's title made a <{element}> element"
        );
    }

    let full = screenshot_whole(&browser, "board_browser-full").await;

    // The filter, as a person uses it: service `api`, then the button.
    let select = browser.find("form.filter select[name=service]").await;
    if let Err(e) = select.select_by_value("api").await {
        panic!("choose api as the service: {e}\n{}", browser.output());
    }
    browser.submit("form.filter").await;
    browser
        .wait_until("the filtered page", DEADLINE, async |b| {
            b.url()
                .await
                .query()
                .is_some_and(|q| q.contains("service=api"))
                && !b.find_all("h2 span.filtered").await.is_empty()
        })
        .await;
    let filtered = rows(&browser).await;
    let api_rows = expected.rows.iter().filter(|(s, _)| s == "api").count();
    assert!(api_rows > 0, "the demo plans no api preview");
    assert_eq!(
        filtered.len(),
        api_rows,
        "the filtered board shows {filtered:?}"
    );
    assert!(
        filtered.iter().all(|((service, _), _)| service == "api"),
        "a row of another service after filtering by api: {filtered:?}"
    );
    let mut sorts = Vec::new();
    for link in browser.find_all("table.previews th a").await {
        let href = link
            .attr("href")
            .await
            .unwrap_or_else(|e| panic!("read a sort link: {e}"))
            .unwrap_or_default();
        sorts.push(href);
    }
    assert!(!sorts.is_empty(), "no sort link in the table's header");
    assert!(
        sorts.iter().all(|href| href.contains("service=api")),
        "a sort link drops the filter: {sorts:?}"
    );

    let narrowed = screenshot_whole(&browser, "board_browser-api").await;
    for shot in [&full, &narrowed] {
        let size = std::fs::metadata(shot).map(|m| m.len()).unwrap_or_default();
        assert!(size > 1_000, "{} is not a screenshot", shot.display());
    }

    browser.close().await;
    serve.assert_running();
}
