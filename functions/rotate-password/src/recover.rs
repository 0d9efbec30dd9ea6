//! The one safe way out of a stuck rotation (`suomifi-ops recover`).
//!
//! A rotation that stopped after `setSecret` may have changed the password at Suomi.fi: then only
//! the `AWSPENDING` password works, and removing that label (the usual advice for a "stuck"
//! rotation) drops the only working password from every label. Recovery therefore *proves*
//! first, with DVV's own test (a token, then `GET /v2/events`), which stored password Suomi.fi
//! accepts, and only then moves labels:
//!
//! | AWSPENDING | AWSCURRENT | what recovery does |
//! | --- | --- | --- |
//! | accepted | (any) | makes the pending version `AWSCURRENT` (the old one becomes `AWSPREVIOUS`), removes `AWSPENDING` |
//! | refused or empty | accepted | removes the stale `AWSPENDING` label (re-probing the pending password right before) |
//! | refused | refused | changes nothing: drift, a person must find the password |
//! | could not be asked | — | changes nothing: try again when Suomi.fi answers |
//!
//! The pending password is probed before the current one, and every removal is followed by a
//! check that the remaining `AWSCURRENT` works (promoting the pending version after all if a
//! concurrent rotation changed the password in between), so a rotation running at the same
//! moment cannot make recovery drop the working password.

use serde::Serialize;
use suomifi_shared::secret::Credentials;
use suomifi_shared::secrets::{
    AWSCURRENT, AWSPENDING, AWSPREVIOUS, CHANGE_ATTEMPTED, SecretMeta, SecretStore, SecretsError,
};
use suomifi_shared::suomifi::{ApiError, SuomifiApi};

/// What DVV's test said of one stored password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "detail")]
pub enum Probe {
    /// A token, and `GET /v2/events` answered 200.
    Accepted,
    /// `POST /v1/token` refused the password (400).
    Refused,
    /// The version has no value (the empty `AWSPENDING` Secrets Manager creates before
    /// `createSecret`).
    NoValue,
    /// The value is not usable credentials JSON (the reason, never the value).
    Malformed(String),
    /// Suomi.fi could not be asked, or answered otherwise (the error, which holds no secret).
    Unknown(String),
}

/// One labelled version and its probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionProbe {
    /// Version id.
    pub version: String,
    /// The labels it had when recovery started.
    pub labels: Vec<String>,
    /// What Suomi.fi said.
    pub probe: Probe,
}

/// What recovery found and did (no password anywhere in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryReport {
    /// The secret's name.
    pub secret: String,
    /// `AWSCURRENT`.
    pub current: Option<VersionProbe>,
    /// `AWSPENDING`, when it sits on another version than `AWSCURRENT`.
    pub pending: Option<VersionProbe>,
    /// `AWSPREVIOUS`, probed only when neither of the others works.
    pub previous: Option<VersionProbe>,
    /// What was done (or, with `dry_run`, would be done), in order.
    pub actions: Vec<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The secret is consistent now: the password Suomi.fi accepts is `AWSCURRENT` and no
    /// `AWSPENDING` is left on another version.
    pub consistent: bool,
    /// What a person should do next, when not consistent.
    pub advice: Vec<String>,
}

/// Recovery could not even look.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// Secrets Manager failed.
    #[error(transparent)]
    SecretsManager(#[from] SecretsError),
    /// The secret has no `AWSCURRENT` version.
    #[error("secret `{0}` has no AWSCURRENT version")]
    NoCurrent(String),
}

/// Recovery over the rotation's own ports.
pub struct Recovery<S, A> {
    secrets: S,
    api: A,
}

impl<S: SecretStore, A: SuomifiApi> Recovery<S, A> {
    /// A recovery over these ports.
    pub fn new(secrets: S, api: A) -> Self {
        Self { secrets, api }
    }

    async fn probe_creds(&self, creds: &Credentials) -> Probe {
        match self
            .api
            .verify_credentials(&creds.api, &creds.username, &creds.password)
            .await
        {
            Ok(()) => Probe::Accepted,
            Err(ApiError::AuthenticationFailed { .. }) => Probe::Refused,
            Err(e) => Probe::Unknown(e.to_string()),
        }
    }

    async fn probe(
        &self,
        secret_id: &str,
        version: &str,
        stage: &str,
    ) -> Result<Probe, SecretsError> {
        let Some(value) = self
            .secrets
            .get_value(secret_id, Some(version), stage)
            .await?
        else {
            return Ok(Probe::NoValue);
        };
        Ok(match Credentials::parse(&value) {
            Ok(c) => self.probe_creds(&c).await,
            Err(e) => Probe::Malformed(e.to_string()),
        })
    }

