//! The frame of every fake vendor server (GitHub, Jira, the Kubernetes API): a free port on
//! `127.0.0.1`, one axum router served in the current Tokio runtime behind a [`Switch`] (so
//! that a test can take the vendor away), the fake's state behind one lock, and the vendor's
//! rules that anyone broke, which fail the test when the fake drops.
//!
//! A fake owns what it serves and how; the frame owns none of that.
//!
//! ```ignore
//! let server = FakeServer::start(Router::new().fallback(handle), |addr| {
//!     Mutex::new(State::new(format!("http://{addr}")))
//! })
//! .await;
//! server.with(|s| s.issues.insert(key, issue));
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::task::JoinHandle;

use super::switch::{Switch, SwitchedListener};

/// A fake's state: what it keeps of the vendor's rules broken, by the client under test (a
/// request the vendor refuses) or by the fake itself (an answer the vendor's schema rejects).
pub trait Conformance {
    /// The fake's name in messages (`fake GitHub`).
    const NAME: &'static str;
    /// What the failure at the drop says the violations were (`served non-conformant
    /// bodies`).
    const BROKEN: &'static str;

    /// The violations so far.
    fn violations(&mut self) -> &mut Vec<String>;

    /// Records one violation, also printed as it happens.
    fn record(&mut self, violation: impl std::fmt::Display) {
        let line = violation.to_string();
        eprintln!("{}: CONFORMANCE VIOLATION {line}", Self::NAME);
        self.violations().push(line);
    }
}

/// What a fake's handlers share with the test: at least its state, behind one lock. A plain
/// `Mutex<State>` is one.
pub trait Stateful: Send + Sync + 'static {
    /// The fake's state.
    type State: Conformance + Send;

    /// The lock around it.
    fn state_lock(&self) -> &Mutex<Self::State>;
}

impl<S: Conformance + Send + 'static> Stateful for Mutex<S> {
    type State = S;

    fn state_lock(&self) -> &Mutex<S> {
        self
    }
}

/// Locks `state`; a test that panicked while holding it leaves it usable.
pub fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake. Dropping it stops the server and its tasks, and panics if anything broke
/// the vendor's rules (unless the thread is already panicking).
pub struct FakeServer<T: Stateful> {
    shared: Arc<T>,
    addr: SocketAddr,
    switch: Switch,
    tasks: Vec<JoinHandle<()>>,
}

impl<T: Stateful> FakeServer<T> {
    /// Binds a free port on `127.0.0.1`, makes the shared state from its address with
    /// `shared`, and serves `routes` with it in the current Tokio runtime. Panics when the
    /// conformance data is missing.
    pub async fn start(routes: axum::Router<Arc<T>>, shared: impl FnOnce(SocketAddr) -> T) -> Self {
        super::conformance::dir();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(shared(addr));
        let router = routes.with_state(Arc::clone(&shared));
        let switch = Switch::default();
        let listener = SwitchedListener::new(listener, switch.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            shared,
            addr,
            switch,
            tasks: vec![server],
        }
    }

    /// Runs `task` in the current Tokio runtime for as long as the server runs.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the handlers share.
    pub fn shared(&self) -> &Arc<T> {
        &self.shared
    }

    /// Runs `f` on the state, locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut T::State) -> R) -> R {
        f(&mut lock(self.shared.state_lock()))
    }

    /// The vendor goes away: new connections are closed at once (a transport error), until
    /// [`FakeServer::go_online`]. Connections already open stay.
    pub fn go_offline(&self) {
        self.switch.off();
    }

    /// The vendor answers again.
    pub fn go_online(&self) {
        self.switch.on();
    }

    /// The violations seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.with(|s| s.violations().clone())
    }

    /// The violations seen so far, forgotten: for tests that break the rules on purpose.
    pub fn take_violations(&self) -> Vec<String> {
        self.with(|s| std::mem::take(s.violations()))
    }

    /// Panics when anything broke the vendor's rules.
    pub fn assert_conformant(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "{} {}:\n{violations:#?}",
            T::State::NAME,
            T::State::BROKEN
        );
    }
}

impl<T: Stateful> Drop for FakeServer<T> {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if !std::thread::panicking() {
            self.assert_conformant();
        }
    }
}
