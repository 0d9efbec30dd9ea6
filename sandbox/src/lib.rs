//! A local stand-in for the Suomi.fi Messages REST API, with fault injection.
//!
//! Any Suomi.fi REST client works against it unchanged apart from the base URL. It is meant for
//! integration tests and benchmarks (in-process, through [`Sandbox::start`]), for demos, and for
//! organisations developing their own retrieval processes (the `suomifi-sandbox` binary).
//!
//! ```no_run
//! use suomifi_sandbox::{Endpoint, Event, Fault, FaultRule, GenerateEvents, Sandbox, SandboxConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start(SandboxConfig::new("my-system", "Initial-Password-0123456789-abcdefgh")).await?;
//! sandbox.generate_events(&GenerateEvents::count(2_500))?;
//! sandbox.add_event(Event::end_user_message(42, "my-service"));
//! sandbox.add_fault(FaultRule::once(Endpoint::ChangePassword, Fault::LoseResponse))?;
//! let base_url = sandbox.base_url(); // http://127.0.0.1:PORT — give it to the client under test
//! # let _ = base_url;
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # The API it serves
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /v1/token` `{"username","password"}` | 200 `{"access_token","expires_in","token_type":"Bearer"}`; wrong credentials or malformed body: **400** `{"reason"}` |
//! | `POST /v1/change-password` `{"accessToken","currentPassword","newPassword"}` | 200 `{}`; 400 `{"reason"}` for an invalid token, a wrong current password, the cool-down ([`COOL_DOWN_REASON`]), a policy violation (also `validationErrors`), the current password again, or (if [`Settings::password_history`] > 0) a recent one |
//! | `GET /v2/events?continuationToken=…` | 200 `{"continuationToken","events"}`; at most [`Settings::page_size`] events; at the end an empty list and a token that resumes at the same place; unknown token: 400 |
//! | `GET /v2/messages/{id}` | 200 message JSON for known end-user messages, else 404 |
//! | `GET /v1/attachments/{attachmentId}` | the bytes of attachments added with [`Sandbox::add_message`] (`attachmentId` a UUID string, as in DVV's description), else 404 |
//!
//! # Several systems
//!
//! An organisation has one API user per Suomi.fi system. The sandbox serves any number of them
//! ([`SandboxConfig::with_system`], [`Sandbox::add_system`], `--system` on the command line), each
//! with its own password, password history, cool-down, events and messages: a token is issued to
//! one system, and the events, messages and password change it is used for are that system's.
//!
//! The three `GET`s need `Authorization: Bearer <token>` (a bare token works too): missing,
//! unknown or expired tokens get 401 `{"reason"}`. Every answer carries a unique `traceId` header
//! (sent as `traceid`; header names are case-insensitive). Continuation tokens are base64 and
//! always contain `+`, `/` and `=`, so a client that does not percent-encode them gets a 400.
//! Token expiry, the cool-down and the 60-day retention are measured on the sandbox clock
//! ([`Sandbox::set_clock`], [`Sandbox::advance_clock`]); events in its future are served anyway.
//!
//! # Faults
//!
//! [`FaultRule`]s queue up; each request takes the first rule matching its [`Endpoint`] and uses up
//! one of its [`Times`]. What each [`Fault`] does is documented on its variant; in short:
//! `ServerError` answers 5xx and does nothing, `LoseResponse` does the work and then closes the
//! connection without a byte of answer (the client sees "connection closed before message
//! completed", not a timeout), `Delay` does the work and holds the answer back, `CoolDown` and
//! `RefuseToken` give the real refusal answers.
//!
//! # Control API over HTTP
//!
//! The same operations as the [`Sandbox`] methods, JSON in and out, under `/__sandbox/`. It has
//! no authentication and exposes the password: keep the sandbox on loopback.
//!
//! | Request | Body | Does |
//! |---|---|---|
//! | `GET /__sandbox/state` | | [`SandboxState`]: password, changes, last change, requests per endpoint, tokens issued, … |
//! | `GET`/`POST /__sandbox/systems` | `POST`: `{"username","password"}` | list / add a system → `{"systems":[…]}` |
//! | `POST /__sandbox/reset` | | back to the start configuration ([`Sandbox::reset`]) |
//! | `PUT /__sandbox/password` | `{"password"}` | set the password without it counting as a change |
//! | `POST /__sandbox/events` | an [`Event`], a list, or `{"events":[…]}` | append events ([`Event`] shows the JSON) → `{"added","eventsStored"}` |
//! | `POST /__sandbox/events/generate` | [`GenerateEvents`] | bulk-append → [`Generated`] |
//! | `POST /__sandbox/messages` | [`Message`] | add an end-user message and its event → `{"messageId"}` |
//! | `GET`/`POST`/`DELETE /__sandbox/faults` | `POST`: a [`FaultRule`], a list, or `{"faults":[…]}` | list / queue / clear → `{"faults":[…]}` |
//! | `GET`/`PUT /__sandbox/clock` | `{"offsetSeconds": n}`, `{"now": RFC 3339}`, `{"advanceSeconds": n}` or `{}` (machine clock) | → `{"now"}` |
//! | `GET`/`PATCH /__sandbox/settings` | some [`Settings`] fields | partial update → the settings |
//!
//! `state`, `password`, `events`, `events/generate` and `messages` act on the first system, or
//! on the one named by `?system=USERNAME`.
//!
//! Example: `curl -X POST localhost:8080/__sandbox/faults -d
//! '{"endpoint":"change-password","fault":{"kind":"loseResponse"}}'`.