    async fn password_of(
        &self,
        secret_id: &str,
        version: &str,
        stage: &str,
    ) -> Result<Option<String>, SecretsError> {
        Ok(self
            .secrets
            .get_value(secret_id, Some(version), stage)
            .await?
            .and_then(|v| Credentials::parse(&v).ok())
            .map(|c| c.password.expose().to_owned()))
    }

    /// Looks, decides and (unless `dry_run`) acts.
    pub async fn run(
        &self,
        secret_id: &str,
        dry_run: bool,
    ) -> Result<RecoveryReport, RecoveryError> {
        let meta = self.secrets.describe(secret_id).await?;
        let current_v = meta
            .version_with(AWSCURRENT)
            .ok_or_else(|| RecoveryError::NoCurrent(secret_id.to_owned()))?
            .to_owned();
        let pending_v = meta.version_with(AWSPENDING).map(str::to_owned);
        let labels = |v: &str| {
            meta.stages_of(v)
                .map(<[String]>::to_vec)
                .unwrap_or_default()
        };
        let mut report = RecoveryReport {
            secret: if meta.name.is_empty() {
                secret_id.to_owned()
            } else {
                meta.name.clone()
            },
            current: None,
            pending: None,
            previous: None,
            actions: Vec::new(),
            dry_run,
            consistent: false,
            advice: Vec::new(),
        };
        let act = |report: &mut RecoveryReport, what: String| {
            report.actions.push(if dry_run {
                format!("would {what}")
            } else {
                what
            });
        };

        // AWSPENDING on the AWSCURRENT version: same value, the label is only a leftover of a
        // finishSecret that stopped between its two updates.
        if pending_v.as_deref() == Some(current_v.as_str()) {
            act(
                &mut report,
                format!(
                    "remove AWSPENDING from version {current_v}, which is also AWSCURRENT (same password)"
                ),
            );
            if !dry_run {
                self.secrets
                    .update_stage(secret_id, AWSPENDING, None, Some(&current_v))
                    .await?;
            }
        }
        let pending_v = pending_v.filter(|v| *v != current_v);

        // Pending first: see the module docs for why the order matters.
        let pending_probe = match &pending_v {
            Some(v) => Some(self.probe(secret_id, v, AWSPENDING).await?),
            None => None,
        };
        let current_probe = self.probe(secret_id, &current_v, AWSCURRENT).await?;
        report.current = Some(VersionProbe {
            version: current_v.clone(),
            labels: labels(&current_v),
            probe: current_probe.clone(),
        });
        if let (Some(v), Some(p)) = (&pending_v, &pending_probe) {
            report.pending = Some(VersionProbe {
                version: v.clone(),
                labels: labels(v),
                probe: p.clone(),
            });
        }

        let unknown = matches!(current_probe, Probe::Unknown(_))
            || matches!(pending_probe, Some(Probe::Unknown(_)));
        if unknown {
            report.advice.push("Suomi.fi could not be asked (see the probe details); nothing was changed. Run recover again when the API answers.".into());
            return Ok(report);
        }

        match (&pending_v, &pending_probe) {
            (Some(p), Some(Probe::Accepted)) => {
                let same = self.password_of(secret_id, p, AWSPENDING).await?
                    == self.password_of(secret_id, &current_v, AWSCURRENT).await?;
                if same {
                    // Both hold the same password: the pending one is redundant.
                    self.drop_pending(secret_id, p, &current_v, &meta, dry_run, &mut report)
                        .await?;
                } else {
                    act(
                        &mut report,
                        format!(
                            "make version {p} (AWSPENDING, accepted by Suomi.fi) AWSCURRENT; version {current_v} becomes AWSPREVIOUS"
                        ),
                    );
                    act(&mut report, format!("remove AWSPENDING from version {p}"));
                    if !dry_run {
                        self.promote(secret_id, p, &current_v, &meta).await?;
                    }
                    report.consistent = !dry_run;
                }
            }
            (Some(p), Some(_)) if current_probe == Probe::Accepted => {
                self.drop_pending(secret_id, p, &current_v, &meta, dry_run, &mut report)
                    .await?;
            }
            (None, _) if current_probe == Probe::Accepted => {
                report.consistent = report.actions.is_empty() || !dry_run;
            }
            _ => {
                // Neither works. AWSPREVIOUS may tell what happened; nothing is changed.
                if let Some(prev_v) = meta.version_with(AWSPREVIOUS).filter(|v| *v != current_v) {
                    let probe = self.probe(secret_id, prev_v, AWSPREVIOUS).await?;
                    if probe == Probe::Accepted {
                        report.advice.push(format!(
                            "Only the AWSPREVIOUS password (version {prev_v}) works: the secret was rolled forward without the change. Make it current: `aws secretsmanager update-secret-version-stage --secret-id {secret_id} --version-stage AWSCURRENT --move-to-version-id {prev_v} --remove-from-version-id {current_v}`, then run recover again."
                        ));
                    }
                    report.previous = Some(VersionProbe {
                        version: prev_v.to_owned(),
                        labels: labels(prev_v),
                        probe,
                    });
                }
                report.advice.push("Suomi.fi accepts none of the stored passwords (drift): nothing was changed. Find out who changed the password outside the rotation.".into());
                report.advice.push(format!("If you know the working password: `suomifi-ops import-password --secret-id {secret_id}` (it verifies it before storing). Otherwise ask DVV (organisaatiopalvelut@dvv.fi) to reset the API password, then import it."));
            }
        }
        if !report.consistent && report.advice.is_empty() && dry_run {
            report.advice.push(format!("Run `suomifi-ops recover --secret-id {secret_id}` without --dry-run to do the above."));
        }
        Ok(report)
    }

