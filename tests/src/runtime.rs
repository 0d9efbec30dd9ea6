//! A Lambda Runtime API stand-in: runs a real function binary as Lambda does.
//!
//! The binary gets `AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT` and the other variables Lambda sets;
//! it long-polls `GET /2018-06-01/runtime/invocation/next`, and answers with
//! `POST .../invocation/{id}/response` or `.../error`, exactly as in AWS. Its stdout and stderr are
//! captured (for the "no secret in any log" assertions).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// An error returned by the function (`/invocation/{id}/error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// `errorType` — stable names that alarms filter on.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
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

type Outcome = Result<Value, FunctionError>;

struct Pending {
    id: String,
    event: Value,
}

#[derive(Clone)]
struct ApiState {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
}

/// A function process behind its own Runtime API.
pub struct LambdaFunction {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    addr: std::net::SocketAddr,
    sender: mpsc::UnboundedSender<Pending>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
    child: Option<Child>,
    logs: Arc<Mutex<String>>,
    server: tokio::task::JoinHandle<()>,
    counter: u64,
}

impl LambdaFunction {
    /// Starts the Runtime API and the binary `name` (see [`crate::binary`]) with `env` on top
    /// of the variables Lambda itself sets.
    pub async fn start(name: &str, env: Vec<(String, String)>) -> LambdaFunction {
        let (sender, receiver) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(HashMap::new()));
        let state = ApiState {
            queue: Arc::new(tokio::sync::Mutex::new(receiver)),
            waiting: waiting.clone(),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime API");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut f = LambdaFunction {
            name: name.to_owned(),
            binary: crate::binary(name),
            env,
            addr,
            sender,
            waiting,
            child: None,
            logs: Arc::new(Mutex::new(String::new())),
            server,
            counter: 0,
        };
        f.spawn_process();
        f
    }

    fn spawn_process(&mut self) {
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            )
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("start function binary");
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
            let logs = self.logs.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut l = logs.lock().expect("logs");
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        self.child = Some(child);
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
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(InvokeError::Function(e)),
            Ok(Err(_)) => Err(InvokeError::NoAnswer(
                "runtime API dropped the invocation".into(),
            )),
            Err(_) => {
                self.waiting.lock().expect("waiting").remove(&id);
                Err(InvokeError::NoAnswer(format!("no answer within {limit:?}")))
            }
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or a Lambda timeout would.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
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
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
        self.server.abort();
    }
}

async fn next(State(s): State<ApiState>) -> impl IntoResponse {
    let pending = s.queue.lock().await.recv().await;
    match pending {
        Some(p) => {
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 300_000)
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
                "arn:aws:lambda:eu-north-1:123456789012:function:test"
                    .parse()
                    .expect("header"),
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

async fn response(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    if let Some(tx) = s.waiting.lock().expect("waiting").remove(&id) {
        let _ = tx.send(Ok(value));
    }
    StatusCode::ACCEPTED
}

async fn error(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let e = FunctionError {
        error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
        error_message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    };
    if let Some(tx) = s.waiting.lock().expect("waiting").remove(&id) {
        let _ = tx.send(Err(e));
    }
    StatusCode::ACCEPTED
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("function init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}
