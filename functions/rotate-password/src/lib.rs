//! Crash-safe rotation of the Suomi.fi Messages REST API password through AWS Secrets Manager.
//!
//! Secrets Manager calls the function four times per rotation (`createSecret`, `setSecret`,
//! `testSecret`, `finishSecret`) and retries the whole rotation after any failure, so any step may
//! come again, in any order, possibly after the password already changed. The invariant kept at
//! every instant: **the password Suomi.fi accepts is stored in the secret as `AWSCURRENT` or
//! `AWSPENDING`.** How:
//!
//! - the new password is stored (`AWSPENDING`) before Suomi.fi is ever told about it;
//! - `setSecret` marks the pending version (`SUOMIFI_CHANGE_ATTEMPTED`) *before* it calls
//!   `/v1/change-password`. Only a marked version can already hold the password Suomi.fi accepts
//!   (lost response, crash, concurrent run), so only then is the pending password probed first: a
//!   healthy rotation makes no failed login at Suomi.fi;
//! - `/v1/change-password` is called once, never retried blindly; after any failure the pending
//!   password is probed again before deciding;
//! - `finishSecret` promotes the pending version only after proving the pending password works.

pub mod advice;
pub mod password;
pub mod recover;

use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use suomifi_shared::notify::{Alert, Notifier, Severity};
use suomifi_shared::secret::{Credentials, SecretError};
use suomifi_shared::secrets::{
    AWSCURRENT, AWSPENDING, CHANGE_ATTEMPTED, SecretMeta, SecretStore, SecretsError,
};
use suomifi_shared::sensitive::{AccessToken, Password};
use suomifi_shared::suomifi::{ApiError, ClientConfig, SuomifiClient, TraceId};
use tokio::time::Instant;
use tracing::{info, warn};

/// The four rotation steps, as Secrets Manager names them on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// `createSecret`: store a new password as `AWSPENDING`.
    #[serde(rename = "createSecret")]
    Create,
    /// `setSecret`: change the password at Suomi.fi.
    #[serde(rename = "setSecret")]
    Set,
    /// `testSecret`: prove the pending password works.
    #[serde(rename = "testSecret")]
    Test,
    /// `finishSecret`: make the pending version `AWSCURRENT`.
    #[serde(rename = "finishSecret")]
    Finish,
}

impl Step {
    /// Parses the wire name; anything else is [`RotationError::UnknownStep`].
    pub fn parse(s: &str) -> Result<Self, RotationError> {
        match s {
            "createSecret" => Ok(Self::Create),
            "setSecret" => Ok(Self::Set),
            "testSecret" => Ok(Self::Test),
            "finishSecret" => Ok(Self::Finish),
            other => Err(RotationError::UnknownStep(other.chars().take(64).collect())),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "createSecret",
            Self::Set => "setSecret",
            Self::Test => "testSecret",
            Self::Finish => "finishSecret",
        }
    }
}

/// A rotation request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationEvent {
    /// ARN or name of the secret.
    pub secret_id: String,
    /// `ClientRequestToken`: the version being rotated in.
    pub token: String,
    /// Which step.
    pub step: Step,
}

impl RotationEvent {
    /// Parses the event Secrets Manager sends (`RotationToken`, for cross-account rotation, is
    /// accepted and not needed here).
    pub fn from_json(v: serde_json::Value) -> Result<Self, RotationError> {
        let raw: aws_lambda_events::event::secretsmanager::SecretsManagerSecretRotationEvent =
            serde_json::from_value(v).map_err(|e| RotationError::InvalidEvent(e.to_string()))?;
        if raw.secret_id.is_empty() || raw.client_request_token.is_empty() {
            return Err(RotationError::InvalidEvent(
                "SecretId and ClientRequestToken must not be empty".into(),
            ));
        }
        Ok(Self {
            step: Step::parse(&raw.step)?,
            secret_id: raw.secret_id,
            token: raw.client_request_token,
        })
    }
}

