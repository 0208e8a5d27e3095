//! A real browser for tests of the pages the service serves: headless Chromium driven through
//! ChromeDriver (WebDriver) with fantoccini, over plain HTTP on loopback.
//!
//! ChromeDriver and Chromium are found through `PREVIEW_TOWER_CHROMEDRIVER` and
//! `PREVIEW_TOWER_CHROMIUM` (which `tests/install-tools.sh` prints), else at `/usr/bin`, else on
//! `PATH`. Without them [`Browser::start`] says loudly that the test did not run and gives
//! `None`, except under CI (`CI` set and not empty), where it fails the test.
//!
//! ChromeDriver runs in a process group of its own, on a free loopback port, its output (and
//! Chromium's) in a file that failure messages quote; the group, Chromium with it, is killed
//! when the [`Browser`] drops, also when the test panics (Chromium's crash handlers leave the
//! group, and end by themselves when Chromium does). Chromium gets a new empty profile
//! and no background networking: this machine's network is closed, and Chromium's own
//! connections would be refused many at a time.
//!
//! No timing assertion: deadlines here are generous bounds for a loaded machine.
//!
//! ```ignore
//! let Some(browser) = Browser::start("board").await else { return };
//! browser.goto(&format!("http://{addr}/")).await;
//! assert_eq!(browser.texts("td.name").await, ["web", "api"]);
//! browser.screenshot("board").await;
//! browser.close().await;
//! ```

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::serve::free_port;

/// How long ChromeDriver is given to listen, and Chromium to start for a session.
const START: Duration = Duration::from_secs(60);
/// How long a page is given to load, and a script to run (WebDriver's own timeouts).
const PAGE_LOAD: Duration = Duration::from_secs(30);
/// How long [`Browser::wait_until`] waits unless told.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Chromium's flags: headless, no sandbox (root), no GPU, no `/dev/shm` (small in
/// containers), and nothing that reaches the network by itself.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
];

/// Where ChromeDriver and Chromium are.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// ChromeDriver.
    pub chromedriver: PathBuf,
    /// Chromium.
    pub chromium: PathBuf,
}

impl Binaries {
    /// ChromeDriver and Chromium, or what was looked for and not found.
    pub fn find() -> Result<Self, String> {
        let chromedriver = find_binary("PREVIEW_TOWER_CHROMEDRIVER", "chromedriver");
        let chromium = find_binary("PREVIEW_TOWER_CHROMIUM", "chromium");
        match (chromedriver, chromium) {
            (Ok(chromedriver), Ok(chromium)) => Ok(Self {
                chromedriver,
                chromium,
            }),
            (driver, browser) => Err([driver.err(), browser.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }
}

/// The binary named by `var` (which must exist when set), else `/usr/bin/<name>`, else `name`
/// on `PATH`.
fn find_binary(var: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{var}={} does not exist", path.display()))
        };
    }
    let usr_bin = Path::new("/usr/bin").join(name);
    if usr_bin.is_file() {
        return Ok(usr_bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("no {name} ({var} unset, not at /usr/bin/{name}, not on PATH)"))
}

/// Says loudly that the browser test `name` did not run and why; panics under CI. Written to
/// the process's stderr itself, not through `eprintln!`, which the test harness captures and
/// shows only for a failed test.
fn not_run(name: &str, why: &str) {
    use std::io::Write as _;
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let rule = "=".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "{rule}\nBROWSER TEST DID NOT RUN: {name}\n{why}\nInstall Chromium and ChromeDriver with \
         tests/install-tools.sh (as root; it runs `apt-get install chromium chromium-driver`) and \
         evaluate its output: eval \"$(tests/install-tools.sh)\"\n{rule}"
    );
    assert!(!ci, "browser test {name}: {why} (CI needs the browser)");
}

/// ChromeDriver in its own process group; the group is killed on drop.
struct Driver {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Driver {
    /// Starts ChromeDriver on a free port and waits until `/status` says it is ready. A port
    /// taken between its choice and ChromeDriver's bind is another try, three in all.
    async fn start(binary: &Path, dir: &Path) -> Self {
        let log = dir.join("chromedriver.log");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().port();
            let out = std::fs::File::create(&log).expect("create the ChromeDriver log");
            let child = Command::new(binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("clone the log handle"))
                .stderr(out)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut driver = Self {
                child,
                log: log.clone(),
                url: format!("http://127.0.0.1:{port}"),
            };
            match driver.wait_ready().await {
                Ok(()) => return driver,
                Err(e) => last = e,
            }
        }
        panic!("{last}");
    }

