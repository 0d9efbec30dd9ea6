use super::base::ApiBase;
use super::error::{ApiError, TraceId, tidy_reason};
use super::model::{EventsPage, Message};
use crate::sensitive::{AccessToken, Password};
use futures::Stream;
use rand::Rng;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How 5xx, transport errors and timeouts are retried (never for change-password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time ("full jitter": a random delay up to it).
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1-based): full jitter over an exponential cap.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(
                1u32.checked_shl(retry.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max_delay);
        let cap_ms = cap.as_millis() as u64;
        if cap_ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::rng().random_range(cap_ms / 2..=cap_ms))
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Retries of idempotent calls.
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }
}

/// An access token from `POST /v1/token`.
#[derive(Debug, Clone)]
pub struct Token {
    /// The bearer token (prints as `***`).
    pub access_token: AccessToken,
    /// Lifetime in seconds as the API reported it.
    pub expires_in: i64,
    /// `traceId` of the token response.
    pub trace_id: TraceId,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    expires_in: i64,
}

#[derive(Deserialize)]
struct ReasonBody {
    #[serde(default)]
    reason: Option<String>,
}

/// The Suomi.fi Messages REST client. Cheap to clone (shares one connection pool).
#[derive(Clone, Debug)]
pub struct SuomifiClient {
    http: reqwest::Client,
    base: ApiBase,
    config: ClientConfig,
}

impl SuomifiClient {
    /// A client for `base`: rustls, TLS ≥ 1.2, no redirects (a redirect could leave HTTPS).
    pub fn new(base: ApiBase, config: ClientConfig) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .tls_version_min(reqwest::tls::Version::TLS_1_2)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("suomifi-ops/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::ClientSetup {
                detail: error_chain(&e),
            })?;
        Ok(Self { http, base, config })
    }

    /// The API base this client talks to.
    pub fn base(&self) -> &ApiBase {
        &self.base
    }

    /// `POST /v1/token`. 400 → [`ApiError::AuthenticationFailed`]. Retried on 5xx/transport.
    pub async fn token(&self, username: &str, password: &Password) -> Result<Token, ApiError> {
        const EP: &str = "/v1/token";
        let body = serde_json::json!({"username": username, "password": password.expose()});
        let (resp, trace_id) = self
            .send_retrying(EP, self.config.retry, || {
                self.http
                    .request(Method::POST, self.base.join(EP))
                    .json(&body)
            })
            .await?;
        match resp.status() {
            s if s.is_success() => {
                let t: TokenBody = read_json(EP, resp, &trace_id).await?;
                if t.access_token.is_empty() {
                    return Err(ApiError::MalformedResponse {
                        endpoint: EP,
                        detail: "empty access_token".into(),
                        trace_id,
                    });
                }
                Ok(Token {
                    access_token: AccessToken::new(t.access_token),
                    expires_in: t.expires_in,
                    trace_id,
                })
            }
            StatusCode::BAD_REQUEST => Err(ApiError::AuthenticationFailed {
                reason: read_reason(resp).await,
                trace_id,
            }),
            _ => Err(other_status(EP, resp, trace_id).await),
        }
    }

    /// `POST /v1/change-password`: exactly one attempt. On [`ApiError::outcome_unknown`] the
    /// password may or may not have changed; the caller must find out (log in with the new one).
    pub async fn change_password(
        &self,
        token: &AccessToken,
        current: &Password,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        const EP: &str = "/v1/change-password";
        let body = serde_json::json!({
            "accessToken": token.expose(),
            "currentPassword": current.expose(),
            "newPassword": new.expose(),
        });
        let (resp, trace_id) = self
            .send_retrying(EP, RetryPolicy::none(), || {
                self.http
                    .request(Method::POST, self.base.join(EP))
                    .json(&body)
            })
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(trace_id),
            StatusCode::BAD_REQUEST => Err(ApiError::PasswordChangeRefused {
                reason: read_reason(resp).await,
                trace_id,
            }),
            _ => Err(other_status(EP, resp, trace_id).await),
        }
    }

    /// `GET /v2/events`, one page, from `continuation` (percent-encoded) or from the start.
    pub async fn events_page(
        &self,
        token: &AccessToken,
        continuation: Option<&str>,
    ) -> Result<EventsPage, ApiError> {
        const EP: &str = "/v2/events";
        let mut url = self.base.join(EP);
        if let Some(c) = continuation {
            url.query_pairs_mut().append_pair("continuationToken", c);
        }
        self.get_json(EP, url, token).await
    }

    /// All pages from `continuation` onward, until the first empty page; one page in memory at a
    /// time. The empty page is yielded too (its token is where a reader would resume).
    pub fn event_pages<'a>(
        &'a self,
        token: &'a AccessToken,
        continuation: Option<String>,
    ) -> EventPages<'a> {
        Box::pin(futures::stream::unfold(
            Some(continuation),
            move |state| async move {
                let from = state?;
                match self.events_page(token, from.as_deref()).await {
                    Ok(page) => {
                        let next = if page.events.is_empty() {
                            None
                        } else {
                            Some(Some(page.continuation_token.clone()))
                        };
                        Some((Ok(page), next))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }

    /// `GET /v2/messages/{id}`.
    pub async fn message(&self, token: &AccessToken, message_id: i64) -> Result<Message, ApiError> {
        const EP: &str = "/v2/messages/{id}";
        let url = self.base.join(&format!("/v2/messages/{message_id}"));
        self.get_json(EP, url, token).await
    }

    /// An authenticated `GET` of JSON, retried per the client's policy.
    async fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: url::Url,
        token: &AccessToken,
    ) -> Result<T, ApiError> {
        let (resp, trace_id) = self
            .send_retrying(endpoint, self.config.retry, || {
                self.http
                    .request(Method::GET, url.clone())
                    .bearer_auth(token.expose())
            })
            .await?;
        if resp.status().is_success() {
            read_json(endpoint, resp, &trace_id).await
        } else {
            Err(other_status(endpoint, resp, trace_id).await)
        }
    }

    /// Sends, retrying 5xx, transport errors and timeouts per `policy`. Returns the first
    /// non-5xx response (any status) with its trace id.
    async fn send_retrying(
        &self,
        endpoint: &'static str,
        policy: RetryPolicy,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(Response, TraceId), ApiError> {
        let attempts = policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = build().send().await;
            let last = attempt >= attempts;
            match outcome {
                Ok(resp) => {
                    let trace_id = trace_id_of(&resp);
                    let status = resp.status();
                    if status.is_server_error() {
                        tracing::warn!(endpoint, status = status.as_u16(), attempt, trace_id = %trace_id, "Suomi.fi server error");
                        if last {
                            return Err(ApiError::Server {
                                endpoint,
                                status: status.as_u16(),
                                attempts: attempt,
                                trace_id,
                            });
                        }
                    } else {
                        return Ok((resp, trace_id));
                    }
                }
                Err(e) => {
                    tracing::warn!(endpoint, attempt, timeout = e.is_timeout(), error = %error_chain(&e), "Suomi.fi request failed");
                    if last {
                        return Err(if e.is_timeout() {
                            ApiError::Timeout {
                                endpoint,
                                attempts: attempt,
                                timeout_ms: self.config.timeout.as_millis(),
                            }
                        } else {
                            ApiError::Transport {
                                endpoint,
                                attempts: attempt,
                                detail: error_chain(&e),
                            }
                        });
                    }
                }
            }
            tokio::time::sleep(policy.delay(attempt)).await;
        }
    }
}

/// A stream of event pages; see [`SuomifiClient::event_pages`].
pub type EventPages<'a> =
    std::pin::Pin<Box<dyn Stream<Item = Result<EventsPage, ApiError>> + Send + 'a>>;

fn trace_id_of(resp: &Response) -> TraceId {
    TraceId(
        resp.headers()
            .get("traceId")
            .and_then(|v| v.to_str().ok())
            .map(tidy_reason),
    )
}

/// The error and its sources on one line, without the URL (it is known from `endpoint`).
fn error_chain(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut out = String::new();
    let mut cur: Option<&dyn Error> = Some(e);
    while let Some(err) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&err.to_string());
        cur = err.source();
    }
    out
}