    /// AWSCURRENT works and the pending password does not: remove the stale label, proving both
    /// again around the removal.
    async fn drop_pending(
        &self,
        secret_id: &str,
        pending_v: &str,
        current_v: &str,
        meta: &SecretMeta,
        dry_run: bool,
        report: &mut RecoveryReport,
    ) -> Result<(), RecoveryError> {
        let prefix = if dry_run { "would " } else { "" };
        report.actions.push(format!("{prefix}remove the stale AWSPENDING label from version {pending_v} (AWSCURRENT is accepted, AWSPENDING is not)"));
        if dry_run {
            return Ok(());
        }
        // Right before: still refused? (A rotation may have changed the password since.)
        if self.probe(secret_id, pending_v, AWSPENDING).await? == Probe::Accepted {
            report.actions.push(format!("the AWSPENDING password is accepted now (a rotation changed it meanwhile): make version {pending_v} AWSCURRENT instead"));
            self.promote(secret_id, pending_v, current_v, meta).await?;
            report.consistent = true;
            return Ok(());
        }
        self.secrets
            .update_stage(secret_id, AWSPENDING, None, Some(pending_v))
            .await?;
        self.drop_marker(secret_id, pending_v, meta).await?;
        // Right after: does AWSCURRENT still work? If not, a rotation changed the password in
        // the meantime and the working one may be the pending version's: put the label back,
        // exactly as it was, so nothing is lost, and say to look again.
        if self.probe(secret_id, current_v, AWSCURRENT).await? == Probe::Accepted {
            report.consistent = true;
        } else {
            self.secrets
                .update_stage(secret_id, AWSPENDING, Some(pending_v), None)
                .await?;
            report.actions.push(format!("AWSCURRENT stopped working right after the removal: put AWSPENDING back on version {pending_v}"));
            report.advice.push(format!("A rotation seems to be running right now; wait a few minutes and run `suomifi-ops recover --secret-id {secret_id}` again."));
        }
        Ok(())
    }

    /// Removes the rotation's change marker from `version`, if it is there.
    async fn drop_marker(
        &self,
        secret_id: &str,
        version: &str,
        meta: &SecretMeta,
    ) -> Result<(), SecretsError> {
        if meta.version_with(CHANGE_ATTEMPTED) == Some(version) {
            self.secrets
                .update_stage(secret_id, CHANGE_ATTEMPTED, None, Some(version))
                .await?;
        }
        Ok(())
    }

    async fn promote(
        &self,
        secret_id: &str,
        pending_v: &str,
        current_v: &str,
        meta: &SecretMeta,
    ) -> Result<(), SecretsError> {
        self.secrets
            .update_stage(secret_id, AWSCURRENT, Some(pending_v), Some(current_v))
            .await?;
        self.secrets
            .update_stage(secret_id, AWSPENDING, None, Some(pending_v))
            .await?;
        self.drop_marker(secret_id, pending_v, meta).await?;
        Ok(())
    }
}