/// Everything that can stop a step. Each maps to a stable `error_type` for alarms.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The event is not a Secrets Manager rotation event.
    #[error("not a Secrets Manager rotation event: {0}")]
    InvalidEvent(String),
    /// `Step` is none of the four.
    #[error(
        "unknown rotation step `{0}`; expected createSecret, setSecret, testSecret or finishSecret"
    )]
    UnknownStep(String),
    /// Rotation is not enabled on the secret.
    #[error(
        "rotation is not enabled on secret `{0}`; enable it (RotateSecret / the template's RotationSchedule) before invoking the rotation function"
    )]
    RotationDisabled(String),
    /// The token is not a version of the secret.
    #[error("ClientRequestToken `{token}` is not a version of secret `{secret}`")]
    TokenNotAVersion {
        /// Secret.
        secret: String,
        /// Token.
        token: String,
    },
    /// The token's version is neither current nor pending.
    #[error(
        "version `{token}` of secret `{secret}` is not staged AWSPENDING; another rotation may have replaced it"
    )]
    NotPending {
        /// Secret.
        secret: String,
        /// Token.
        token: String,
    },
    /// The stored credentials cannot be used.
    #[error("the {stage} value of secret `{secret}` is not usable credentials: {source}")]
    InvalidSecret {
        /// Secret.
        secret: String,
        /// Which version.
        stage: &'static str,
        /// Why.
        #[source]
        source: SecretError,
    },
    /// Current and pending versions disagree on username or API URL.
    #[error(
        "the AWSCURRENT and AWSPENDING values of secret `{0}` name different usernames or apiUrls (one was edited during the rotation); nothing was changed at Suomi.fi by this step; run `suomifi-ops recover --secret-id {0}`, which keeps whichever stored password Suomi.fi accepts"
    )]
    PendingMismatch(String),
    /// `setSecret`/`finishSecret` ran before `createSecret` stored a password.
    #[error(
        "secret `{secret}` has no AWSPENDING value for version `{token}` yet (createSecret has not run)"
    )]
    PendingMissing {
        /// Secret.
        secret: String,
        /// Token.
        token: String,
    },
    /// Secrets Manager failed.
    #[error(transparent)]
    SecretsManager(#[from] SecretsError),
    /// Suomi.fi could not be asked, or answered unclearly; nothing was lost, retry later.
    #[error("{context}: {source}")]
    Suomifi {
        /// What we were doing.
        context: &'static str,
        /// The API error.
        #[source]
        source: ApiError,
    },
    /// Suomi.fi refused the change because the last one was too recent.
    #[error(
        "Suomi.fi refused the change for now (cool-down after the last change: {reason}); the pending password is kept and the change is retried on the next attempt"
    )]
    CoolDown {
        /// Server's reason.
        reason: String,
    },
    /// Suomi.fi refused the change for another reason (a permanent 4xx): a person must look.
    #[error(
        "Suomi.fi refused the password change: {reason} (traceId {trace_id}); the current password still works and nothing was changed"
    )]
    ChangeRefused {
        /// Server's reason.
        reason: String,
        /// traceId.
        trace_id: TraceId,
    },
    /// Neither the current nor the pending password is accepted.
    #[error(
        "Suomi.fi accepts neither the AWSCURRENT nor the AWSPENDING password of secret `{0}`: the password was changed outside this rotation or the secret is out of date; nothing was changed"
    )]
    DriftDetected(String),
    /// The current password was refused once and then accepted: retry later.
    #[error(
        "Suomi.fi refused the AWSCURRENT password of secret `{0}` once and then accepted it; nothing was changed, the change is retried on the next attempt"
    )]
    TransientRefusal(String),
    /// `finishSecret` found that the pending password does not work (setSecret has not succeeded).
    #[error(
        "the AWSPENDING password of secret `{0}` is not accepted by Suomi.fi yet; not promoting it"
    )]
    PendingNotAccepted(String),
    /// The test of DVV's recipe (token + events) failed.
    #[error("testing the {which} password of secret `{secret}` failed: {source}")]
    TestFailed {
        /// Secret.
        secret: String,
        /// Pending or current.
        which: &'static str,
        /// Why.
        #[source]
        source: ApiError,
    },
}

