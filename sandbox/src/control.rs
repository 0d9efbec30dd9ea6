//! The control API under `/__sandbox/`: the [`Sandbox`] methods over HTTP, for non-Rust users.
//! Requests here are neither counted nor subject to faults. Errors are 400 `{"reason"}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::api::{parse_body, reason};
use crate::config::{Clock, Settings};
use crate::events::{Event, GenerateEvents, Message};
use crate::faults::FaultRule;
use crate::{ControlError, Sandbox};

pub(crate) fn router() -> Router<Sandbox> {
    Router::new()
        .route("/state", get(state))
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

fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

fn refused(error: ControlError) -> Response {
    reason(StatusCode::BAD_REQUEST, error.to_string())
}

macro_rules! body {
    ($bytes:expr) => {
        match parse_body($bytes) {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

async fn state(State(sandbox): State<Sandbox>) -> Response {
    ok(json!(sandbox.state()))
}

async fn reset(State(sandbox): State<Sandbox>) -> Response {
    sandbox.reset();
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordRequest {
    password: String,
}

async fn set_password(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let request: PasswordRequest = body!(&bytes);
    sandbox.set_password(request.password);
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EventsRequest {
    List(Vec<Event>),
    Wrapped { events: Vec<Event> },
}

async fn add_events(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let (EventsRequest::List(events) | EventsRequest::Wrapped { events }) = body!(&bytes);
    let added = sandbox.add_events(events);
    ok(json!({ "added": added, "eventsStored": sandbox.state().events_stored }))
}

async fn generate_events(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let spec: GenerateEvents = body!(&bytes);
    match sandbox.generate_events(&spec) {
        Ok(generated) => ok(json!(generated)),
        Err(error) => refused(error),
    }
}

async fn add_message(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let message: Message = body!(&bytes);
    ok(json!({ "messageId": sandbox.add_message(message) }))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsRequest {
    List(Vec<FaultRule>),
    One(FaultRule),
}

async fn list_faults(State(sandbox): State<Sandbox>) -> Response {
    ok(json!({ "faults": sandbox.faults() }))
}

async fn add_faults(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let rules = match body!(&bytes) {
        FaultsRequest::List(rules) => rules,
        FaultsRequest::One(rule) => vec![rule],
    };
    if let Err(error) = rules.iter().try_for_each(FaultRule::validate) {
        return refused(error);
    }
    for rule in rules {
        if let Err(error) = sandbox.add_fault(rule) {
            return refused(error);
        }
    }
    ok(json!({ "faults": sandbox.faults() }))
}

async fn clear_faults(State(sandbox): State<Sandbox>) -> Response {
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

fn now_json(sandbox: &Sandbox) -> Response {
    let now = sandbox.now();
    let text = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    ok(json!({ "now": text }))
}

async fn clock(State(sandbox): State<Sandbox>) -> Response {
    now_json(&sandbox)
}

async fn set_clock(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let request: ClockRequest = body!(&bytes);
    match (request.offset_seconds, request.now, request.advance_seconds) {
        (None, None, None) => sandbox.set_clock(Clock::Real),
        (Some(offset), None, None) => {
            sandbox.set_clock(Clock::Offset(time::Duration::seconds(offset)))
        }
        (None, Some(now), None) => sandbox.set_clock(Clock::Fixed(now)),
        (None, None, Some(advance)) => sandbox.advance_clock(time::Duration::seconds(advance)),
        _ => {
            return refused(ControlError::new(
                "give at most one of offsetSeconds, now, advanceSeconds",
            ));
        }
    }
    now_json(&sandbox)
}

async fn settings(State(sandbox): State<Sandbox>) -> Response {
    ok(json!(sandbox.settings()))
}

/// Partial update: the fields given replace the current ones.
async fn patch_settings(State(sandbox): State<Sandbox>, bytes: Bytes) -> Response {
    let patch: serde_json::Map<String, Value> = body!(&bytes);
    let mut merged = json!(sandbox.settings());
    if let Some(current) = merged.as_object_mut() {
        current.extend(patch);
    }
    let settings: Settings = match serde_json::from_value(merged) {
        Ok(settings) => settings,
        Err(e) => return refused(ControlError::new(format!("invalid settings: {e}"))),
    };
    match sandbox.update_settings(|current| *current = settings) {
        Ok(()) => ok(json!(sandbox.settings())),
        Err(error) => refused(error),
    }
}