async fn read_json<T: DeserializeOwned>(
    endpoint: &'static str,
    resp: Response,
    trace_id: &TraceId,
) -> Result<T, ApiError> {
    let bytes = resp.bytes().await.map_err(|e| ApiError::Transport {
        endpoint,
        attempts: 1,
        detail: format!("reading the body: {}", error_chain(&e)),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedResponse {
        endpoint,
        detail: format!("{e}"),
        trace_id: trace_id.clone(),
    })
}

async fn read_reason(resp: Response) -> String {
    match resp.bytes().await {
        Ok(b) => match serde_json::from_slice::<ReasonBody>(&b) {
            Ok(ReasonBody { reason: Some(r) }) => tidy_reason(&r),
            _ => "(no reason given)".into(),
        },
        Err(_) => "(body unreadable)".into(),
    }
}

async fn other_status(endpoint: &'static str, resp: Response, trace_id: TraceId) -> ApiError {
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED {
        return ApiError::Unauthorized { endpoint, trace_id };
    }
    if status.is_client_error() {
        return ApiError::Client {
            endpoint,
            status: status.as_u16(),
            reason: read_reason(resp).await,
            trace_id,
        };
    }
    ApiError::MalformedResponse {
        endpoint,
        detail: format!("unexpected status {status}"),
        trace_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..50 {
            let d1 = p.delay(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.delay(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(p.delay(40) <= Duration::from_millis(1000));
        }
    }
}