#![deny(missing_docs)]

mod api;
mod config;
mod control;
mod events;
mod faults;
mod policy;
mod server;
mod state;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use config::{
    Clock, DEFAULT_PASSWORD, DEFAULT_USERNAME, SandboxConfig, Settings, SystemCredentials,
};
pub use events::{
    Attachment, DEFAULT_SERVICE_ID, Event, GenerateEvents, Generated, Message, event_types,
};
pub use faults::{Endpoint, Fault, FaultRule, Times};
pub use policy::{MIN_PASSWORD_CHARS, PolicyViolation, check_password_policy};
pub use state::RequestCounts;

use state::State;

/// `reason` of a password change refused because of the cool-down (the real text is undocumented).
pub const COOL_DOWN_REASON: &str = "Password was changed too recently, try again later";

/// A control operation was given something it cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlError(String);

impl ControlError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ControlError {}

/// A snapshot of one system of the sandbox, for assertions (`GET /__sandbox/state`, camelCase
/// JSON). Requests, faults, clock and settings are the whole sandbox's.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxState {
    /// The API username of this system.
    pub username: String,
    /// Every system's username, the first one first.
    pub systems: Vec<String>,
    /// The password that `POST /v1/token` accepts now.
    pub password: String,
    /// Successful `change-password` calls (those hit by `LoseResponse` included).
    pub password_changes: u64,
    /// Sandbox-clock time of the last successful change.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_password_change: Option<OffsetDateTime>,
    /// Tokens issued since start or reset.
    pub tokens_issued: u64,
    /// Logins refused for a wrong username or password (faults injected on the token endpoint
    /// are not counted: they are not the client's mistake).
    pub failed_logins: u64,
    /// Issued tokens that are still valid.
    pub active_tokens: usize,
    /// Requests received per endpoint, all systems together.
    pub requests: RequestCounts,
    /// "Now" on the sandbox clock.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    /// Events stored (including those past retention, which are no longer served).
    pub events_stored: usize,
    /// End-user messages stored.
    pub messages_stored: usize,
    /// Fault rules still queued, with their remaining counts.
    pub pending_faults: Vec<FaultRule>,
    /// Current settings.
    pub settings: Settings,
}

// Hand-written so that a password never reaches a log through `{:?}`.
impl fmt::Debug for SandboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxState")
            .field("username", &self.username)
            .field("systems", &self.systems)
            .field("password", &"***")
            .field("password_changes", &self.password_changes)
            .field("last_password_change", &self.last_password_change)
            .field("tokens_issued", &self.tokens_issued)
            .field("failed_logins", &self.failed_logins)
            .field("active_tokens", &self.active_tokens)
            .field("requests", &self.requests)
            .field("now", &self.now)
            .field("events_stored", &self.events_stored)
            .field("messages_stored", &self.messages_stored)
            .field("pending_faults", &self.pending_faults)
            .field("settings", &self.settings)
            .finish()
    }
}