    /// Polls `GET /status` until it answers `ready: true`, at most [`START`]; the error says
    /// why not, with ChromeDriver's output.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url);
        let until = Instant::now() + START;
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                return Err(format!(
                    "ChromeDriver exited ({exit}) before it was ready:\n{}",
                    self.output()
                ));
            }
            let answer = http
                .get(&status)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if let Ok(answer) = answer {
                let body: Value = answer.json().await.unwrap_or(Value::Null);
                if body["value"]["ready"] == json!(true) {
                    return Ok(());
                }
            }
            if Instant::now() >= until {
                return Err(format!(
                    "ChromeDriver not ready at {status} within {} s:\n{}",
                    START.as_secs(),
                    self.output()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// ChromeDriver's and Chromium's output so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: ChromeDriver and the Chromium processes it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium in a WebDriver session of its own.
pub struct Browser {
    /// `None` once closed.
    client: Option<Client>,
    /// Dropped before `dir`: the processes end before their files go.
    driver: Driver,
    /// Chromium's profile and the ChromeDriver log.
    dir: tempfile::TempDir,
    name: String,
}

impl Browser {
    /// Starts ChromeDriver and a Chromium session for the test `name`; `None` (said loudly)
    /// when they are not installed, a failed test under CI.
    pub async fn start(name: &str) -> Option<Self> {
        let binaries = match Binaries::find() {
            Ok(binaries) => binaries,
            Err(why) => {
                not_run(name, &why);
                return None;
            }
        };
        Some(Self::start_with(name, &binaries).await)
    }

    /// Starts ChromeDriver and a Chromium session with these binaries.
    pub async fn start_with(name: &str, binaries: &Binaries) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("preview-tower-browser-")
            .tempdir()
            .expect("a temporary directory");
        let profile = dir.path().join("profile");
        std::fs::create_dir(&profile).expect("create the profile directory");
        let driver = Driver::start(&binaries.chromedriver, dir.path()).await;

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binaries.chromium,
                "args": args,
            },
            "timeouts": {
                "pageLoad": PAGE_LOAD.as_millis() as u64,
                "script": PAGE_LOAD.as_millis() as u64,
                "implicit": 0,
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let client = match tokio::time::timeout(START, builder.connect(&driver.url)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "no Chromium session through ChromeDriver: {e}\n{}",
                driver.output()
            ),
            Err(_) => panic!(
                "no Chromium session within {} s:\n{}",
                START.as_secs(),
                driver.output()
            ),
        };
        Self {
            client: Some(client),
            driver,
            dir,
            name: name.to_owned(),
        }
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the browser is open")
    }

    /// ChromeDriver's and Chromium's output so far, for failure messages.
    pub fn output(&self) -> String {
        self.driver.output()
    }

    /// Panics with `what`, the error, the page's URL and ChromeDriver's output.
    async fn fail(&self, what: &str, error: impl std::fmt::Display) -> ! {
        let url = self
            .client()
            .current_url()
            .await
            .map_or_else(|e| format!("(no URL: {e})"), |u| u.to_string());
        panic!(
            "{}: {what}: {error}\n  at {url}\nChromeDriver said:\n{}",
            self.name,
            self.output()
        )
    }

    /// Loads `url` and waits for it (WebDriver waits for the load event).
    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.client().goto(url).await {
            self.fail(&format!("load {url}"), e).await;
        }
    }

    /// The page's URL.
    pub async fn url(&self) -> url::Url {
        match self.client().current_url().await {
            Ok(url) => url,
            Err(e) => self.fail("read the URL", e).await,
        }
    }

    /// The first element that `css` selects; panics when there is none.
    pub async fn find(&self, css: &str) -> Element {
        match self.client().find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => self.fail(&format!("find {css:?}"), e).await,
        }
    }

