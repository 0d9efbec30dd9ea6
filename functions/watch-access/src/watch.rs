//! One event, generic over the ports: parse, decide (pure: [`crate::ledger`],
//! [`crate::policy`]), claim in the ledger, act (rotate or schedule), notify.
//!
//! Every action is claimed first with a conditional write, so of two concurrent invocations for
//! the same person and secret only one notifies; when acting or notifying then fails, the claim
//! is rolled back and the error returned, so Lambda's retry of the event does it again.

use crate::config::Config;
use crate::error::HandlerError;
use crate::event::{Incoming, Read, Watched, parse, secret_name};
use crate::identity::{Person, Trust};
use crate::ledger::{
    Leaver, PlannedRotation, ReadRecord, Reason, RotationStep, SecretLedger, Skip, leaver_readers,
    ledger_pk, read_pk, record_read, schedule_name, scheduled_rotation,
};
use crate::messages::{self, RotationNote};
use crate::policy::{self, Drift};
use crate::ports::{OneTimeSchedule, RotateOutcome, Scheduler, Secrets};
use serde_json::{Value, json};
use suomifi_shared::alerts::AlertLifecycle;
use suomifi_shared::clock::Clock;
use suomifi_shared::notify::Notifier;
use suomifi_shared::state::{StateStore, Versioned};
use time::OffsetDateTime;

/// Conditional-write attempts on one ledger before giving up (then Lambda retries the event).
const ATTEMPTS: usize = 5;

/// The adapters a [`Watcher`] works through.
#[derive(Debug, Clone)]
pub struct Ports<Se, Sc, St, N, C> {
    /// Secrets Manager (metadata, rotation, policy).
    pub secrets: Se,
    /// EventBridge Scheduler.
    pub scheduler: Sc,
    /// State table.
    pub store: St,
    /// Notifications.
    pub notifier: N,
    /// Time.
    pub clock: C,
}

/// The function: configuration, ports, and what follows from the configuration.
#[derive(Debug)]
pub struct Watcher<Se, Sc, St, N, C> {
    config: Config,
    watched: Watched,
    trust: Trust,
    expected_policy: Value,
    ports: Ports<Se, Sc, St, N, C>,
    alerts: AlertLifecycle<St, N, C>,
}