impl RotationError {
    /// The Suomi.fi traceId the error carries, if any.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Suomifi { source, .. } | Self::TestFailed { source, .. } => source.trace_id(),
            Self::ChangeRefused { trace_id, .. } => trace_id.0.as_deref(),
            _ => None,
        }
    }

    /// Stable name for alarms and log filters, `RotatePassword.<kind>` (one scheme for every
    /// function: `<Function>.<kind>`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) => "RotatePassword.InvalidEvent",
            Self::UnknownStep(_) => "RotatePassword.UnknownStep",
            Self::RotationDisabled(_) => "RotatePassword.RotationDisabled",
            Self::TokenNotAVersion { .. } | Self::NotPending { .. } => {
                "RotatePassword.InvalidToken"
            }
            Self::InvalidSecret { .. } | Self::PendingMismatch(_) => "RotatePassword.InvalidSecret",
            Self::PendingMissing { .. }
            | Self::SecretsManager(_)
            | Self::Suomifi { .. }
            | Self::CoolDown { .. }
            | Self::TransientRefusal(_)
            | Self::PendingNotAccepted(_) => "RotatePassword.Retryable",
            Self::ChangeRefused { .. } => "RotatePassword.ChangeRefused",
            Self::DriftDetected(_) => "RotatePassword.DriftDetected",
            Self::TestFailed { .. } => "RotatePassword.TestFailed",
        }
    }
}

