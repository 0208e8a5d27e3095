//! A listener that can be switched off: while off, every connection is accepted and closed at
//! once, as a server that is down or unreachable looks to a client (its requests fail with a
//! transport error). The fakes serve through it so that a test can take GitHub or the
//! Kubernetes API away and bring it back on the same address.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};

/// Turns a [`SwitchedListener`] on and off.
#[derive(Clone, Debug, Default)]
pub struct Switch(Arc<AtomicBool>);

impl Switch {
    /// From now on, new connections are closed at once.
    pub fn off(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// From now on, new connections are served.
    pub fn on(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    fn is_off(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP listener that serves only while its [`Switch`] is on.
pub struct SwitchedListener {
    inner: TcpListener,
    switch: Switch,
}

impl SwitchedListener {
    /// `inner`, served while `switch` is on.
    pub fn new(inner: TcpListener, switch: Switch) -> Self {
        Self { inner, switch }
    }
}

impl axum::serve::Listener for SwitchedListener {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
            if self.switch.is_off() {
                drop(stream);
                continue;
            }
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
