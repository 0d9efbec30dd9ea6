//! Benchmark harness for the functions, measured the way Lambda runs them: a real release binary
//! started by a Lambda Runtime API stand-in, against local stand-ins (moto, the Suomi.fi sandbox,
//! local TLS endpoints). `tools/bench.sh` builds everything and runs `bench-runner`, which prints
//! a Markdown table and writes the results into `BENCHMARKS.md`.
//!
//! This library holds what the binaries share:
//! - [`RuntimeApi`]: the Runtime API stand-in, which also records *when* the process first asked
//!   for work (`GET /invocation/next`) — the end of a cold start as Lambda sees it;
//! - [`Process`]: a function process, with its peak resident memory ([`Process::peak_rss_kib`],
//!   from `VmHWM` in `/proc/<pid>/status`, read while the process is still alive);
//! - [`Stats`]: medians of repeated runs.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

/// What the function answered: `Ok` from `/response`, `Err` from `/error` (both as JSON).
pub type Answer = Result<Value, Value>;

struct Queued {
    id: String,
    event: Value,
}

#[derive(Clone)]
struct ApiState {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    first_next: watch::Sender<Option<Instant>>,
}

/// A Lambda Runtime API for one function process.
pub struct RuntimeApi {
    addr: SocketAddr,
    sender: mpsc::UnboundedSender<Queued>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    first_next: watch::Receiver<Option<Instant>>,
    server: tokio::task::JoinHandle<()>,
    counter: u64,
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(HashMap::new()));
        let (first_tx, first_rx) = watch::channel(None);
        let state = ApiState {
            queue: Arc::new(tokio::sync::Mutex::new(receiver)),
            waiting: waiting.clone(),
            first_next: first_tx,
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            addr,
            sender,
            waiting,
            first_next: first_rx,
            server,
            counter: 0,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// When the process first asked for work, waiting up to `limit` for it.
    pub async fn first_next(&mut self, limit: Duration) -> Option<Instant> {
        let seen = tokio::time::timeout(limit, self.first_next.wait_for(Option::is_some)).await;
        match seen {
            Ok(Ok(at)) => *at,
            _ => None,
        }
    }

    /// Hands `event` to the function and waits up to `limit` for its answer.
    pub async fn invoke(&mut self, event: Value, limit: Duration) -> Result<Answer, String> {
        self.counter += 1;
        let id = format!("bench-{}", self.counter);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().expect("waiting").insert(id.clone(), tx);
        self.sender
            .send(Queued {
                id: id.clone(),
                event,
            })
            .map_err(|_| "runtime API stopped".to_owned())?;
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err("the invocation was dropped".into()),
            Err(_) => {
                self.waiting.lock().expect("waiting").remove(&id);
                Err(format!("no answer within {limit:?}"))
            }
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(s): State<ApiState>) -> impl IntoResponse {
    s.first_next.send_if_modified(|first| {
        if first.is_none() {
            *first = Some(Instant::now());
            true
        } else {
            false
        }
    });
    let Some(q) = s.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 900_000)
        .unwrap_or_default();
    let mut h = HeaderMap::new();
    let pairs = [
        ("Lambda-Runtime-Aws-Request-Id", q.id),
        ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
        (
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:eu-north-1:123456789012:function:bench".to_owned(),
        ),
        (
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000".to_owned(),
        ),
    ];
    for (k, v) in pairs {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    (StatusCode::OK, h, q.event.to_string()).into_response()
}

fn settle(s: &ApiState, id: &str, answer: Answer) {
    if let Some(tx) = s.waiting.lock().expect("waiting").remove(id) {
        let _ = tx.send(answer);
    }
}

async fn response(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    settle(&s, &id, Ok(v));
    StatusCode::ACCEPTED
}

async fn error(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v = serde_json::from_slice(&body).unwrap_or_default();
    settle(&s, &id, Err(v));
    StatusCode::ACCEPTED
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("function init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

/// A function process started as Lambda starts one.
pub struct Process {
    child: Child,
    /// When `spawn` was called: the start of the cold start.
    pub spawned_at: Instant,
}

impl Process {
    /// Starts `binary` with the variables Lambda sets plus `env`. Its output goes to `log`
    /// (appended), so that a failing benchmark can be diagnosed and nothing slows it down.
    pub fn spawn(
        binary: &FsPath,
        api: &RuntimeApi,
        env: &[(String, String)],
        log: &FsPath,
    ) -> std::io::Result<Process> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.addr().to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let child = cmd.spawn()?;
        Ok(Process { child, spawned_at })
    }

    /// Peak resident set size so far, in KiB (`VmHWM`). `None` once the process has exited.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.child.id().and_then(peak_rss_kib)
    }

    /// CPU time used so far, in milliseconds ([`cpu_time_ms`]).
    pub fn cpu_ms(&self) -> Option<f64> {
        self.child.id().and_then(cpu_time_ms)
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// CPU time used so far by every thread of a live process, in milliseconds (the first field of
/// `/proc/<pid>/task/<tid>/schedstat`, nanoseconds on the CPU). Unlike wall-clock time it does
/// not grow when other work on a shared machine makes the process wait for a core.
///
/// A thread may exit between listing the tasks and reading its file: such a thread is left out
/// of the sum rather than failing the whole reading. `None` when the process itself is gone or
/// no thread could be read.
pub fn cpu_time_ms(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns = 0u64;
    let mut read_any = false;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue; // the thread exited meanwhile
        };
        if let Some(v) = stat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
        {
            ns += v;
            read_any = true;
        }
    }
    read_any.then(|| ns as f64 / 1e6)
}

/// `VmHWM` of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Summary of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// How many.
    pub n: usize,
}

impl Stats {
    /// `None` for no samples.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let mid = s.len() / 2;
        let median = if s.len() % 2 == 1 {
            s[mid]
        } else {
            (s[mid - 1] + s[mid]) / 2.0
        };
        Some(Stats {
            median,
            min: s[0],
            max: s[s.len() - 1],
            n: s.len(),
        })
    }
}

/// Where the release binaries are: `$BENCH_BIN_DIR`, else `<workspace>/target/release`.
pub fn release_dir() -> PathBuf {
    std::env::var_os("BENCH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| integration_tests::workspace_root().join("target/release"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn cpu_time_of_this_process_is_readable() {
        // Other tests' threads start and exit while this one reads: the reading must survive it.
        let workers: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| std::hint::black_box((0..200_000u64).sum::<u64>())))
            .collect();
        let ms = cpu_time_ms(std::process::id()).expect("schedstat of self");
        for w in workers {
            w.join().unwrap();
        }
        assert!(ms > 0.0, "{ms}");
    }

    #[test]
    fn cpu_time_of_a_missing_process_is_none() {
        assert_eq!(cpu_time_ms(u32::MAX), None);
    }

    #[test]
    fn peak_rss_of_this_process_is_readable() {
        let kib = peak_rss_kib(std::process::id()).expect("VmHWM of self");
        assert!(kib > 100, "{kib}");
    }
}