impl<Se, Sc, St, N, C> Watcher<Se, Sc, St, N, C>
where
    Se: Secrets,
    Sc: Scheduler,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    /// A watcher over `ports`.
    pub fn new(config: Config, ports: Ports<Se, Sc, St, N, C>) -> Self {
        let alerts = AlertLifecycle::new(
            ports.store.clone(),
            ports.notifier.clone(),
            ports.clock.clone(),
            // The daily comparison reminds once a day while the policy stays changed.
            time::Duration::hours(23),
        );
        Self {
            watched: Watched::new(config.watched.clone()),
            trust: Trust {
                workload: config.workload_roles.clone(),
                trusted: config.trusted_readers.clone(),
            },
            expected_policy: policy::expected(&config.allowed_readers()),
            config,
            ports,
            alerts,
        }
    }

    /// The policy every watched secret should carry.
    pub fn expected_policy(&self) -> &Value {
        &self.expected_policy
    }

    fn ttl(&self, now: OffsetDateTime) -> Option<i64> {
        Some((now + self.config.retention).unix_timestamp())
    }

    /// Handles one event; `function_arn` is this function's (the schedules' target).
    pub async fn handle(&self, event: &Value, function_arn: &str) -> Result<Value, HandlerError> {
        match parse(event, &self.watched, &self.trust) {
            Incoming::Ignored(reason) => {
                tracing::info!(outcome = "ignored", reason = %reason, "event ignored");
                Ok(json!({"outcome": "ignored", "reason": reason}))
            }
            Incoming::Exposure {
                event_id,
                at,
                person,
                reads,
                event_name,
                by_filter,
            } => {
                let mut out = Vec::new();
                for read in &reads {
                    out.push(
                        self.exposure(&event_id, at, &person, read, &event_name, function_arn)
                            .await?,
                    );
                }
                tracing::info!(outcome = "exposure", person = %person.display, reads = reads.len(), by_filter, "password read recorded");
                suomifi_shared::telemetry::emit_metrics(
                    self.ports.clock.now(),
                    &[],
                    &[suomifi_shared::telemetry::Metric {
                        name: "PasswordReads",
                        value: reads.len() as f64,
                        unit: "Count",
                    }],
                );
                Ok(json!({"outcome": "exposure", "person": person.display, "secrets": out}))
            }
            Incoming::IamUserDeleted { user_name, at, by } => {
                let who = format!("IAM user {user_name}");
                tracing::info!(outcome = "leaver", user = %user_name, deleted_by = %by, "user deleted");
                self.leaver(&Leaver::IamUser(&user_name), &user_name, &who, at)
                    .await
            }
            Incoming::IdentityCenterUserDeleted {
                user_name,
                user_id,
                at,
            } => {
                let who = match (&user_name, &user_id) {
                    (Some(n), _) => format!("Identity Center user {n}"),
                    (None, Some(id)) => format!("Identity Center user {id}"),
                    _ => "an Identity Center user".to_owned(),
                };
                // Each deletion once: by user id (name), or by its time when the record has neither.
                let handled = user_id
                    .clone()
                    .or(user_name.clone())
                    .unwrap_or_else(|| format!("identity-center@{}", at.unix_timestamp()));
                self.leaver(
                    &Leaver::IdentityCenter(user_name.as_deref()),
                    &handled,
                    &who,
                    at,
                )
                .await
            }
            Incoming::PolicyChanged {
                secret,
                by,
                event_name,
                at,
            } => {
                let cause = format!(
                    "{} by {by} at {} (not by the stack)",
                    if event_name == "DeleteResourcePolicy" {
                        "deleted"
                    } else {
                        "changed"
                    },
                    suomifi_shared::alerts::format_time(at)
                );
                let outcome = self
                    .alerts
                    .problem(
                        messages::policy_alert(&secret, &cause, &self.expected_policy)
                            .detail("Changed by", &by),
                        0,
                    )
                    .await?;
                tracing::warn!(outcome = ?outcome, secret = %secret, by = %by, "resource policy changed");
                Ok(
                    json!({"outcome": "policy-changed", "secret": secret, "alert": format!("{outcome:?}")}),
                )
            }
            Incoming::CheckPolicies => self.check_policies().await,
            Incoming::RotateSecret(secret) => self.scheduled(&secret).await,
        }
    }

    async fn load(
        &self,
        secret: &str,
    ) -> Result<(Option<SecretLedger>, Option<u64>), HandlerError> {
        match self.ports.store.get(&ledger_pk(secret)).await? {
            None => Ok((None, None)),
            Some(Versioned { data, version }) => match serde_json::from_value(data) {
                Ok(l) => Ok((Some(l), Some(version))),
                Err(e) => {
                    // Start a new round over it rather than never record again.
                    tracing::warn!(secret, error = %e, "malformed ledger replaced");
                    Ok((None, Some(version)))
                }
            },
        }
    }

    async fn save(
        &self,
        secret: &str,
        ledger: &SecretLedger,
        expected: Option<u64>,
    ) -> Result<bool, HandlerError> {
        let data = serde_json::to_value(ledger).unwrap_or(Value::Null);
        Ok(self
            .ports
            .store
            .put_if(
                &ledger_pk(secret),
                &data,
                expected,
                self.ttl(self.ports.clock.now()),
            )
            .await?)
    }

    /// Puts back what was there before our write (version `ours`), best effort.
    async fn roll_back(
        &self,
        secret: &str,
        prev: Option<&SecretLedger>,
        before: Option<u64>,
        ours: u64,
    ) {
        let pk = ledger_pk(secret);
        let res = match (prev, before) {
            (Some(p), _) => self.save(secret, p, Some(ours)).await.map(|_| ()),
            (None, _) => self
                .ports
                .store
                .delete_if(&pk, ours)
                .await
                .map(|_| ())
                .map_err(Into::into),
        };
        if let Err(e) = res {
            tracing::error!(secret, error = %e, "rolling back the ledger failed");
        }
    }

    async fn exposure(
        &self,
        event_id: &str,
        at: OffsetDateTime,
        person: &Person,
        read: &Read,
        event_name: &str,
        function_arn: &str,
    ) -> Result<Value, HandlerError> {
        let secret = read.secret.as_str();
        let state = self.ports.secrets.describe(secret).await?;
        let now = self.ports.clock.now();
        let record = ReadRecord {
            secret: secret.to_owned(),
            person: person.clone(),
            at,
            version: state.current_version.clone(),
            asked_for: read.asked_for.clone(),
            event_name: event_name.to_owned(),
            event_id: event_id.to_owned(),
        };
        // One audit record per CloudTrail event; a redelivery finds it there and goes on.
        let data = serde_json::to_value(&record).unwrap_or(Value::Null);
        self.ports
            .store
            .put_if(
                &read_pk(secret, event_id),
                &data,
                None,
                self.ttl(at.max(now)),
            )
            .await?;
        for _ in 0..ATTEMPTS {
            let (prev, version) = self.load(secret).await?;
            let mut d = record_read(
                prev.clone(),
                &state,
                person,
                at,
                now,
                self.config.rotate_after,
            );
            let schedule = if let RotationStep::Schedule { due_at } = d.rotation {
                let name = schedule_name(secret, state.current_version.as_deref());
                if let Some(r) = d.ledger.rotation.as_mut() {
                    r.schedule = Some(name.clone());
                }
                Some((name, due_at))
            } else {
                None
            };
            if !d.first_for_person && schedule.is_none() && d.rotation != RotationStep::RotateNow {
                // Known reader, rotation planned: only the counters change. Losing this race
                // loses a count, never a notification.
                self.save(secret, &d.ledger, version).await?;
                return Ok(
                    json!({"secret": secret, "notified": false, "rotation": "already planned"}),
                );
            }
            if !self.save(secret, &d.ledger, version).await? {
                continue;
            }
            let ours = version.unwrap_or(0) + 1;
            match self
                .act(
                    secret,
                    person,
                    at,
                    &d.rotation,
                    schedule,
                    d.first_for_person,
                    function_arn,
                )
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.roll_back(secret, prev.as_ref(), version, ours).await;
                    return Err(e);
                }
            }
        }
        Err(HandlerError::Contended(secret.to_owned()))
    }

    #[allow(clippy::too_many_arguments)]
    async fn act(
        &self,
        secret: &str,
        person: &Person,
        at: OffsetDateTime,
        step: &RotationStep,
        schedule: Option<(String, OffsetDateTime)>,
        notify: bool,
        function_arn: &str,
    ) -> Result<Value, HandlerError> {
        let (note, rotation) = match (step, schedule) {
            (RotationStep::RotateNow, _) => match self.ports.secrets.rotate(secret).await? {
                RotateOutcome::Started => (RotationNote::Now, "requested".to_owned()),
                RotateOutcome::AlreadyRunning => {
                    (RotationNote::Running, "already running".to_owned())
                }
            },
            (RotationStep::Schedule { .. }, Some((name, due_at))) => {
                let outcome = self
                    .ports
                    .scheduler
                    .create(&OneTimeSchedule {
                        name: name.clone(),
                        group: self.config.schedule_group.clone().unwrap_or_default(),
                        at: due_at,
                        target_arn: function_arn.to_owned(),
                        role_arn: self.config.scheduler_role_arn.clone().unwrap_or_default(),
                        input: json!({"rotateSecret": secret}).to_string(),
                        dead_letter_arn: self.config.schedule_dead_letter_arn.clone(),
                    })
                    .await?;
                (
                    RotationNote::At(due_at),
                    format!("scheduled {name} ({outcome:?})"),
                )
            }
            (RotationStep::AlreadyPlanned { due_at }, _) => {
                (RotationNote::At(*due_at), "already planned".to_owned())
            }
            (RotationStep::AlreadyRunning, _) | (RotationStep::Schedule { .. }, None) => {
                (RotationNote::Running, "already running".to_owned())
            }
        };
        if notify {
            self.ports
                .notifier
                .publish(&messages::read_notice(secret, person, at, note))
                .await?;
        }
        tracing::info!(secret, person = %person.display, notified = notify, rotation = %rotation, "read handled");
        Ok(json!({"secret": secret, "notified": notify, "rotation": rotation}))
    }

    async fn leaver(
        &self,
        leaver: &Leaver<'_>,
        handled_as: &str,
        who: &str,
        at: OffsetDateTime,
    ) -> Result<Value, HandlerError> {
        let mut rotated = Vec::new();
        for secret in self.watched.all() {
            let state = self.ports.secrets.describe(secret).await?;
            let (prev, version) = self.load(secret).await?;
            let Some(prev) = prev.filter(|l| l.is_current(&state)) else {
                continue;
            };
            let readers = leaver_readers(&prev, leaver);
            if readers.is_empty() || prev.leavers_handled.iter().any(|h| h == handled_as) {
                continue;
            }
            let now = self.ports.clock.now();
            let mut next = prev.clone();
            next.leavers_handled.push(handled_as.to_owned());
            next.rotation = Some(PlannedRotation {
                due_at: now,
                reason: Reason::Leaver,
                schedule: None,
                requested_at: Some(now),
            });
            if !self.save(secret, &next, version).await? {
                // Another invocation handles this secret now; Lambda's retry would find it done.
                return Err(HandlerError::Contended(secret.clone()));
            }
            let ours = version.unwrap_or(0) + 1;
            let result = async {
                let note = match self.ports.secrets.rotate(secret).await? {
                    RotateOutcome::Started => RotationNote::Now,
                    RotateOutcome::AlreadyRunning => RotationNote::Running,
                };
                self.ports
                    .notifier
                    .publish(&messages::leaver_notice(secret, who, at, &readers, note))
                    .await?;
                Ok::<_, HandlerError>(())
            }
            .await;
            if let Err(e) = result {
                self.roll_back(secret, Some(&prev), version, ours).await;
                return Err(e);
            }
            tracing::warn!(
                secret,
                user = who,
                "leaver had read the password: rotation requested"
            );
            rotated.push(secret.clone());
        }
        Ok(json!({"outcome": "leaver", "user": who, "rotated": rotated}))
    }

    async fn scheduled(&self, secret: &str) -> Result<Value, HandlerError> {
        let state = self.ports.secrets.describe(secret).await?;
        let (prev, version) = self.load(secret).await?;
        if let Err(skip) = scheduled_rotation(prev.as_ref(), &state) {
            tracing::info!(secret, skip = ?skip, "scheduled rotation not needed");
            return Ok(
                json!({"outcome": "rotation-skipped", "secret": secret, "why": format!("{skip:?}")}),
            );
        }
        let Some(prev) = prev else {
            return Ok(
                json!({"outcome": "rotation-skipped", "why": format!("{:?}", Skip::NothingRecorded)}),
            );
        };
        let now = self.ports.clock.now();
        let mut next = prev.clone();
        let plan = next.rotation.get_or_insert(PlannedRotation {
            due_at: now,
            reason: Reason::Exposure,
            schedule: None,
            requested_at: None,
        });
        plan.requested_at = Some(now);
        if !self.save(secret, &next, version).await? {
            return Err(HandlerError::Contended(secret.to_owned()));
        }
        match self.ports.secrets.rotate(secret).await {
            Ok(outcome) => {
                tracing::info!(secret, outcome = ?outcome, "exposure rotation requested");
                Ok(
                    json!({"outcome": "rotation-requested", "secret": secret, "rotate": format!("{outcome:?}")}),
                )
            }
            Err(e) => {
                self.roll_back(secret, Some(&prev), version, version.unwrap_or(0) + 1)
                    .await;
                Err(e.into())
            }
        }
    }

    async fn check_policies(&self) -> Result<Value, HandlerError> {
        let mut results = Vec::new();
        let mut first_error = None;
        for secret in self.watched.all() {
            let r = async {
                let actual = self.ports.secrets.policy(secret).await?;
                let drift = policy::compare(actual.as_deref(), &self.expected_policy);
                let outcome = match &drift {
                    Drift::Same => {
                        self.alerts
                            .clear(&messages::policy_key(secret), |_| {
                                messages::policy_resolved(secret)
                            })
                            .await?
                    }
                    other => {
                        self.alerts
                            .problem(
                                messages::policy_alert(
                                    secret,
                                    &messages::drift_cause(other),
                                    &self.expected_policy,
                                ),
                                0,
                            )
                            .await?
                    }
                };
                Ok::<_, HandlerError>((drift, outcome))
            }
            .await;
            match r {
                Ok((drift, outcome)) => {
                    tracing::info!(secret = %secret_name(secret), drift = ?drift, alert = ?outcome, "policy compared");
                    results.push(json!({"secret": secret, "same": drift == Drift::Same, "alert": format!("{outcome:?}")}));
                }
                Err(e) => {
                    tracing::error!(secret = %secret, error = %e, "policy comparison failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(json!({"outcome": "policies-checked", "secrets": results})),
        }
    }
}
