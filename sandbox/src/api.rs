//! The Suomi.fi Messages REST endpoints, the fault-injection layer and the `traceId` header.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::info;

use crate::events::EventView;
use crate::faults::{Endpoint, Fault};
use crate::server::ConnectionHandle;
use crate::state::{ChangeRefusal, State as SandboxState, System, TokenRefusal};
use crate::{COOL_DOWN_REASON, Sandbox, control};

/// `reason` of a token request with wrong credentials.
const BAD_CREDENTIALS_REASON: &str = "Invalid username or password";

const TRACE_ID: HeaderName = HeaderName::from_static("traceid");

/// The whole application: API, control API under `/__sandbox`, 404 fallback, `traceId` on every answer.
pub(crate) fn router(sandbox: Sandbox) -> Router {
    let faults = |endpoint: Endpoint| {
        middleware::from_fn_with_state((sandbox.clone(), endpoint), inject_faults)
    };
    Router::new()
        .route("/v1/token", post(token).layer(faults(Endpoint::Token)))
        .route(
            "/v1/change-password",
            post(change_password).layer(faults(Endpoint::ChangePassword)),
        )
        .route("/v2/events", get(events).layer(faults(Endpoint::Events)))
        .route(
            "/v2/messages/{message_id}",
            get(message).layer(faults(Endpoint::Messages)),
        )
        .route(
            "/v1/attachments/{attachment_id}",
            get(attachment).layer(faults(Endpoint::Attachments)),
        )
        .nest("/__sandbox", control::router())
        .fallback(not_found)
        .layer(middleware::from_fn(trace_id))
        .with_state(sandbox)
}

/// An error answer in the API's shape: `{"reason": ...}`.
pub(crate) struct ApiError {
    status: StatusCode,
    reason: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    pub(crate) fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "reason": self.reason }))).into_response()
    }
}

/// Parses a JSON body whatever its `Content-Type`; a malformed one is a 400 with a reason.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed request body: {e}")))
}

async fn trace_id(request: Request, next: Next) -> Response {
    let id = format!("{:032x}", rand::random::<u128>());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    info!(trace_id = %id, %method, %path, status = response.status().as_u16(), "request");
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(TRACE_ID, value);
    }
    response
}

async fn inject_faults(
    State((sandbox, endpoint)): State<(Sandbox, Endpoint)>,
    request: Request,
    next: Next,
) -> Response {
    let fault = sandbox.lock().begin_request(endpoint);
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    info!(?endpoint, ?fault, "injecting fault");
    match fault {
        Fault::ServerError { status } => ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Injected server error (suomifi-sandbox)",
        )
        .into_response(),
        Fault::Delay { millis } => {
            let response = next.run(request).await;
            tokio::time::sleep(Duration::from_millis(millis)).await;
            response
        }
        Fault::LoseResponse => {
            let connection = request.extensions().get::<ConnectionHandle>().cloned();
            // Apply the request for real, then throw the answer away with the connection.
            let _lost = next.run(request).await;
            if let Some(connection) = connection {
                connection.close_without_response();
            }
            // The connection task drops this future together with the connection.
            std::future::pending().await
        }
        Fault::CoolDown => ApiError::bad_request(COOL_DOWN_REASON).into_response(),
        Fault::RefuseToken => ApiError::bad_request(BAD_CREDENTIALS_REASON).into_response(),
    }
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "No such endpoint: {} {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Accepts `Authorization: Bearer <token>` and a bare `Authorization: <token>`; the system the
/// token was issued to.
fn authorize<'s>(state: &'s SandboxState, headers: &HeaderMap) -> Result<&'s System, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Missing Authorization header",
        ));
    };
    let value = value.to_str().unwrap_or_default().trim();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    };
    match state.check_token(token) {
        Ok(index) => Ok(state.system(index)),
        Err(refusal) => {
            let text = match refusal {
                TokenRefusal::Unknown => "Invalid access token",
                TokenRefusal::Expired => "Access token has expired",
            };
            Err(ApiError::new(StatusCode::UNAUTHORIZED, text))
        }
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    username: String,
    password: String,
}

async fn token(State(sandbox): State<Sandbox>, body: Bytes) -> Result<Response, ApiError> {
    let request: TokenRequest = parse_body(&body)?;
    let issued = sandbox
        .lock()
        .issue_token(&request.username, &request.password);
    let (token, expires_in) =
        issued.ok_or_else(|| ApiError::bad_request(BAD_CREDENTIALS_REASON))?;
    Ok(Json(json!({
        "access_token": token,
        "expires_in": expires_in,
        "token_type": "Bearer",
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePasswordRequest {
    access_token: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(sandbox): State<Sandbox>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ChangePasswordRequest = parse_body(&body)?;
    let outcome = sandbox.lock().change_password(
        &request.access_token,
        &request.current_password,
        &request.new_password,
    );
    let text = match outcome {
        Ok(()) => return Ok(Json(json!({})).into_response()),
        Err(ChangeRefusal::InvalidToken) => "Invalid or expired access token",
        Err(ChangeRefusal::WrongCurrentPassword) => "Current password is incorrect",
        Err(ChangeRefusal::CoolDown) => COOL_DOWN_REASON,
        Err(ChangeRefusal::SameAsCurrent) => "New password must differ from the current password",
        Err(ChangeRefusal::RecentlyUsed) => "New password has been used recently",
        Err(ChangeRefusal::Policy(broken)) => {
            // The API's validation-error shape: the reason plus one entry per broken rule.
            let rules: Vec<String> = broken.iter().map(ToString::to_string).collect();
            let errors: Vec<_> = broken
                .iter()
                .map(|rule| {
                    // DVV's `ValidationError`: `error` text; its `errorCode` enum has no
                    // password codes, so none is sent.
                    json!({ "error": format!("newPassword {rule}") })
                })
                .collect();
            let reason = format!(
                "New password does not meet the password policy: it {}",
                rules.join("; it ")
            );
            let body = json!({ "reason": reason, "validationErrors": errors });
            return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
        }
    };
    Err(ApiError::bad_request(text))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EventsPage<'a> {
    continuation_token: String,
    events: Vec<EventView<'a>>,
}

async fn events(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query.unwrap_or_default();
    let continuation = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "continuationToken")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty());
    let state = sandbox.lock();
    let system = authorize(&state, &headers)?;
    let start = match continuation {
        None => 0,
        Some(token) => system
            .events
            .decode_cursor(&token)
            .ok_or_else(|| ApiError::bad_request("Invalid continuationToken"))?,
    };
    let (events, next) =
        system
            .events
            .page(start, state.settings.page_size, state.retention_cutoff_ms());
    let page = EventsPage {
        continuation_token: system.events.encode_cursor(next),
        events,
    };
    let body = serde_json::to_vec(&page)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

async fn message(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(message_id): Path<String>,
) -> Result<Response, ApiError> {
    let state = sandbox.lock();
    let system = authorize(&state, &headers)?;
    let id: i64 = message_id
        .parse()
        .map_err(|_| ApiError::bad_request("messageId must be an integer"))?;
    let body = system
        .events
        .message_json(id, state.retention_cutoff_ms())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("Message {id} not found")))?;
    Ok(Json(body).into_response())
}

async fn attachment(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(attachment_id): Path<String>,
) -> Result<Response, ApiError> {
    let state = sandbox.lock();
    let system = authorize(&state, &headers)?;
    let found = system.events.attachment(&attachment_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Attachment {attachment_id} not found"),
        )
    })?;
    Ok((
        [(CONTENT_TYPE, found.media_type.clone())],
        found.content.clone(),
    )
        .into_response())
}