/// The sandbox's state and its control operations. Cheap to clone; clones share the state.
///
/// Obtained from a [`RunningSandbox`] (which dereferences to it) or [`RunningSandbox::sandbox`].
/// Every method takes a short, synchronous lock, so it can be called from any thread or runtime.
///
/// A handle speaks for one **system** (one API user): the first one of the configuration, or the
/// one [`system`](Self::system) / [`add_system`](Self::add_system) returned. Passwords, events,
/// messages and [`state`](Self::state) are that system's; faults, the clock, settings and
/// [`reset`](Self::reset) are the whole sandbox's.
#[derive(Clone)]
pub struct Sandbox {
    state: Arc<Mutex<State>>,
    system: usize,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts serving on `config.addr`, as a task on the caller's tokio runtime.
    ///
    /// The server runs as long as that runtime does, until [`RunningSandbox::shutdown`] or until
    /// the [`RunningSandbox`] is dropped.
    pub async fn start(config: SandboxConfig) -> io::Result<RunningSandbox> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let sandbox = Self::new(config);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(server::serve(
            listener,
            api::router(sandbox.clone()),
            stopped,
        ));
        Ok(RunningSandbox {
            sandbox,
            addr,
            stop,
            runner: Some(Runner::Task(task)),
        })
    }

    /// Starts serving on `config.addr` on a thread of its own with its own single-threaded
    /// runtime, for callers without a runtime (blocking clients, benchmark harnesses) or that
    /// must not share theirs. Needs no runtime; may also be called from inside one.
    pub fn start_in_thread(config: SandboxConfig) -> io::Result<RunningSandbox> {
        let listener = std::net::TcpListener::bind(config.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let sandbox = Self::new(config);
        let router = api::router(sandbox.clone());
        let (stop, stopped) = watch::channel(false);
        let (done, finished) = oneshot::channel();
        std::thread::Builder::new()
            .name("suomifi-sandbox".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => server::serve(listener, router, stopped).await,
                        Err(error) => tracing::error!(%error, "sandbox listener unusable"),
                    }
                });
                let _ = done.send(());
            })?;
        Ok(RunningSandbox {
            sandbox,
            addr,
            stop,
            runner: Some(Runner::Thread(finished)),
        })
    }

    fn new(config: SandboxConfig) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::new(config))),
            system: 0,
        }
    }

    /// A handle for the system with this username, if the sandbox serves one.
    pub fn system(&self, username: &str) -> Option<Self> {
        let index = self.lock().find(username)?;
        Some(Self {
            state: Arc::clone(&self.state),
            system: index,
        })
    }

    /// Serves one more system (API user) with its own password, cool-down and events, and
    /// returns its handle. Refused for an empty or already used username. A [`reset`](Self::reset)
    /// removes it again (back to the start configuration).
    pub fn add_system(
        &self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Self, ControlError> {
        let index = self
            .lock()
            .add_system(&username.into(), &password.into())
            .map_err(ControlError::new)?;
        Ok(Self {
            state: Arc::clone(&self.state),
            system: index,
        })
    }

    /// Every system's username, the first one first.
    pub fn systems(&self) -> Vec<String> {
        self.lock()
            .systems
            .iter()
            .map(|s| s.username.clone())
            .collect()
    }

    /// Never held across an `.await`. A panic while holding it cannot leave the state half-done
    /// in a way that matters to a test double, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns to the start configuration: its systems and passwords, settings, machine clock;
    /// no added systems, events, messages, tokens, faults or counts. Continuation tokens issued before are refused (400).
    pub fn reset(&self) {
        self.lock().reset();
    }

    /// A snapshot for assertions.
    pub fn state(&self) -> SandboxState {
        let state = self.lock();
        let system = state.system(self.system);
        SandboxState {
            username: system.username.clone(),
            systems: state.systems.iter().map(|s| s.username.clone()).collect(),
            password: system.password.clone(),
            password_changes: system.password_changes,
            last_password_change: system.last_password_change,
            tokens_issued: system.tokens_issued,
            failed_logins: system.failed_logins,
            active_tokens: state.active_tokens(self.system),
            requests: state.requests,
            now: state.now(),
            events_stored: system.events.len(),
            messages_stored: system.events.message_count(),
            pending_faults: state.faults.clone(),
            settings: state.settings.clone(),
        }
    }

    /// The password that `POST /v1/token` accepts now.
    pub fn password(&self) -> String {
        self.lock().system(self.system).password.clone()
    }

    /// Sets the password directly: not a "change" (no policy, cool-down or history, not counted).
    pub fn set_password(&self, password: impl Into<String>) {
        self.lock().set_password(self.system, password.into());
    }

    /// Appends one event (see [`add_events`](Self::add_events)).
    pub fn add_event(&self, event: Event) {
        self.add_events([event]);
    }

    /// Appends events, served in the order added, each with its type, metadata and extra fields
    /// exactly as given. An `Electronic message from end user` event with an integer `messageId`
    /// also makes that message retrievable (generated title and body). Returns how many were added.
    pub fn add_events(&self, events: impl IntoIterator<Item = Event>) -> usize {
        let mut state = self.lock();
        let now = state.now();
        let mut added = 0;
        let store = &mut state.system_mut(self.system).events;
        for event in events {
            store.add(event, now);
            added += 1;
        }
        added
    }

    /// Appends many generated events cheaply (a million take a few tens of megabytes).
    pub fn generate_events(&self, spec: &GenerateEvents) -> Result<Generated, ControlError> {
        let mut state = self.lock();
        let now = state.now();
        state.system_mut(self.system).events.generate(spec, now)
    }

    /// Adds an end-user message with chosen content and appends its event. Returns its id.
    pub fn add_message(&self, message: Message) -> i64 {
        let mut state = self.lock();
        let now = state.now();
        state
            .system_mut(self.system)
            .events
            .add_message(message, now)
    }

    /// Queues a fault rule behind those already queued.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), ControlError> {
        rule.validate()?;
        self.lock().faults.push(rule);
        Ok(())
    }

    /// The queued fault rules, with their remaining counts.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.lock().faults.clone()
    }

    /// Removes every queued fault rule.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// "Now" on the sandbox clock.
    pub fn now(&self) -> OffsetDateTime {
        self.lock().now()
    }

    /// Replaces the sandbox clock.
    pub fn set_clock(&self, clock: Clock) {
        self.lock().clock = clock;
    }

    /// Moves the sandbox clock forward (backward when negative), e.g. to expire tokens, end a
    /// cool-down or push events past retention.
    pub fn advance_clock(&self, by: time::Duration) {
        let mut state = self.lock();
        state.clock = state.clock.advanced(by);
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.lock().settings.clone()
    }

    /// Changes settings; refused (and nothing changed) if the result is unusable (`page_size` 0).
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), ControlError> {
        let mut state = self.lock();
        let mut settings = state.settings.clone();
        change(&mut settings);
        if settings.page_size == 0 {
            return Err(ControlError::new("pageSize must be at least 1"));
        }
        state.settings = settings;
        Ok(())
    }

    /// Sets the minimum time between successful password changes (whole seconds).
    pub fn set_cool_down(&self, cool_down: std::time::Duration) {
        self.lock().settings.cool_down_secs = cool_down.as_secs();
    }

    /// Sets the maximum number of events per page (at least 1).
    pub fn set_page_size(&self, page_size: usize) -> Result<(), ControlError> {
        self.update_settings(|s| s.page_size = page_size)
    }
}

enum Runner {
    Task(JoinHandle<()>),
    Thread(oneshot::Receiver<()>),
}

/// A sandbox serving HTTP. Dereferences to [`Sandbox`] for the control operations.
///
/// Dropping it stops the server too (without waiting); [`shutdown`](Self::shutdown) waits.
pub struct RunningSandbox {
    sandbox: Sandbox,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    runner: Option<Runner>,
}

impl fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// The address it listens on (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give clients, like `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle to the state that outlives this value (e.g. to move into another task).
    pub fn sandbox(&self) -> Sandbox {
        self.sandbox.clone()
    }

    /// Stops accepting connections, lets running requests finish for up to a second, closes
    /// every connection, and waits until all that is done.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        match self.runner.take() {
            Some(Runner::Task(task)) => {
                let _ = task.await;
            }
            Some(Runner::Thread(finished)) => {
                let _ = finished.await;
            }
            None => {}
        }
    }
}

impl Deref for RunningSandbox {
    type Target = Sandbox;

    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