impl From<RotationError> for lambda_runtime::Diagnostic {
    fn from(e: RotationError) -> Self {
        Self {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Port: the Suomi.fi operations a rotation needs.
pub trait PasswordApi: Send + Sync {
    /// A token for these credentials.
    fn login(
        &self,
        creds: &Credentials,
    ) -> impl Future<Output = Result<AccessToken, ApiError>> + Send;
    /// Changes `current` → `new` (one attempt).
    fn change_password(
        &self,
        creds: &Credentials,
        token: &AccessToken,
        new: &Password,
    ) -> impl Future<Output = Result<TraceId, ApiError>> + Send;
    /// DVV's test: `GET /v2/events` answers 200.
    fn read_events(
        &self,
        creds: &Credentials,
        token: &AccessToken,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// The real Suomi.fi adapter: one client (connection pool) per API base, created on first use.
#[derive(Debug, Default)]
pub struct SuomifiApi {
    config: ClientConfig,
    clients: Mutex<HashMap<String, SuomifiClient>>,
}

impl SuomifiApi {
    /// An adapter using `config` for every client.
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, creds: &Credentials) -> Result<SuomifiClient, ApiError> {
        let mut clients = self.clients.lock().expect("client cache lock");
        if let Some(c) = clients.get(creds.api.as_str()) {
            return Ok(c.clone());
        }
        let c = SuomifiClient::new(creds.api.clone(), self.config.clone())?;
        clients.insert(creds.api.as_str().to_owned(), c.clone());
        Ok(c)
    }
}

impl PasswordApi for SuomifiApi {
    async fn login(&self, creds: &Credentials) -> Result<AccessToken, ApiError> {
        let t = self
            .client(creds)?
            .token(&creds.username, &creds.password)
            .await?;
        Ok(t.access_token)
    }

    async fn change_password(
        &self,
        creds: &Credentials,
        token: &AccessToken,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        self.client(creds)?
            .change_password(token, &creds.password, new)
            .await
    }

    async fn read_events(&self, creds: &Credentials, token: &AccessToken) -> Result<(), ApiError> {
        self.client(creds)?
            .events_page(token, None)
            .await
            .map(|_| ())
    }
}

/// Settings of the rotation.
#[derive(Debug, Clone)]
pub struct RotationSettings {
    /// Publish an info notification after each successful rotation.
    pub notify_on_success: bool,
    /// How often `testSecret` tries the pending password before failing (a changed password may
    /// take a moment to propagate).
    pub test_attempts: u32,
    /// Delay between those attempts (doubles each time).
    pub test_backoff: Duration,
    /// The longest one Suomi.fi attempt can take (the client's timeout times its own retries):
    /// no attempt is started unless it can end this long before the invocation's deadline, so
    /// the step always answers Secrets Manager itself instead of being killed by Lambda.
    pub attempt_budget: Duration,
}

impl Default for RotationSettings {
    fn default() -> Self {
        Self {
            notify_on_success: false,
            test_attempts: 4,
            test_backoff: Duration::from_millis(500),
            attempt_budget: Duration::from_secs(35),
        }
    }
}

/// What a step did, returned to Secrets Manager and logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepOutcome {
    /// The step.
    pub step: Step,
    /// What happened, e.g. `created`, `already_created`, `changed`, `already_changed`.
    pub outcome: &'static str,
}

/// The rotation, generic over its ports.
pub struct Rotator<S, A, N> {
    secrets: S,
    api: A,
    notifier: N,
    settings: RotationSettings,
}

/// Result of preflight.
enum Preflight {
    /// The token is already `AWSCURRENT`.
    AlreadyCurrent(SecretMeta),
    /// The token is `AWSPENDING`: go on.
    Pending(SecretMeta),
}

/// The version id under which `finishSecret` stores the promoted password merged with a
/// person's edit of `AWSCURRENT` made during the rotation (see [`Rotator`]'s `finish`):
/// derived from the token, so a retry writes the same version (a no-op) and never a second one.
pub fn merged_version_id(token: &str) -> String {
    let keep: String = token.chars().take(62).collect();
    format!("{keep}-m")
}

/// The alert key of a secret's rotation: one chat thread per secret, failures and successes.
pub fn alert_key(secret_id: &str) -> String {
    format!("rotation/{secret_id}")
}

impl<S: SecretStore, A: PasswordApi, N: Notifier> Rotator<S, A, N> {
    /// A rotator over the given ports.
    pub fn new(secrets: S, api: A, notifier: N, settings: RotationSettings) -> Self {
        Self {
            secrets,
            api,
            notifier,
            settings,
        }
    }

    /// Handles one invocation with no deadline (tests, the CLI).
    pub async fn handle(&self, event: &RotationEvent) -> Result<StepOutcome, RotationError> {
        self.handle_until(event, None).await
    }

    /// Handles one invocation that must answer before `deadline` (Lambda's). Errors that need a
    /// person are also published as notifications; a finished rotation resolves them.
    pub async fn handle_until(
        &self,
        event: &RotationEvent,
        deadline: Option<Instant>,
    ) -> Result<StepOutcome, RotationError> {
        let result = match event.step {
            Step::Create => self.create(event).await,
            Step::Set => self.set(event).await,
            Step::Test => self.test(event, deadline).await,
            Step::Finish => self.finish(event).await,
        };
        match &result {
            Ok(outcome) => info!(
                step = event.step.as_str(),
                secret_id = %event.secret_id,
                outcome = *outcome,
                "rotation step done"
            ),
            Err(e) => {
                warn!(
                    step = event.step.as_str(),
                    secret_id = %event.secret_id,
                    error_type = e.error_type(),
                    trace_id = e.trace_id().unwrap_or("-"),
                    error = %e,
                    "rotation step failed"
                );
                if let Some(alert) = advice::alert_for(event, e)
                    && let Err(n) = self.notifier.publish(&alert).await
                {
                    warn!(error = %n, "could not publish the rotation alert");
                }
            }
        }
        result.map(|outcome| StepOutcome {
            step: event.step,
            outcome,
        })
    }

    /// The state check every step starts with, as AWS's rotation template does.
    async fn preflight(&self, ev: &RotationEvent) -> Result<Preflight, RotationError> {
        let meta = self.secrets.describe(&ev.secret_id).await?;
        if !meta.rotation_enabled {
            return Err(RotationError::RotationDisabled(ev.secret_id.clone()));
        }
        let Some(stages) = meta.stages_of(&ev.token) else {
            return Err(RotationError::TokenNotAVersion {
                secret: ev.secret_id.clone(),
                token: ev.token.clone(),
            });
        };
        if stages.iter().any(|s| s == AWSCURRENT)
            || meta
                .stages_of(&merged_version_id(&ev.token))
                .is_some_and(|s| s.iter().any(|l| l == AWSCURRENT))
        {
            return Ok(Preflight::AlreadyCurrent(meta));
        }
        if !stages.iter().any(|s| s == AWSPENDING) {
            return Err(RotationError::NotPending {
                secret: ev.secret_id.clone(),
                token: ev.token.clone(),
            });
        }
        Ok(Preflight::Pending(meta))
    }

    async fn current(&self, ev: &RotationEvent) -> Result<Credentials, RotationError> {
        let value = self
            .secrets
            .get_value(&ev.secret_id, None, AWSCURRENT)
            .await?;
        let value = value.ok_or_else(|| RotationError::InvalidSecret {
            secret: ev.secret_id.clone(),
            stage: AWSCURRENT,
            source: SecretError::NotJsonObject("the AWSCURRENT version has no value".into()),
        })?;
        Credentials::parse(&value).map_err(|source| RotationError::InvalidSecret {
            secret: ev.secret_id.clone(),
            stage: AWSCURRENT,
            source,
        })
    }

    async fn pending(&self, ev: &RotationEvent) -> Result<Option<Credentials>, RotationError> {
        let Some(value) = self
            .secrets
            .get_value(&ev.secret_id, Some(&ev.token), AWSPENDING)
            .await?
        else {
            return Ok(None);
        };
        Credentials::parse(&value)
            .map(Some)
            .map_err(|source| RotationError::InvalidSecret {
                secret: ev.secret_id.clone(),
                stage: AWSPENDING,
                source,
            })
    }

    async fn pending_required(
        &self,
        ev: &RotationEvent,
        current: &Credentials,
    ) -> Result<Credentials, RotationError> {
        let pending = self
            .pending(ev)
            .await?
            .ok_or_else(|| RotationError::PendingMissing {
                secret: ev.secret_id.clone(),
                token: ev.token.clone(),
            })?;
        if pending.username != current.username || pending.api != current.api {
            return Err(RotationError::PendingMismatch(ev.secret_id.clone()));
        }
        Ok(pending)
    }

    async fn create(&self, ev: &RotationEvent) -> Result<&'static str, RotationError> {
        if let Preflight::AlreadyCurrent(_) = self.preflight(ev).await? {
            return Ok("already_current");
        }
        // Validate the current secret first: a malformed secret changes nothing.
        let current = self.current(ev).await?;
        if self.pending(ev).await?.is_some() {
            return Ok("already_created");
        }
        let new = current.with_password(password::generate());
        match self
            .secrets
            .put_pending(&ev.secret_id, &ev.token, &new.to_secret_string())
            .await
        {
            Ok(()) => Ok("created"),
            // A concurrent createSecret stored its own password for this token first: keep that.
            Err(e) if e.is_resource_exists() && self.pending(ev).await?.is_some() => {
                Ok("already_created")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether these credentials obtain a token. `Ok(None)` = refused (400).
    async fn try_login(
        &self,
        creds: &Credentials,
        context: &'static str,
    ) -> Result<Option<AccessToken>, RotationError> {
        match self.api.login(creds).await {
            Ok(t) => Ok(Some(t)),
            Err(ApiError::AuthenticationFailed { .. }) => Ok(None),
            Err(source) => Err(RotationError::Suomifi { context, source }),
        }
    }

    /// Puts [`CHANGE_ATTEMPTED`] on the token's version (moving it from an earlier rotation's
    /// version, as Secrets Manager requires for a label attached elsewhere).
    async fn mark_change_attempted(
        &self,
        ev: &RotationEvent,
        meta: &SecretMeta,
    ) -> Result<(), RotationError> {
        let holder = meta.version_with(CHANGE_ATTEMPTED);
        if holder == Some(ev.token.as_str()) {
            return Ok(());
        }
        self.secrets
            .update_stage(&ev.secret_id, CHANGE_ATTEMPTED, Some(&ev.token), holder)
            .await?;
        Ok(())
    }

    async fn set(&self, ev: &RotationEvent) -> Result<&'static str, RotationError> {
        let meta = match self.preflight(ev).await? {
            Preflight::AlreadyCurrent(_) => return Ok("already_current"),
            Preflight::Pending(meta) => meta,
        };
        let current = self.current(ev).await?;
        let pending = self.pending_required(ev, &current).await?;
        if pending.password == current.password {
            return Ok("nothing_to_change");
        }
        // 1. Did the change already happen (lost response, crash, a concurrent run)? Only a
        //    version marked before a change-password call can hold the new password, so an
        //    unmarked one is not probed: a healthy rotation makes no failed login.
        let attempted = meta
            .stages_of(&ev.token)
            .is_some_and(|s| s.iter().any(|l| l == CHANGE_ATTEMPTED));
        if attempted
            && self
                .try_login(&pending, "probing the pending password")
                .await?
                .is_some()
        {
            return Ok("already_changed");
        }
        // 2. Log in with the current password and change it.
        let Some(token) = self
            .try_login(&current, "logging in with the current password")
            .await?
        else {
            // A concurrent run (or a rotation from before the marker existed) may have changed
            // it: look at the pending password once.
            if self
                .try_login(&pending, "probing the pending password")
                .await?
                .is_some()
            {
                return Ok("already_changed");
            }
            // Drift pages a person: be sure first. A refusal of the current password that does
            // not repeat was transient; Secrets Manager's retry will do the change.
            if self
                .try_login(&current, "logging in with the current password again")
                .await?
                .is_some()
            {
                return Err(RotationError::TransientRefusal(ev.secret_id.clone()));
            }
            return Err(RotationError::DriftDetected(ev.secret_id.clone()));
        };
        // The marker goes on before the irreversible call; if it cannot be written, nothing is
        // changed (Secrets Manager retries).
        self.mark_change_attempted(ev, &meta).await?;
        let change = self
            .api
            .change_password(&current, &token, &pending.password)
            .await;
        let error = match change {
            Ok(trace_id) => {
                info!(secret_id = %ev.secret_id, trace_id = %trace_id, "Suomi.fi password changed");
                return Ok("changed");
            }
            Err(e) => e,
        };
        // 3. The change failed or its answer was lost: the pending password tells what happened.
        warn!(secret_id = %ev.secret_id, kind = error.kind(), trace_id = error.trace_id().unwrap_or("-"), "change-password did not confirm; probing the pending password");
        if self
            .try_login(
                &pending,
                "probing the pending password after a failed change",
            )
            .await?
            .is_some()
        {
            return Ok("changed_response_lost");
        }
        let since_last_change = meta
            .last_rotated
            .map(|t| time::OffsetDateTime::now_utc() - t);
        Err(advice::classify_change_failure(error, since_last_change))
    }

    async fn test(
        &self,
        ev: &RotationEvent,
        deadline: Option<Instant>,
    ) -> Result<&'static str, RotationError> {
        if let Preflight::AlreadyCurrent(_) = self.preflight(ev).await? {
            return Ok("already_current");
        }
        let current = self.current(ev).await?;
        // With RotateImmediately=false Secrets Manager runs only testSecret, on a pending version
        // that holds no new password: then the current credentials are what is tested.
        let (creds, which) = match self.pending(ev).await? {
            Some(p) => (p, "pending"),
            None => (current, "current"),
        };
        let mut delay = self.settings.test_backoff;
        let attempts = self.settings.test_attempts.max(1);
        for attempt in 1..=attempts {
            let result = match self.api.login(&creds).await {
                Ok(token) => self.api.read_events(&creds, &token).await,
                Err(e) => Err(e),
            };
            let retryable = |e: &ApiError| {
                matches!(
                    e,
                    ApiError::AuthenticationFailed { .. } | ApiError::Unauthorized { .. }
                )
            };
            // Another attempt only if it can finish before the deadline, with room to answer.
            let time_for_another =
                deadline.is_none_or(|d| Instant::now() + delay + self.settings.attempt_budget < d);
            match result {
                Ok(()) => {
                    return Ok(if which == "pending" {
                        "pending_works"
                    } else {
                        "current_works"
                    });
                }
                Err(e) if attempt < attempts && retryable(&e) && time_for_another => {
                    // A just-changed password may take a moment to propagate.
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(source) => {
                    if attempt < attempts && retryable(&source) {
                        warn!(secret_id = %ev.secret_id, attempt, "testSecret stops retrying: the invocation's deadline is near");
                    }
                    return Err(RotationError::TestFailed {
                        secret: ev.secret_id.clone(),
                        which,
                        source,
                    });
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    async fn finish(&self, ev: &RotationEvent) -> Result<&'static str, RotationError> {
        let meta = match self.preflight(ev).await? {
            Preflight::AlreadyCurrent(meta) => {
                // A previous finish may have stopped between its two updates: tidy up.
                if meta
                    .stages_of(&ev.token)
                    .is_some_and(|s| s.iter().any(|s| s == AWSPENDING))
                {
                    self.secrets
                        .update_stage(&ev.secret_id, AWSPENDING, None, Some(&ev.token))
                        .await?;
                    self.keep_edit_after_promotion(ev, &meta).await?;
                    self.resolved(ev, &meta).await;
                    return Ok("pending_label_removed");
                }
                if self.keep_edit_after_promotion(ev, &meta).await? {
                    return Ok("edit_kept");
                }
                return Ok("already_current");
            }
            Preflight::Pending(meta) => meta,
        };
        let current = self.current(ev).await?;
        let pending = self.pending_required(ev, &current).await?;
        // Never promote a password Suomi.fi does not accept: that would leave the working one
        // only in AWSPREVIOUS.
        if pending.password != current.password
            && self
                .try_login(
                    &pending,
                    "checking the pending password before promoting it",
                )
                .await?
                .is_none()
        {
            return Err(RotationError::PendingNotAccepted(ev.secret_id.clone()));
        }
        let old = meta.version_with(AWSCURRENT).map(str::to_owned);
        self.secrets
            .update_stage(&ev.secret_id, AWSCURRENT, Some(&ev.token), old.as_deref())
            .await?;
        self.secrets
            .update_stage(&ev.secret_id, AWSPENDING, None, Some(&ev.token))
            .await?;
        // A person may have edited AWSCURRENT since createSecret copied it (a key of their own, a
        // note): the promoted version would silently drop that edit. Keep it: the new password
        // with every other key as the person left it, as a version of its own made current.
        if !current.same_except_password(&pending) {
            let merged = current.with_password(pending.password.clone());
            self.promote_merged(ev, &ev.token, &merged).await?;
        }
        // The marker has done its job; a leftover one is moved by the next rotation anyway.
        if meta.version_with(CHANGE_ATTEMPTED) == Some(ev.token.as_str())
            && let Err(e) = self
                .secrets
                .update_stage(&ev.secret_id, CHANGE_ATTEMPTED, None, Some(&ev.token))
                .await
        {
            warn!(secret_id = %ev.secret_id, error = %e, "could not remove the change marker; the next rotation moves it");
        }
        // For the dashboard and the "no successful rotation lately" alarm.
        suomifi_shared::telemetry::emit_metrics(
            time::OffsetDateTime::now_utc(),
            &[],
            &[suomifi_shared::telemetry::Metric {
                name: "RotationSucceeded",
                value: 1.0,
                unit: "Count",
            }],
        );
        self.resolved(ev, &meta).await;
        if self.settings.notify_on_success {
            let mut a = Alert::new(
                alert_key(&ev.secret_id),
                Severity::Info,
                format!("password rotated ({})", meta.name),
                "rotate-password",
            )
            .detail("Secret", &meta.name)
            .detail("New version", &ev.token);
            a.what_happened =
                "The Suomi.fi REST API password was changed and the secret updated.".into();
            a.why_it_matters = "DVV asks for regular rotation; nothing to do.".into();
            if let Err(e) = self.notifier.publish(&a).await {
                warn!(error = %e, "could not publish the success notice");
            }
        }
        Ok("promoted")
    }

    /// A finish that stopped between promoting the token and keeping a person's edit (see
    /// `finish`): the edit is then in `AWSPREVIOUS`. Returns whether it was merged now.
    async fn keep_edit_after_promotion(
        &self,
        ev: &RotationEvent,
        meta: &SecretMeta,
    ) -> Result<bool, RotationError> {
        let merged_id = merged_version_id(&ev.token);
        let token_is_current = meta
            .stages_of(&ev.token)
            .is_some_and(|s| s.iter().any(|l| l == AWSCURRENT));
        if !token_is_current {
            return Ok(false);
        }
        if let Some(labels) = meta.stages_of(&merged_id) {
            // Stopped in the middle of promote_merged: the merged version is written, finish
            // its moves (its value is the one stored; nothing is written again).
            if labels.iter().any(|l| l == AWSPENDING) {
                self.secrets
                    .update_stage(&ev.secret_id, AWSCURRENT, Some(&merged_id), Some(&ev.token))
                    .await?;
                self.secrets
                    .update_stage(&ev.secret_id, AWSPENDING, None, Some(&merged_id))
                    .await?;
                return Ok(true);
            }
            return Ok(false);
        }
        let Some(previous) = meta.version_with(suomifi_shared::secrets::AWSPREVIOUS) else {
            return Ok(false);
        };
        let read = |version: String, stage: &'static str| async move {
            self.secrets
                .get_value(&ev.secret_id, Some(&version), stage)
                .await
                .map(|v| v.and_then(|v| Credentials::parse(&v).ok()))
        };
        let (Some(promoted), Some(edited)) = (
            read(ev.token.clone(), AWSCURRENT).await?,
            read(previous.to_owned(), suomifi_shared::secrets::AWSPREVIOUS).await?,
        ) else {
            return Ok(false);
        };
        if edited.same_except_password(&promoted) {
            return Ok(false);
        }
        let merged = edited.with_password(promoted.password.clone());
        self.promote_merged(ev, &ev.token, &merged).await?;
        Ok(true)
    }

    /// Makes `merged` (the new password with a person's edit) the current version, in the
    /// rotation's own three moves so that every intermediate state is one the rotation and
    /// `recover` understand: stored as `AWSPENDING` under [`merged_version_id`] (a retry stores
    /// the same value: no-op), `AWSCURRENT` moved to it from `from`, `AWSPENDING` removed.
    async fn promote_merged(
        &self,
        ev: &RotationEvent,
        from: &str,
        merged: &Credentials,
    ) -> Result<(), RotationError> {
        let id = merged_version_id(&ev.token);
        self.secrets
            .put_pending(&ev.secret_id, &id, &merged.to_secret_string())
            .await?;
        self.secrets
            .update_stage(&ev.secret_id, AWSCURRENT, Some(&id), Some(from))
            .await?;
        self.secrets
            .update_stage(&ev.secret_id, AWSPENDING, None, Some(&id))
            .await?;
        info!(secret_id = %ev.secret_id, "AWSCURRENT was edited during the rotation; the edit is kept with the new password");
        Ok(())
    }

    /// The rotation finished: a rotation alert still open for this secret is resolved (the
    /// notifier sends it only if one was open).
    async fn resolved(&self, ev: &RotationEvent, meta: &SecretMeta) {
        let mut a = Alert::new(
            alert_key(&ev.secret_id),
            Severity::Resolved,
            format!("rotation finished ({})", meta.name),
            "rotate-password",
        )
        .detail("Secret", &meta.name)
        .detail("New version", &ev.token);
        a.what_happened = "The rotation completed: the password Suomi.fi accepts is the secret's AWSCURRENT and no AWSPENDING label is left.".into();
        if let Err(e) = self.notifier.publish(&a).await {
            warn!(error = %e, "could not publish the resolution");
        }
    }
}

#[cfg(test)]
mod tests;
