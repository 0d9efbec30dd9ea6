//! The Lambda Runtime API stand-in: runs a real function binary as Lambda does.
//!
//! One implementation of the protocol serves the integration tests, the demo and the bench:
//!
//! - [`RuntimeApi`]: the API itself on a free loopback port. The binary gets
//!   `AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT`, long-polls `GET /2018-06-01/runtime/invocation/next`
//!   and answers with `POST .../invocation/{id}/response` or `.../error`, exactly as in AWS. It
//!   also records *when* the process first asked for work ([`RuntimeApi::first_next`]) — the end
//!   of a cold start as Lambda sees it.
//! - [`FunctionProcess`]: one function process started as Lambda starts one (the variables
//!   Lambda sets, described by a [`Launch`]), its output captured in memory or appended to a
//!   file ([`Output`]).
//! - [`LambdaFunction`]: the two together for the tests — start a binary, invoke it, kill or
//!   restart it (a new execution environment behind the same API), read what it printed (for the
//!   "no secret in any log" assertions).

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
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

/// An error returned by the function (`/invocation/{id}/error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// `errorType` — stable names that alarms filter on.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

/// Why an invocation has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function answered with an error.
    Function(FunctionError),
    /// No answer in time (or the process died).
    NoAnswer(String),
}

impl InvokeError {
    /// The function error, panicking on a missing answer.
    pub fn function(self) -> FunctionError {
        match self {
            Self::Function(f) => f,
            Self::NoAnswer(m) => panic!("expected a function error, got no answer: {m}"),
        }
    }
}

/// What the function answered: `Ok` from `/response` (its JSON), `Err` from `/error`.
pub type Answer = Result<Value, FunctionError>;

/// What the API tells the function about each invocation, besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// How long the function has for each invocation (`Lambda-Runtime-Deadline-Ms` is now plus
    /// this).
    pub deadline: Duration,
}

impl Default for ApiSettings {
    /// The tests' settings: function `test`, 5 minutes per invocation.
    fn default() -> Self {
        Self::for_function("test", Duration::from_secs(300))
    }
}

impl ApiSettings {
    /// Function `name` in the stand-in account, `deadline` per invocation.
    pub fn for_function(name: &str, deadline: Duration) -> Self {
        Self {
            function_arn: format!("arn:aws:lambda:eu-north-1:123456789012:function:{name}"),
            deadline,
        }
    }
}

struct Pending {
    id: String,
    event: Value,
}

#[derive(Clone)]
struct ApiState {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    first_next: watch::Sender<Option<Instant>>,
    settings: Arc<ApiSettings>,
}

/// A Lambda Runtime API on a free loopback port, for the function processes started against it
/// (one at a time, as in one execution environment; invocations handed to a process that dies
/// are lost, as in Lambda).
pub struct RuntimeApi {
    addr: SocketAddr,
    sender: mpsc::UnboundedSender<Pending>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    first_next: watch::Receiver<Option<Instant>>,
    server: tokio::task::JoinHandle<()>,
    counter: u64,
}

impl RuntimeApi {
    /// Listens on a free loopback port, with the tests' [`ApiSettings::default`].
    pub async fn start() -> std::io::Result<RuntimeApi> {
        Self::start_with(ApiSettings::default()).await
    }

    /// Listens on a free loopback port, with `settings`.
    pub async fn start_with(settings: ApiSettings) -> std::io::Result<RuntimeApi> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(HashMap::new()));
        let (first_tx, first_rx) = watch::channel(None);
        let state = ApiState {
            queue: Arc::new(tokio::sync::Mutex::new(receiver)),
            waiting: waiting.clone(),
            first_next: first_tx,
            settings: Arc::new(settings),
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

    /// When a process first asked for work (`GET /invocation/next`), waiting up to `limit` for
    /// it. `None` if none did in time.
    pub async fn first_next(&mut self, limit: Duration) -> Option<Instant> {
        let seen = tokio::time::timeout(limit, self.first_next.wait_for(Option::is_some)).await;
        match seen {
            Ok(Ok(at)) => *at,
            _ => None,
        }
    }

    /// Hands `event` to the function and waits up to `limit` for its answer. `Err` says why
    /// there is none (no answer in time, or the invocation was dropped).
    pub async fn invoke(&mut self, event: Value, limit: Duration) -> Result<Answer, String> {
        self.counter += 1;
        let id = format!("req-{}-{}", self.counter, crate::unique("inv"));
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().expect("waiting").insert(id.clone(), tx);
        self.sender
            .send(Pending {
                id: id.clone(),
                event,
            })
            .expect("runtime API alive");
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err("runtime API dropped the invocation".into()),
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
    let pending = s.queue.lock().await.recv().await;
    match pending {
        Some(p) => {
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| (d + s.settings.deadline).as_millis())
                .unwrap_or_default();
            let mut h = HeaderMap::new();
            h.insert(
                "Lambda-Runtime-Aws-Request-Id",
                p.id.parse().expect("header"),
            );
            h.insert(
                "Lambda-Runtime-Deadline-Ms",
                deadline.to_string().parse().expect("header"),
            );
            h.insert(
                "Lambda-Runtime-Invoked-Function-Arn",
                s.settings.function_arn.parse().expect("header"),
            );
            h.insert(
                "Lambda-Runtime-Trace-Id",
                "Root=1-00000000-000000000000000000000000"
                    .parse()
                    .expect("header"),
            );
            (StatusCode::OK, h, p.event.to_string()).into_response()
        }
        None => StatusCode::GONE.into_response(),
    }
}

