//! An OSV API stand-in (`POST /v1/querybatch`, `GET /v1/vulns/{id}`) on a loopback port.
//!
//! It answers like api.osv.dev in shape, with three differences on purpose:
//! - a query matches every published advisory naming the crate in the `crates.io` ecosystem,
//!   whatever the version — so the function's own version check is what decides (an advisory
//!   for a version it does not link must still change nothing);
//! - results come in pages of [`OsvStandIn::set_page_size`] ids (default 1), continued with
//!   `next_page_token`, so every run exercises pagination;
//! - [`Mode::ServerError`] answers 503 to everything, [`Mode::Malformed`] answers 200 with a
//!   body that is not OSV's.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Like OSV.
    Normal,
    /// 503 to every request.
    ServerError,
    /// 200 with a body that is not OSV's.
    Malformed,
}

#[derive(Debug)]
struct Inner {
    vulns: Vec<Value>,
    mode: Mode,
    page_size: usize,
    /// Number of queries in each `querybatch` received.
    batches: Vec<usize>,
}

/// A running stand-in. Stops when dropped.
#[derive(Debug)]
pub struct OsvStandIn {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    server: tokio::task::JoinHandle<()>,
}

impl OsvStandIn {
    /// Starts on a free loopback port.
    pub async fn start() -> OsvStandIn {
        let inner = Arc::new(Mutex::new(Inner {
            vulns: Vec::new(),
            mode: Mode::Normal,
            page_size: 1,
            batches: Vec::new(),
        }));
        let app = Router::new()
            .route("/v1/querybatch", post(querybatch))
            .route("/v1/vulns/{id}", get(vuln))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind OSV stand-in");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        OsvStandIn {
            base,
            inner,
            server,
        }
    }

    /// Publishes (or replaces, by `id`) an advisory in OSV's JSON.
    pub fn publish(&self, vuln: Value) {
        let mut inner = self.inner.lock().expect("lock");
        inner.vulns.retain(|v| v["id"] != vuln["id"]);
        inner.vulns.push(vuln);
    }

    /// Removes an advisory.
    pub fn remove(&self, id: &str) {
        self.inner
            .lock()
            .expect("lock")
            .vulns
            .retain(|v| v["id"] != id);
    }

    /// Sets how it answers.
    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().expect("lock").mode = mode;
    }

    /// Ids per page (at least 1).
    pub fn set_page_size(&self, n: usize) {
        self.inner.lock().expect("lock").page_size = n.max(1);
    }

    /// The number of queries in each `querybatch` received so far.
    pub fn batches(&self) -> Vec<usize> {
        self.inner.lock().expect("lock").batches.clone()
    }
}

impl Drop for OsvStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn names_crate(vuln: &Value, name: &str) -> bool {
    vuln["affected"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["package"]["ecosystem"] == "crates.io" && a["package"]["name"] == name)
}

fn refuse(mode: Mode) -> Option<Response> {
    match mode {
        Mode::Normal => None,
        Mode::ServerError => Some(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html>503 Service Unavailable</html>",
            )
                .into_response(),
        ),
        Mode::Malformed => Some(Json(json!({"results": "not a list", "vulns": 7})).into_response()),
    }
}

async fn querybatch(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    let mut inner = inner.lock().expect("lock");
    if let Some(r) = refuse(inner.mode) {
        return r;
    }
    let queries = body["queries"].as_array().cloned().unwrap_or_default();
    inner.batches.push(queries.len());
    if queries.len() > 1000 {
        return (StatusCode::BAD_REQUEST, "too many queries").into_response();
    }
    let results: Vec<Value> = queries
        .iter()
        .map(|q| {
            let name = q["package"]["name"].as_str().unwrap_or_default();
            let ids: Vec<&Value> = inner
                .vulns
                .iter()
                .filter(|v| q["package"]["ecosystem"] == "crates.io" && names_crate(v, name))
                .map(|v| &v["id"])
                .collect();
            let start: usize = q["page_token"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let end = (start + inner.page_size).min(ids.len());
            let page: Vec<Value> = ids
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(|id| json!({"id": id, "modified": "2099-01-01T00:00:00Z"}))
                .collect();
            if end < ids.len() {
                json!({"vulns": page, "next_page_token": end.to_string()})
            } else if page.is_empty() {
                json!({})
            } else {
                json!({"vulns": page})
            }
        })
        .collect();
    Json(json!({ "results": results })).into_response()
}

async fn vuln(State(inner): State<Arc<Mutex<Inner>>>, Path(id): Path<String>) -> Response {
    let inner = inner.lock().expect("lock");
    if let Some(r) = refuse(inner.mode) {
        return r;
    }
    match inner.vulns.iter().find(|v| v["id"] == id.as_str()) {
        Some(v) => Json(v.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"code": 5, "message": "Bug not found."})),
        )
            .into_response(),
    }
}
