//! The sandbox's mutable state and the rules of the token and password endpoints.

use std::collections::{HashMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::config::{Clock, SandboxConfig, Settings};
use crate::events::{EventStore, unix_ms};
use crate::faults::{self, Endpoint, Fault, FaultRule};
use crate::policy::{PolicyViolation, check_password_policy};

/// Requests received per endpoint, faulted ones included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCounts {
    /// `POST /v1/token`.
    pub token: u64,
    /// `POST /v1/change-password`.
    pub change_password: u64,
    /// `GET /v2/events`.
    pub events: u64,
    /// `GET /v2/messages/{id}`.
    pub messages: u64,
    /// `GET /v1/attachments/{id}`.
    pub attachments: u64,
}

/// Why a password change was refused.
pub(crate) enum ChangeRefusal {
    InvalidToken,
    WrongCurrentPassword,
    CoolDown,
    Policy(Vec<PolicyViolation>),
    SameAsCurrent,
    RecentlyUsed,
}

/// Why a bearer token was refused.
pub(crate) enum TokenRefusal {
    Unknown,
    Expired,
}

pub(crate) struct State {
    initial: SandboxConfig,
    pub(crate) settings: Settings,
    pub(crate) username: String,
    pub(crate) password: String,
    /// Earlier passwords, newest first, at most `settings.password_history` of them.
    previous_passwords: VecDeque<String>,
    pub(crate) password_changes: u64,
    pub(crate) last_password_change: Option<OffsetDateTime>,
    /// Issued token → expiry on the sandbox clock.
    tokens: HashMap<String, OffsetDateTime>,
    pub(crate) tokens_issued: u64,
    /// `POST /v1/token` calls refused for a wrong username or password (what DVV's monitoring
    /// would see as failed logins).
    pub(crate) failed_logins: u64,
    pub(crate) requests: RequestCounts,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) clock: Clock,
    pub(crate) events: EventStore,
}

impl State {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        Self {
            settings: config.settings.clone(),
            username: config.username.clone(),
            password: config.password.clone(),
            initial: config,
            previous_passwords: VecDeque::new(),
            password_changes: 0,
            last_password_change: None,
            tokens: HashMap::new(),
            tokens_issued: 0,
            failed_logins: 0,
            requests: RequestCounts::default(),
            faults: Vec::new(),
            clock: Clock::Real,
            events: EventStore::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.initial.clone());
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Data older than this (unix milliseconds) is gone.
    pub(crate) fn retention_cutoff_ms(&self) -> i64 {
        unix_ms(self.now() - Duration::days(i64::from(self.settings.retention_days)))
    }

    pub(crate) fn active_tokens(&self) -> usize {
        let now = self.now();
        self.tokens.values().filter(|&&exp| exp > now).count()
    }

    /// Counts a request and takes the fault, if any, that hits it.
    pub(crate) fn begin_request(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let counter = match endpoint {
            Endpoint::Token => &mut self.requests.token,
            Endpoint::ChangePassword => &mut self.requests.change_password,
            Endpoint::Events => &mut self.requests.events,
            Endpoint::Messages => &mut self.requests.messages,
            Endpoint::Attachments => &mut self.requests.attachments,
            Endpoint::Any => return None,
        };
        *counter += 1;
        faults::take(&mut self.faults, endpoint)
    }

    /// A new token and its lifetime in seconds, if the credentials are right.
    pub(crate) fn issue_token(&mut self, username: &str, password: &str) -> Option<(String, u64)> {
        if username != self.username || password != self.password {
            self.failed_logins += 1;
            return None;
        }
        let now = self.now();
        self.tokens.retain(|_, expiry| *expiry > now);
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let lifetime = self.settings.token_lifetime_secs;
        let expiry = now.saturating_add(Duration::seconds(
            i64::try_from(lifetime).unwrap_or(i64::MAX),
        ));
        self.tokens.insert(token.clone(), expiry);
        self.tokens_issued += 1;
        Some((token, lifetime))
    }

    pub(crate) fn check_token(&self, token: &str) -> Result<(), TokenRefusal> {
        match self.tokens.get(token) {
            None => Err(TokenRefusal::Unknown),
            Some(expiry) if *expiry <= self.now() => Err(TokenRefusal::Expired),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn change_password(
        &mut self,
        access_token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ChangeRefusal> {
        if self.check_token(access_token).is_err() {
            return Err(ChangeRefusal::InvalidToken);
        }
        if current != self.password {
            return Err(ChangeRefusal::WrongCurrentPassword);
        }
        let now = self.now();
        let cool_down =
            Duration::seconds(i64::try_from(self.settings.cool_down_secs).unwrap_or(i64::MAX));
        if let Some(last) = self.last_password_change
            && now < last.saturating_add(cool_down)
        {
            return Err(ChangeRefusal::CoolDown);
        }
        let broken = check_password_policy(new);
        if !broken.is_empty() {
            return Err(ChangeRefusal::Policy(broken));
        }
        if new == self.password {
            return Err(ChangeRefusal::SameAsCurrent);
        }
        if self.previous_passwords.iter().any(|old| old == new) {
            return Err(ChangeRefusal::RecentlyUsed);
        }
        let old = std::mem::replace(&mut self.password, new.to_owned());
        self.previous_passwords.push_front(old);
        self.previous_passwords
            .truncate(self.settings.password_history);
        self.password_changes += 1;
        self.last_password_change = Some(now);
        if self.settings.invalidate_tokens_on_password_change {
            self.tokens.clear();
        }
        Ok(())
    }

    /// Sets the password without it counting as a change (no policy, history or cool-down).
    pub(crate) fn set_password(&mut self, password: String) {
        self.password = password;
    }
}
