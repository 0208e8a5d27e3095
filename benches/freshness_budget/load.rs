//! The load generator: `clients` HTTP/1.1 connections kept alive, each sending the same
//! request again as soon as the previous answer has been read to its last byte. Latency is
//! measured per request, from sending to the last byte; throughput counts the answers completed
//! inside the measurement window (after a warm-up, which is not counted).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One load run.
#[derive(Clone)]
pub struct Load {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The request path.
    pub path: &'static str,
    /// The JSON body sent with every request.
    pub body: &'static str,
    /// The bearer token.
    pub token: &'static str,
    /// Concurrent connections, each with one request in flight.
    pub clients: usize,
    /// Not counted.
    pub warmup: Duration,
    /// Counted.
    pub measure: Duration,
}

/// What a run measured, summarized.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Answers completed in the window.
    pub requests: usize,
    /// Answers per second in the window.
    pub throughput: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest answer in the window.
    pub max: Duration,
    /// Size of one answer body.
    pub body_bytes: usize,
    /// CPU time this whole process (server and load generator) got per second of the window,
    /// in cores: how much of the machine the run had, other processes being busy or not.
    pub cores_used: f64,
}

/// What one or more runs measured, before summarizing.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// Latencies of the requests sent and answered inside the windows.
    times: Vec<Duration>,
    /// Answers completed inside the windows.
    completed: usize,
    /// Total length of the windows.
    measured: Duration,
    /// CPU time of this process during the windows.
    cpu: Duration,
    /// Size of the last answer.
    body_bytes: usize,
}

impl Samples {
    /// Adds another run's samples.
    pub fn absorb(&mut self, other: Samples) {
        self.times.extend(other.times);
        self.completed += other.completed;
        self.measured += other.measured;
        self.cpu += other.cpu;
        self.body_bytes = other.body_bytes;
    }

    /// Percentiles and rates.
    pub fn outcome(mut self) -> Outcome {
        self.times.sort_unstable();
        let seconds = self.measured.as_secs_f64().max(f64::MIN_POSITIVE);
        Outcome {
            requests: self.completed,
            throughput: self.completed as f64 / seconds,
            p50: percentile(&self.times, 0.50),
            p99: percentile(&self.times, 0.99),
            max: self.times.last().copied().unwrap_or_default(),
            body_bytes: self.body_bytes,
            cores_used: self.cpu.as_secs_f64() / seconds,
        }
    }
}

/// Runs `load` on the current runtime; panics on a failed connection or a non-200 answer.
pub async fn run(load: &Load) -> Samples {
    let started = Instant::now();
    let counted_from = started + load.warmup;
    let until = counted_from + load.measure;
    let clients: Vec<_> = (0..load.clients)
        .map(|_| tokio::spawn(client(load.clone(), counted_from, until)))
        .collect();
    tokio::time::sleep_until(counted_from.into()).await;
    let cpu_before = process_cpu();
    let mut samples = Samples {
        measured: load.measure,
        ..Samples::default()
    };
    for handle in clients {
        let run = handle.await.expect("load client panicked");
        samples.times.extend(run.times);
        samples.completed += run.completed;
        samples.body_bytes = run.body_bytes;
    }
    samples.cpu = process_cpu().saturating_sub(cpu_before);
    samples
}

/// User and system CPU time of this process so far (`/proc/self/stat`, in USER_HZ = 100 ticks
/// per second on Linux); zero where that cannot be read.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: count fields after its closing parenthesis.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One request on a new connection: the status and the whole body.
pub async fn fetch(addr: SocketAddr, path: &str, body: &str, token: &str) -> (u16, Bytes) {
    let mut sender = connect(addr).await;
    exchange(&mut sender, request(addr, path, body.to_owned(), token)).await
}

/// Requests on one kept-alive connection, one after the other: each answer's status and size.
pub async fn fetch_each(
    addr: SocketAddr,
    path: &str,
    bodies: Vec<String>,
    token: &str,
) -> Vec<(u16, usize)> {
    let mut sender = connect(addr).await;
    let mut answers = Vec::with_capacity(bodies.len());
    for body in bodies {
        sender.ready().await.expect("connection kept alive");
        let (status, bytes) = exchange(&mut sender, request(addr, path, body, token)).await;
        answers.push((status, bytes.len()));
    }
    answers
}

/// Sends `request` on `sender` and reads the whole answer: its status and body.
async fn exchange(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> (u16, Bytes) {
    let response = sender
        .send_request(request)
        .await
        .expect("send the request");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the answer")
        .to_bytes();
    (status, bytes)
}

async fn connect(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(async move {
        let _closed = connection.await;
    });
    sender
}

fn request(
    addr: SocketAddr,
    path: &str,
    body: impl Into<Bytes>,
    token: &str,
) -> Request<Full<Bytes>> {
    Request::post(path)
        .header(HOST, addr.to_string())
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(body.into()))
        .expect("a valid request")
}

/// What one client saw in the window.
struct ClientRun {
    /// Latencies of the requests sent and answered inside the window.
    times: Vec<Duration>,
    /// Answers completed inside the window (some sent before it).
    completed: usize,
    /// Size of the last answer.
    body_bytes: usize,
}

async fn client(load: Load, counted_from: Instant, until: Instant) -> ClientRun {
    let mut sender = connect(load.addr).await;
    let mut times = Vec::new();
    let mut completed = 0;
    let body_bytes = loop {
        sender.ready().await.expect("connection kept alive");
        let sent = Instant::now();
        let response = sender
            .send_request(request(load.addr, load.path, load.body, load.token))
            .await
            .expect("send the request");
        assert_eq!(response.status(), 200, "the server refused the request");
        // Read to the last byte without keeping the body: a 10 MB answer is only counted.
        let mut body = response.into_body();
        let mut read = 0;
        while let Some(frame) = body.frame().await {
            read += frame
                .expect("read the answer")
                .data_ref()
                .map_or(0, Bytes::len);
        }
        let done = Instant::now();
        if done > until {
            break read;
        }
        if done >= counted_from {
            completed += 1;
        }
        if sent >= counted_from {
            times.push(done - sent);
        }
    };
    ClientRun {
        times,
        completed,
        body_bytes,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
