//! The control API under `/__sandbox/`: the [`Sandbox`] methods over HTTP, for non-Rust users.
//! Requests here are neither counted nor subject to faults. Errors are 400 `{"reason"}`.
//!
//! The per-system calls (state, password, events, messages) act on the first system, or on the
//! one named by `?system=USERNAME` (404 if the sandbox serves none by that name).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::api::{ApiError, parse_body};
use crate::config::{Clock, Settings};
use crate::events::{Event, GenerateEvents, Message};
use crate::faults::FaultRule;
use crate::{ControlError, Sandbox};

pub(crate) fn router() -> Router<Sandbox> {
    Router::new()
        .route("/state", get(state))
        .route("/systems", get(list_systems).post(add_system))
        .route("/reset", post(reset))
        .route("/password", put(set_password))
        .route("/events", post(add_events))
        .route("/events/generate", post(generate_events))
        .route("/messages", post(add_message))
        .route(
            "/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/clock", get(clock).put(set_clock))
        .route("/settings", get(settings).patch(patch_settings))
}

fn ok(body: Value) -> Result<Response, ApiError> {
    Ok(axum::Json(body).into_response())
}

impl From<ControlError> for ApiError {
    fn from(error: ControlError) -> Self {
        Self::bad_request(error.to_string())
    }
}

/// `?system=USERNAME` of the per-system calls.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SystemQuery {
    system: Option<String>,
}

/// The handle for the system the query names, the first system without one.
fn pick(sandbox: Sandbox, query: &SystemQuery) -> Result<Sandbox, ApiError> {
    match &query.system {
        None => Ok(sandbox),
        Some(name) => sandbox.system(name).ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("the sandbox serves no system `{name}`"),
            )
        }),
    }
}

async fn state(
    State(sandbox): State<Sandbox>,
    Query(query): Query<SystemQuery>,
) -> Result<Response, ApiError> {
    ok(json!(pick(sandbox, &query)?.state()))
}

async fn list_systems(State(sandbox): State<Sandbox>) -> Result<Response, ApiError> {
    ok(json!({ "systems": sandbox.systems() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemRequest {
    username: String,
    password: String,
}

async fn add_system(State(sandbox): State<Sandbox>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: SystemRequest = parse_body(&bytes)?;
    sandbox.add_system(request.username, request.password)?;
    ok(json!({ "systems": sandbox.systems() }))
}

async fn reset(State(sandbox): State<Sandbox>) -> Result<Response, ApiError> {
    sandbox.reset();
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordRequest {
    password: String,
}

async fn set_password(
    State(sandbox): State<Sandbox>,
    Query(query): Query<SystemQuery>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: PasswordRequest = parse_body(&bytes)?;
    pick(sandbox, &query)?.set_password(request.password);
    ok(json!({}))
}

/// Untagged enums would answer a mistake with "did not match any variant"; this names the field.
fn one_or_many<T: DeserializeOwned>(bytes: &[u8], key: &str) -> Result<Vec<T>, ApiError> {
    let value: Value = parse_body(bytes)?;
    let list = match value {
        Value::Object(mut object) if object.len() == 1 && object.contains_key(key) => {
            object.remove(key).unwrap_or_default()
        }
        Value::Array(_) => value,
        single => Value::Array(vec![single]),
    };
    serde_json::from_value(list)
        .map_err(|e| ApiError::bad_request(format!("Malformed request body: {e}")))
}

async fn add_events(
    State(sandbox): State<Sandbox>,
    Query(query): Query<SystemQuery>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let sandbox = pick(sandbox, &query)?;
    let events: Vec<Event> = one_or_many(&bytes, "events")?;
    let added = sandbox.add_events(events);
    ok(json!({ "added": added, "eventsStored": sandbox.state().events_stored }))
}

async fn generate_events(
    State(sandbox): State<Sandbox>,
    Query(query): Query<SystemQuery>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let sandbox = pick(sandbox, &query)?;
    let spec: GenerateEvents = parse_body(&bytes)?;
    ok(json!(sandbox.generate_events(&spec)?))
}

async fn add_message(
    State(sandbox): State<Sandbox>,
    Query(query): Query<SystemQuery>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let sandbox = pick(sandbox, &query)?;
    let message: Message = parse_body(&bytes)?;
    ok(json!({ "messageId": sandbox.add_message(message) }))
}

async fn list_faults(State(sandbox): State<Sandbox>) -> Result<Response, ApiError> {
    ok(json!({ "faults": sandbox.faults() }))
}

async fn add_faults(State(sandbox): State<Sandbox>, bytes: Bytes) -> Result<Response, ApiError> {
    let rules: Vec<FaultRule> = one_or_many(&bytes, "faults")?;
    // All or nothing: validate every rule before queueing any.
    rules.iter().try_for_each(FaultRule::validate)?;
    for rule in rules {
        sandbox.add_fault(rule)?;
    }
    ok(json!({ "faults": sandbox.faults() }))
}

async fn clear_faults(State(sandbox): State<Sandbox>) -> Result<Response, ApiError> {
    sandbox.clear_faults();
    ok(json!({ "faults": [] }))
}

/// At most one field; an empty object returns to the machine's clock.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct ClockRequest {
    offset_seconds: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    now: Option<OffsetDateTime>,
    advance_seconds: Option<i64>,
}

fn now_json(sandbox: &Sandbox) -> Result<Response, ApiError> {
    let now = sandbox.now();
    let text = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    ok(json!({ "now": text }))
}

async fn clock(State(sandbox): State<Sandbox>) -> Result<Response, ApiError> {
    now_json(&sandbox)
}

async fn set_clock(State(sandbox): State<Sandbox>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: ClockRequest = parse_body(&bytes)?;
    match (request.offset_seconds, request.now, request.advance_seconds) {
        (None, None, None) => sandbox.set_clock(Clock::Real),
        (Some(offset), None, None) => {
            sandbox.set_clock(Clock::Offset(time::Duration::seconds(offset)))
        }
        (None, Some(now), None) => sandbox.set_clock(Clock::Fixed(now)),
        (None, None, Some(advance)) => sandbox.advance_clock(time::Duration::seconds(advance)),
        _ => {
            return Err(ApiError::bad_request(
                "give at most one of offsetSeconds, now, advanceSeconds",
            ));
        }
    }
    now_json(&sandbox)
}

async fn settings(State(sandbox): State<Sandbox>) -> Result<Response, ApiError> {
    ok(json!(sandbox.settings()))
}

/// Partial update: the fields given replace the current ones.
async fn patch_settings(
    State(sandbox): State<Sandbox>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let patch: serde_json::Map<String, Value> = parse_body(&bytes)?;
    let mut merged = json!(sandbox.settings());
    if let Some(current) = merged.as_object_mut() {
        current.extend(patch);
    }
    let settings: Settings = serde_json::from_value(merged)
        .map_err(|e| ApiError::bad_request(format!("invalid settings: {e}")))?;
    sandbox.update_settings(|current| *current = settings)?;
    ok(json!(sandbox.settings()))
}
