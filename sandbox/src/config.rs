//! Start-up configuration and the behaviour settings that can also be changed while running.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Username of [`SandboxConfig::default`].
pub const DEFAULT_USERNAME: &str = "sandbox-system";
/// Password of [`SandboxConfig::default`]; it meets the password policy.
pub const DEFAULT_PASSWORD: &str = "Sandbox-Initial-Password-0123456789";

/// How the sandbox starts: where it listens, the credentials it accepts, and its behaviour.
///
/// [`Sandbox::reset`](crate::Sandbox::reset) returns to exactly this configuration.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Address to listen on. Port 0 picks a free port. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// The API username (the organisation's system id).
    pub username: String,
    /// The password accepted at start. It is not checked against the policy.
    pub password: String,
    /// Further systems (API users) served beside the first, each with its own password,
    /// cool-down and events. Default none.
    pub more_systems: Vec<SystemCredentials>,
    /// Behaviour that tests may also change later.
    pub settings: Settings,
}

impl SandboxConfig {
    /// Loopback on a free port, these credentials and default [`Settings`].
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            ..Self::default()
        }
    }

    /// This configuration with one more system (API user) beside the first.
    pub fn with_system(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.more_systems.push(SystemCredentials {
            username: username.into(),
            password: password.into(),
        });
        self
    }
}

/// The username and start password of one further system of a [`SandboxConfig`].
#[derive(Clone, PartialEq, Eq)]
pub struct SystemCredentials {
    /// The API username (the system's id).
    pub username: String,
    /// The password accepted at start. It is not checked against the policy.
    pub password: String,
}

// Hand-written so that a password never reaches a log through `{:?}`.
impl fmt::Debug for SystemCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            more_systems: Vec::new(),
            settings: Settings::default(),
        }
    }
}

// Hand-written so that a password never reaches a log through `{:?}`.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("addr", &self.addr)
            .field("username", &self.username)
            .field("password", &"***")
            .field("more_systems", &self.more_systems)
            .field("settings", &self.settings)
            .finish()
    }
}

/// Behaviour where the real service is undocumented or where tests need a knob.
///
/// Over HTTP this is the body of `GET`/`PATCH /__sandbox/settings` (camelCase field names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// `expires_in` of issued tokens, in seconds, measured on the sandbox clock. Default 3600.
    pub token_lifetime_secs: u64,
    /// Minimum time between two successful password changes of one system, in seconds on the
    /// sandbox clock.
    /// Default 0 (no cool-down): the real length is undocumented.
    pub cool_down_secs: u64,
    /// Maximum number of events per `GET /v2/events` answer. Default 1000, as in the real API.
    pub page_size: usize,
    /// Whether a successful password change invalidates every token issued to that system
    /// before it.
    /// Default false: the real behaviour is undocumented.
    pub invalidate_tokens_on_password_change: bool,
    /// How many earlier passwords may not be reused. Default 0 (no history check): the real
    /// rule is undocumented. Reusing the *current* password is always refused.
    pub password_history: usize,
    /// Days after its `eventTime` (or a message's `createdAt`) that data stays retrievable.
    /// Default 60, as in the real service.
    pub retention_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3600,
            cool_down_secs: 0,
            page_size: 1000,
            invalidate_tokens_on_password_change: false,
            password_history: 0,
            retention_days: 60,
        }
    }
}

/// The sandbox's idea of "now": used for token expiry, cool-down, retention and default event
/// times. Moving it lets tests make tokens expire or events look old without waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Clock {
    /// The machine's clock.
    #[default]
    Real,
    /// The machine's clock shifted by this much (negative moves into the past).
    Offset(time::Duration),
    /// Frozen at this instant.
    Fixed(OffsetDateTime),
}

impl Clock {
    /// The current instant on this clock.
    pub fn now(&self) -> OffsetDateTime {
        match *self {
            Self::Real => OffsetDateTime::now_utc(),
            Self::Offset(offset) => OffsetDateTime::now_utc() + offset,
            Self::Fixed(at) => at,
        }
    }

    /// This clock moved forward by `by` (backward when negative).
    pub fn advanced(self, by: time::Duration) -> Self {
        match self {
            Self::Real => Self::Offset(by),
            Self::Offset(offset) => Self::Offset(offset + by),
            Self::Fixed(at) => Self::Fixed(at + by),
        }
    }
}