    /// Every element that `css` selects, in document order (none is no error).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        match self.client().find_all(Locator::Css(css)).await {
            Ok(elements) => elements,
            Err(e) => self.fail(&format!("find all {css:?}"), e).await,
        }
    }

    /// The rendered text of the first element that `css` selects (as a person reads it:
    /// markup gone, entities decoded, whitespace collapsed).
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.text_of(css, &element).await
    }

    /// The rendered texts of every element that `css` selects, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            texts.push(self.text_of(css, &element).await);
        }
        texts
    }

    async fn text_of(&self, css: &str, element: &Element) -> String {
        match element.text().await {
            Ok(text) => text,
            Err(e) => self.fail(&format!("read the text of {css:?}"), e).await,
        }
    }

    /// Clicks the first element that `css` selects.
    pub async fn click(&self, css: &str) {
        if let Err(e) = self.find(css).await.click().await {
            self.fail(&format!("click {css:?}"), e).await;
        }
    }

    /// Types `value` into the input that `css` selects, after clearing it.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        if let Err(e) = input.clear().await {
            self.fail(&format!("clear {css:?}"), e).await;
        }
        if let Err(e) = input.send_keys(value).await {
            self.fail(&format!("type into {css:?}"), e).await;
        }
    }

    /// Submits the form that `css` selects as a person would: clicks its first submit button,
    /// or, when it has none, submits it as Enter in one of its fields does (`requestSubmit`,
    /// which runs the form's validation and submit handlers). Whatever it loads is not waited
    /// for: [`Browser::wait_until`] the page says it is there.
    pub async fn submit(&self, css: &str) {
        let form = self.find(css).await;
        let buttons = form
            .find_all(Locator::Css(
                "button:not([type]), button[type=submit], input[type=submit]",
            ))
            .await;
        let submitted = match buttons {
            Ok(buttons) if !buttons.is_empty() => buttons[0].click().await.map(|_| ()),
            Ok(_) => self
                .client()
                .execute(
                    "arguments[0].requestSubmit()",
                    vec![serde_json::to_value(&form).expect("an element as JSON")],
                )
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = submitted {
            self.fail(&format!("submit {css:?}"), e).await;
        }
    }

    /// Polls `check` every 20 ms until it holds, or panics after `deadline` with `what`, the
    /// page's URL and ChromeDriver's output.
    pub async fn wait_until<F: AsyncFnMut(&Browser) -> bool>(
        &self,
        what: &str,
        deadline: Duration,
        mut check: F,
    ) {
        let until = Instant::now() + deadline;
        loop {
            if check(self).await {
                return;
            }
            if Instant::now() >= until {
                self.fail(what, format_args!("not within {} s", deadline.as_secs()))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Saves a screenshot of the window as `<target>/screenshots/<name>.png` and gives its
    /// path (`<target>` being the Cargo target directory this test binary was built in).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = match self.client().screenshot().await {
            Ok(png) => png,
            Err(e) => self.fail("take a screenshot", e).await,
        };
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Ends the WebDriver session (Chromium quits), then ChromeDriver. A browser dropped
    /// without it is killed all the same, but a test that passes closes it.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take()
            && let Err(e) = client.close().await
        {
            panic!("{}: close the session: {e}\n{}", self.name, self.output());
        }
    }
}

/// The Cargo target directory the running test binary was built in: it runs as
/// `<target>/<profile>/deps/<test>-<hash>`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .unwrap_or_else(|| panic!("no target directory above {}", exe.display()))
        .to_path_buf()
}
