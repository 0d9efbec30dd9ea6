//! In-memory fakes of this crate's ports, for unit tests (here and in the function crates).

use crate::notify::{Alert, Notifier, NotifyError};
use crate::sensitive::{AccessToken, Password};
use crate::suomifi::{
    ApiBase, ApiError, Event, EventMetadata, EventType, EventsPage, SuomifiApi, Token, TraceId,
};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// A [`Notifier`] that records what it is asked to publish, and can be told to fail.
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    sent: Arc<Mutex<Vec<Alert>>>,
    failures: Arc<AtomicUsize>,
}

impl RecordingNotifier {
    /// What was published, in order.
    pub fn sent(&self) -> Vec<Alert> {
        self.sent.lock().expect("lock").clone()
    }

    /// The next `n` publishes fail.
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(NotifyError {
                key: alert.key.clone(),
                detail: "injected failure".into(),
            });
        }
        self.sent.lock().expect("lock").push(alert.clone());
        Ok(())
    }
}

/// An endpoint of [`FakeSuomifi`], for injected failures and call counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FakeEndpoint {
    /// `POST /v1/token`.
    Token,
    /// `POST /v1/change-password`.
    ChangePassword,
    /// `GET /v2/events`.
    Events,
}

#[derive(Debug)]
struct SuomifiState {
    username: String,
    /// A `Password`, so a test that prints the fake prints `***`.
    password: Password,
    /// The feed; a continuation token is `pos-N`, the index of the next event.
    events: Vec<Event>,
    tokens: Vec<AccessToken>,
    failures: HashMap<FakeEndpoint, VecDeque<ApiError>>,
    calls: HashMap<FakeEndpoint, usize>,
    /// API bases the calls went to.
    bases: Vec<String>,
}

/// Events per page of [`FakeSuomifi`], as Suomi.fi's largest page.
const PAGE_SIZE: usize = 1000;

/// An in-memory Suomi.fi for unit tests: one account, one event feed, injected failures. For the
/// HTTP behaviour (status codes, retries, the OpenAPI shape) use the sandbox instead.
#[derive(Debug, Clone)]
pub struct FakeSuomifi {
    state: Arc<Mutex<SuomifiState>>,
}

impl FakeSuomifi {
    /// An account `username` / `password` with an empty feed.
    pub fn new(username: &str, password: &str) -> Self {
        Self {
            state: Arc::new(Mutex::new(SuomifiState {
                username: username.to_owned(),
                password: Password::new(password),
                events: Vec::new(),
                tokens: Vec::new(),
                failures: HashMap::new(),
                calls: HashMap::new(),
                bases: Vec::new(),
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut SuomifiState) -> R) -> R {
        f(&mut self.state.lock().expect("fake Suomi.fi lock"))
    }

    /// Sets the password Suomi.fi accepts (a change made elsewhere).
    pub fn set_password(&self, password: &str) {
        self.with(|s| s.password = Password::new(password));
    }

    /// Appends a `type` event about message `id` of `service` at `at`.
    pub fn push(&self, event_type: EventType, service: &str, at: OffsetDateTime, id: i64) {
        let event = Event {
            event_time: at,
            event_type,
            metadata: EventMetadata {
                message_id: Some(id),
                service_id: Some(service.to_owned()),
                external_id: None,
            },
        };
        self.with(|s| s.events.push(event));
    }

    /// The token a reader that read the whole feed now would resume from.
    pub fn end_token(&self) -> String {
        self.with(|s| format!("pos-{}", s.events.len()))
    }

    /// The next call of `endpoint` fails with `error` (queued: call again for more).
    pub fn fail_next(&self, endpoint: FakeEndpoint, error: ApiError) {
        self.with(|s| s.failures.entry(endpoint).or_default().push_back(error));
    }

    /// How often `endpoint` was called.
    pub fn calls(&self, endpoint: FakeEndpoint) -> usize {
        self.with(|s| s.calls.get(&endpoint).copied().unwrap_or(0))
    }

    /// The API bases called, in order.
    pub fn bases(&self) -> Vec<String> {
        self.with(|s| s.bases.clone())
    }

    /// Counts the call, and pops an injected failure, if any.
    fn enter(&self, endpoint: FakeEndpoint, api: &ApiBase) -> Result<(), ApiError> {
        self.with(|s| {
            *s.calls.entry(endpoint).or_default() += 1;
            s.bases.push(api.as_str().to_owned());
            match s.failures.get_mut(&endpoint).and_then(VecDeque::pop_front) {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
    }

    fn trace() -> TraceId {
        TraceId(Some("fake-trace".into()))
    }
}

impl SuomifiApi for FakeSuomifi {
    async fn token(
        &self,
        api: &ApiBase,
        username: &str,
        password: &Password,
    ) -> Result<Token, ApiError> {
        self.enter(FakeEndpoint::Token, api)?;
        self.with(|s| {
            if s.username != username || s.password != *password {
                return Err(ApiError::AuthenticationFailed {
                    reason: "invalid username or password".into(),
                    trace_id: Self::trace(),
                });
            }
            let token = AccessToken::new(format!("fake-token-{}", s.tokens.len() + 1));
            s.tokens.push(token.clone());
            Ok(Token {
                access_token: token,
                expires_in: 3600,
                trace_id: Self::trace(),
            })
        })
    }

    async fn change_password(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        current: &Password,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        self.enter(FakeEndpoint::ChangePassword, api)?;
        self.with(|s| {
            if !s.tokens.contains(token) {
                return Err(ApiError::Unauthorized {
                    endpoint: "/v1/change-password",
                    trace_id: Self::trace(),
                });
            }
            if s.password != *current {
                return Err(ApiError::PasswordChangeRefused {
                    reason: "current password is wrong".into(),
                    trace_id: Self::trace(),
                });
            }
            s.password = new.clone();
            Ok(Self::trace())
        })
    }

    async fn events_page(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        continuation: Option<&str>,
    ) -> Result<EventsPage, ApiError> {
        self.enter(FakeEndpoint::Events, api)?;
        self.with(|s| {
            if !s.tokens.contains(token) {
                return Err(ApiError::Unauthorized {
                    endpoint: "/v2/events",
                    trace_id: Self::trace(),
                });
            }
            let from = match continuation {
                None => 0,
                Some(c) => match c.strip_prefix("pos-").and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) if n <= s.events.len() => n,
                    _ => {
                        return Err(ApiError::Client {
                            endpoint: "/v2/events",
                            status: 400,
                            reason: "invalid continuationToken".into(),
                            trace_id: Self::trace(),
                        });
                    }
                },
            };
            let to = (from + PAGE_SIZE).min(s.events.len());
            Ok(EventsPage {
                continuation_token: format!("pos-{to}"),
                events: s.events[from..to].to_vec(),
            })
        })
    }
}