fn settle(s: &ApiState, id: &str, answer: Answer) {
    if let Some(tx) = s.waiting.lock().expect("waiting").remove(id) {
        let _ = tx.send(answer);
    }
}

async fn response(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    settle(&s, &id, Ok(value));
    StatusCode::ACCEPTED
}

async fn error(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let e = FunctionError {
        error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
        error_message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    };
    settle(&s, &id, Err(e));
    StatusCode::ACCEPTED
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("function init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

/// The variables Lambda sets for a function process, besides `AWS_LAMBDA_RUNTIME_API`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// `AWS_LAMBDA_FUNCTION_NAME`; the log group is `/aws/lambda/<name>`.
    pub function_name: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub log_stream: String,
    /// `AWS_LAMBDA_LOG_LEVEL`, unset when `None`.
    pub log_level: Option<String>,
    /// The function's own configuration, set last (over Lambda's).
    pub env: Vec<(String, String)>,
}

/// Where a function process's stdout and stderr go.
#[derive(Debug, Clone)]
pub enum Output {
    /// Appended line by line to this buffer.
    Capture(Arc<Mutex<String>>),
    /// Appended to this file (nothing in between to slow the process down).
    AppendTo(PathBuf),
}

/// A function process started as Lambda starts one. Killed when dropped.
pub struct FunctionProcess {
    child: Child,
    /// When it was spawned: the start of the cold start.
    pub spawned_at: Instant,
}

impl FunctionProcess {
    /// Starts `binary` against `api` with only the variables Lambda sets (`launch`; `PATH`
    /// from this process), its output going to `output`.
    pub fn spawn(
        binary: &FsPath,
        api: &RuntimeApi,
        launch: &Launch,
        output: &Output,
    ) -> std::io::Result<FunctionProcess> {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.addr().to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &launch.function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &launch.log_stream)
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", launch.function_name),
            )
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON");
        if let Some(level) = &launch.log_level {
            cmd.env("AWS_LAMBDA_LOG_LEVEL", level);
        }
        cmd.envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match output {
            Output::Capture(_) => {
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
            Output::AppendTo(path) => {
                let out = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                let err = out.try_clone()?;
                cmd.stdout(out).stderr(err);
            }
        }
        let spawned_at = Instant::now();
        let mut child = cmd.spawn()?;
        if let Output::Capture(logs) = output {
            for stream in [
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            ]
            .into_iter()
            .flatten()
            {
                let logs = logs.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stream).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let mut l = logs.lock().expect("logs");
                        l.push_str(&line);
                        l.push('\n');
                    }
                });
            }
        }
        Ok(FunctionProcess { child, spawned_at })
    }

    /// The process id, `None` once it has been reaped.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Sends SIGKILL without waiting.
    pub fn start_kill(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A function process behind its own Runtime API, as the tests drive it.
pub struct LambdaFunction {
    binary: PathBuf,
    launch: Launch,
    api: RuntimeApi,
    process: Option<FunctionProcess>,
    logs: Arc<Mutex<String>>,
}

impl LambdaFunction {
    /// Starts the Runtime API and the binary `name` (see [`crate::binary`]) with `env` on top
    /// of the variables Lambda itself sets.
    pub async fn start(name: &str, env: Vec<(String, String)>) -> LambdaFunction {
        let api = RuntimeApi::start().await.expect("bind runtime API");
        let mut f = LambdaFunction {
            binary: crate::binary(name),
            launch: Launch {
                function_name: name.to_owned(),
                log_stream: "test".into(),
                log_level: Some("TRACE".into()),
                env,
            },
            api,
            process: None,
            logs: Arc::new(Mutex::new(String::new())),
        };
        f.spawn_process();
        f
    }

    fn spawn_process(&mut self) {
        let output = Output::Capture(self.logs.clone());
        let process = FunctionProcess::spawn(&self.binary, &self.api, &self.launch, &output)
            .expect("start function binary");
        self.process = Some(process);
    }

    /// Invokes the function with `event` and waits (up to 60 s) for its answer.
    pub async fn invoke(&mut self, event: Value) -> Result<Value, InvokeError> {
        self.invoke_within(event, Duration::from_secs(60)).await
    }

    /// Invokes with a deadline.
    pub async fn invoke_within(
        &mut self,
        event: Value,
        limit: Duration,
    ) -> Result<Value, InvokeError> {
        match self.api.invoke(event, limit).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(InvokeError::Function(e)),
            Err(m) => Err(InvokeError::NoAnswer(m)),
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or a Lambda timeout would.
    pub async fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill().await;
        }
    }

    /// Starts a fresh process (a new execution environment: a cold start).
    pub async fn restart(&mut self) {
        self.kill().await;
        // Invocations handed to the dead process are lost, as in Lambda.
        self.spawn_process();
    }

    /// Everything the process printed so far (stdout and stderr).
    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").clone()
    }
}

impl Drop for LambdaFunction {
    fn drop(&mut self) {
        if let Some(p) = self.process.as_mut() {
            p.start_kill();
        }
        // The API's own drop stops its server.
    }
}
