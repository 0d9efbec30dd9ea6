//! The rotation itself: the four steps Secrets Manager calls, generic over the ports (Secrets
//! Manager, Suomi.fi, the notifier). Why each step does what it does is the invariant explained
//! in the crate documentation.

use crate::advice::{self, alert_key};
use crate::error::RotationError;
use crate::event::{RotationEvent, Step, StepOutcome};
use crate::metrics;
use crate::password;
use crate::preflight::{self, Preflight, merged_version_id};
use std::time::Duration;
use suomifi_shared::notify::{Alert, Notifier, Severity};
use suomifi_shared::secret::{Credentials, SecretError};
use suomifi_shared::secrets::{AWSCURRENT, AWSPENDING, CHANGE_ATTEMPTED, SecretMeta, SecretStore};
use suomifi_shared::sensitive::AccessToken;
use suomifi_shared::suomifi::{ApiError, SuomifiApi};
use tokio::time::Instant;
use tracing::{info, warn};

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

/// The rotation, generic over its ports.
pub struct Rotator<S, A, N> {
    secrets: S,
    api: A,
    notifier: N,
    settings: RotationSettings,
}

impl<S: SecretStore, A: SuomifiApi, N: Notifier> Rotator<S, A, N> {
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

    /// The state check every step starts with, as AWS's rotation template does (decided by
    /// [`preflight::preflight`] on the secret's metadata).
    async fn preflight(&self, ev: &RotationEvent) -> Result<Preflight, RotationError> {
        let meta = self.secrets.describe(&ev.secret_id).await?;
        preflight::preflight(meta, ev)
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
        match self
            .api
            .token(&creds.api, &creds.username, &creds.password)
            .await
        {
            Ok(t) => Ok(Some(t.access_token)),
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
            .change_password(&current.api, &token, &current.password, &pending.password)
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
            let result = self
                .api
                .verify_credentials(&creds.api, &creds.username, &creds.password)
                .await;
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
        metrics::rotation_succeeded(ev);
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
