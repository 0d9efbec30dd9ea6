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

/// One Suomi.fi system (one API user): its password, its password history and cool-down, its
/// own events and messages.
pub(crate) struct System {
    pub(crate) username: String,
    pub(crate) password: String,
    /// Earlier passwords, newest first, at most `settings.password_history` of them.
    previous_passwords: VecDeque<String>,
    pub(crate) password_changes: u64,
    pub(crate) last_password_change: Option<OffsetDateTime>,
    pub(crate) tokens_issued: u64,
    /// `POST /v1/token` calls refused for a wrong password of this system (what DVV's monitoring
    /// would see as failed logins). Logins naming no system at all count on the first one.
    pub(crate) failed_logins: u64,
    pub(crate) events: EventStore,
}

impl System {
    fn new(username: String, password: String) -> Self {
        Self {
            username,
            password,
            previous_passwords: VecDeque::new(),
            password_changes: 0,
            last_password_change: None,
            tokens_issued: 0,
            failed_logins: 0,
            events: EventStore::new(),
        }
    }
}

pub(crate) struct State {
    initial: SandboxConfig,
    pub(crate) settings: Settings,
    /// The systems, the start configuration's first (never empty; systems are only appended).
    pub(crate) systems: Vec<System>,
    /// Issued token → (index of its system, expiry on the sandbox clock).
    tokens: HashMap<String, (usize, OffsetDateTime)>,
    pub(crate) requests: RequestCounts,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) clock: Clock,
}

impl State {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let systems = std::iter::once((config.username.clone(), config.password.clone()))
            .chain(
                config
                    .more_systems
                    .iter()
                    .map(|s| (s.username.clone(), s.password.clone())),
            )
            .map(|(u, p)| System::new(u, p))
            .collect();
        Self {
            settings: config.settings.clone(),
            systems,
            initial: config,
            tokens: HashMap::new(),
            requests: RequestCounts::default(),
            faults: Vec::new(),
            clock: Clock::Real,
        }
    }

    /// The index of the system with this username.
    pub(crate) fn find(&self, username: &str) -> Option<usize> {
        self.systems.iter().position(|s| s.username == username)
    }

    /// Adds a system; refused for an empty or already used username.
    pub(crate) fn add_system(&mut self, username: &str, password: &str) -> Result<usize, String> {
        if username.trim().is_empty() {
            return Err("a system needs a non-empty username".to_owned());
        }
        if self.find(username).is_some() {
            return Err(format!(
                "a system with username `{username}` exists already"
            ));
        }
        self.systems
            .push(System::new(username.to_owned(), password.to_owned()));
        Ok(self.systems.len() - 1)
    }

    /// System `index`; panics with a clear message for a handle that outlived a reset.
    pub(crate) fn system(&self, index: usize) -> &System {
        self.systems
            .get(index)
            .expect("this sandbox system was added after start and removed by a reset")
    }

    /// System `index`, mutably (see [`system`](Self::system)).
    pub(crate) fn system_mut(&mut self, index: usize) -> &mut System {
        self.systems
            .get_mut(index)
            .expect("this sandbox system was added after start and removed by a reset")
    }

    /// Issued tokens of system `index` that are still valid.
    pub(crate) fn active_tokens(&self, index: usize) -> usize {
        let now = self.now();
        self.tokens
            .values()
            .filter(|&&(system, exp)| system == index && exp > now)
            .count()
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

    /// A new token and its lifetime in seconds, if the credentials are those of a system.
    pub(crate) fn issue_token(&mut self, username: &str, password: &str) -> Option<(String, u64)> {
        let index = match self.find(username) {
            Some(i) if self.systems[i].password == password => i,
            Some(i) => {
                self.systems[i].failed_logins += 1;
                return None;
            }
            None => {
                self.systems[0].failed_logins += 1;
                return None;
            }
        };
        let now = self.now();
        self.tokens.retain(|_, (_, expiry)| *expiry > now);
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let lifetime = self.settings.token_lifetime_secs;
        let expiry = now.saturating_add(Duration::seconds(
            i64::try_from(lifetime).unwrap_or(i64::MAX),
        ));
        self.tokens.insert(token.clone(), (index, expiry));
        self.systems[index].tokens_issued += 1;
        Some((token, lifetime))
    }

    /// The index of the system the token was issued to, if it is valid.
    pub(crate) fn check_token(&self, token: &str) -> Result<usize, TokenRefusal> {
        match self.tokens.get(token) {
            None => Err(TokenRefusal::Unknown),
            Some((_, expiry)) if *expiry <= self.now() => Err(TokenRefusal::Expired),
            Some((system, _)) => Ok(*system),
        }
    }

    pub(crate) fn change_password(
        &mut self,
        access_token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ChangeRefusal> {
        let Ok(index) = self.check_token(access_token) else {
            return Err(ChangeRefusal::InvalidToken);
        };
        let now = self.now();
        let settings = self.settings.clone();
        let system = &mut self.systems[index];
        if current != system.password {
            return Err(ChangeRefusal::WrongCurrentPassword);
        }
        let cool_down =
            Duration::seconds(i64::try_from(settings.cool_down_secs).unwrap_or(i64::MAX));
        if let Some(last) = system.last_password_change
            && now < last.saturating_add(cool_down)
        {
            return Err(ChangeRefusal::CoolDown);
        }
        let broken = check_password_policy(new);
        if !broken.is_empty() {
            return Err(ChangeRefusal::Policy(broken));
        }
        if new == system.password {
            return Err(ChangeRefusal::SameAsCurrent);
        }
        if system.previous_passwords.iter().any(|old| old == new) {
            return Err(ChangeRefusal::RecentlyUsed);
        }
        let old = std::mem::replace(&mut system.password, new.to_owned());
        system.previous_passwords.push_front(old);
        system
            .previous_passwords
            .truncate(settings.password_history);
        system.password_changes += 1;
        system.last_password_change = Some(now);
        if settings.invalidate_tokens_on_password_change {
            self.tokens.retain(|_, (system, _)| *system != index);
        }
        Ok(())
    }

    /// Sets a system's password without it counting as a change (no policy, history or
    /// cool-down).
    pub(crate) fn set_password(&mut self, index: usize, password: String) {
        self.system_mut(index).password = password;
    }
}
