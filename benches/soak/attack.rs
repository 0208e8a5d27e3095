//! The attacker of the soak, over raw TCP so that it costs little of its own: large bodies
//! (unsigned, or with a well-formed forged signature), slowloris connections, idle connections;
//! each kind reconnects whenever the service closes it, until the attack's end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to send, and until when.
pub struct Attack {
    pub target: SocketAddr,
    pub until: Instant,
    pub unsigned_bodies: usize,
    pub forged_bodies: usize,
    pub body_bytes: usize,
    pub slowloris: usize,
    pub idle: usize,
}

/// What the attacker managed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Large-body requests started.
    pub body_requests: usize,
    /// Of those, answered before the whole body was sent (refused unread).
    pub bodies_refused_early: usize,
    /// Slowloris connections opened.
    pub slowloris_opened: usize,
    /// Idle connections opened.
    pub idle_opened: usize,
}

#[derive(Default)]
struct Counts {
    body_requests: AtomicUsize,
    bodies_refused_early: AtomicUsize,
    slowloris_opened: AtomicUsize,
    idle_opened: AtomicUsize,
}

const CHUNK: usize = 64 * 1024;

impl Attack {
    /// Runs every attacker until the end; what they did.
    pub async fn run(self) -> Outcome {
        let counts = Arc::new(Counts::default());
        let chunk = Arc::new(vec![b'x'; CHUNK]);
        let mut tasks = Vec::new();
        for i in 0..self.unsigned_bodies + self.forged_bodies {
            let signed = i >= self.unsigned_bodies;
            let (counts, chunk) = (Arc::clone(&counts), Arc::clone(&chunk));
            let (target, until, bytes) = (self.target, self.until, self.body_bytes);
            tasks.push(tokio::spawn(async move {
                while Instant::now() < until {
                    counts.body_requests.fetch_add(1, Ordering::Relaxed);
                    if large_body(target, bytes, signed, &chunk, until).await {
                        counts.bodies_refused_early.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for _ in 0..self.slowloris {
            let counts = Arc::clone(&counts);
            let (target, until) = (self.target, self.until);
            tasks.push(tokio::spawn(async move {
                while Instant::now() < until {
                    counts.slowloris_opened.fetch_add(1, Ordering::Relaxed);
                    slowloris(target, until).await;
                }
            }));
        }
        for _ in 0..self.idle {
            let counts = Arc::clone(&counts);
            let (target, until) = (self.target, self.until);
            tasks.push(tokio::spawn(async move {
                while Instant::now() < until {
                    counts.idle_opened.fetch_add(1, Ordering::Relaxed);
                    idle(target, until).await;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        Outcome {
            body_requests: counts.body_requests.load(Ordering::Relaxed),
            bodies_refused_early: counts.bodies_refused_early.load(Ordering::Relaxed),
            slowloris_opened: counts.slowloris_opened.load(Ordering::Relaxed),
            idle_opened: counts.idle_opened.load(Ordering::Relaxed),
        }
    }
}

/// One POST of `bytes` to the webhook path, with a forged but well-formed signature when
/// `signed`; `true` when the service answered (or closed) before the body was all sent.
async fn large_body(
    target: SocketAddr,
    bytes: usize,
    signed: bool,
    chunk: &[u8],
    until: Instant,
) -> bool {
    let Ok(mut stream) = TcpStream::connect(target).await else {
        tokio::time::sleep(Duration::from_millis(50)).await;
        return true;
    };
    let signature = if signed {
        format!("x-hub-signature-256: sha256={}\r\n", "ab".repeat(32))
    } else {
        String::new()
    };
    let head = format!(
        "POST /api/v1/webhooks/github HTTP/1.1\r\nhost: soak\r\ncontent-type: application/json\r\n\
         x-github-event: pull_request\r\nx-github-delivery: soak\r\n{signature}content-length: {bytes}\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return true;
    }
    let mut sent = 0;
    while sent < bytes && Instant::now() < until {
        let n = chunk.len().min(bytes - sent);
        if stream.write_all(&chunk[..n]).await.is_err() {
            return true;
        }
        sent += n;
    }
    let mut answer = [0u8; 512];
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await;
    false
}

/// A request whose headers never end: one byte every two seconds, until the service closes it.
async fn slowloris(target: SocketAddr, until: Instant) {
    let Ok(mut stream) = TcpStream::connect(target).await else {
        tokio::time::sleep(Duration::from_millis(200)).await;
        return;
    };
    let head = b"POST /api/v1/webhooks/github HTTP/1.1\r\nhost: soak\r\nx-slow: ";
    if stream.write_all(head).await.is_err() {
        return;
    }
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if stream.write_all(b"a").await.is_err() {
            return;
        }
    }
}

/// A connection that sends nothing, until the service closes it.
async fn idle(target: SocketAddr, until: Instant) {
    let Ok(mut stream) = TcpStream::connect(target).await else {
        tokio::time::sleep(Duration::from_millis(200)).await;
        return;
    };
    let mut byte = [0u8; 1];
    let left = until.saturating_duration_since(Instant::now());
    let _ = tokio::time::timeout(left, stream.read(&mut byte)).await;
}
