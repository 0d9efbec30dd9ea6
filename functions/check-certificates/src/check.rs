//! One run of the check: fetch every target (concurrently, bounded, each with its own timeout),
//! evaluate, drive the alerts, remember what was seen, and report.
//!
//! A slow or broken target never hides the others: each target's fetch, evaluation and alerts
//! are independent, and infrastructure failures (state table, SNS) are collected and fail the
//! run only after every target was checked and reported.

use crate::advisor::{ChangeVerdict, DVV_ADDRESS, DVV_SUBJECT, RememberedCert, compare};
use crate::certs::{CertInfo, certificates_from_pem, certificates_from_secret, parse_chain};
use crate::config::Config;
use crate::error::HandlerError;
use crate::evaluate::{ChainEvaluation, Status, evaluate_chain, fractional_days};
use crate::messages::{
    FetchProblem, TlsFacts, change_alert, expiry_alert, expiry_key, expiry_resolved, source_alert,
    source_key, source_resolved, trust_alert, trust_key, trust_resolved, validity_severity,
};
use crate::report::{AlertAction, ChangeReport, DvvSubmission, Finding, Report, TargetReport};
use crate::sources::{AcmSource, SecretSource, TlsSource};
use crate::targets::{Role, Source, Target};
use futures::StreamExt;
use rustls_pki_types::CertificateDer;
use serde_json::Value;
use suomifi_shared::alerts::{AlertLifecycle, LifecycleError, Outcome, alert_pk, format_time};
use suomifi_shared::clock::Clock;
use suomifi_shared::notify::{Alert, Notifier};
use suomifi_shared::state::{Prefetching, StateStore};
use time::OffsetDateTime;

/// The adapters a [`Checker`] works through.
#[derive(Debug, Clone)]
pub struct Ports<T, S, A, St, N, C> {
    /// TLS probe.
    pub tls: T,
    /// Secrets Manager.
    pub secrets: S,
    /// Certificate Manager.
    pub acm: A,
    /// State table (alert records and remembered certificates).
    pub store: St,
    /// Where notifications go.
    pub notifier: N,
    /// What time it is.
    pub clock: C,
}

/// The certificate check, generic over its ports.
#[derive(Debug)]
pub struct Checker<T, S, A, St, N, C> {
    config: Config,
    tls: T,
    secrets: S,
    acm: A,
    /// Every run reads all its targets' records in one batch first (see [`Prefetching`]).
    store: Prefetching<St>,
    notifier: N,
    clock: C,
    lifecycle: AlertLifecycle<Prefetching<St>, N, C>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// When the run started.
    pub at: OffsetDateTime,
    /// The report.
    pub report: Report,
    /// State-table and notification failures (each names the target and alert).
    pub failures: Vec<String>,
}

struct TargetOutcome {
    report: TargetReport,
    findings: Vec<Finding>,
    failures: Vec<String>,
}

impl TargetOutcome {
    fn action(&mut self, alert: &'static str, outcome: &'static str) {
        self.report.alerts.push(AlertAction { alert, outcome });
    }

    fn lifecycle(&mut self, alert: &'static str, result: Result<Outcome, LifecycleError>) -> bool {
        match result {
            Ok(Outcome::NothingOpen) => true,
            Ok(o) => {
                self.action(alert, outcome_name(o));
                true
            }
            Err(e) => {
                self.action(alert, "failed");
                self.failures.push(format!(
                    "target `{}`, {alert} alert: {e}",
                    self.report.target
                ));
                false
            }
        }
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Opened => "opened",
        Outcome::Reminded => "reminded",
        Outcome::Escalated => "escalated",
        Outcome::Unchanged => "unchanged",
        Outcome::Resolved => "resolved",
        Outcome::NothingOpen => "nothingOpen",
        Outcome::LostRace => "lostRace",
    }
}

fn record_key(target: &str) -> String {
    format!("certificate#{target}")
}

impl<T, S, A, St, N, C> Checker<T, S, A, St, N, C>
where
    T: TlsSource,
    S: SecretSource,
    A: AcmSource,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    /// A checker for `config` working through `ports`.
    pub fn new(config: Config, ports: Ports<T, S, A, St, N, C>) -> Self {
        let store = Prefetching::new(ports.store);
        let lifecycle = AlertLifecycle::new(
            store.clone(),
            ports.notifier.clone(),
            ports.clock.clone(),
            config.reminder,
        );
        Self {
            config,
            tls: ports.tls,
            secrets: ports.secrets,
            acm: ports.acm,
            store,
            notifier: ports.notifier,
            clock: ports.clock,
            lifecycle,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Checks every target and reports. Never fails as a whole: failures of the state table or
    /// of notifications are in [`RunOutcome::failures`] for the caller to turn into an error
    /// after the report was logged and the metrics emitted.
    pub async fn run(&self) -> RunOutcome {
        self.run_until(None).await
    }

    /// [`Self::run`], starting no target after `deadline` (the Lambda deadline less the time one
    /// target can take): those are reported `notChecked` and their alerts stay as they are, so the
    /// run always answers, and a target is never cut off between claiming an alert and
    /// publishing it.
    pub async fn run_until(&self, deadline: Option<std::time::Instant>) -> RunOutcome {
        let at = self.clock.now();
        // One batched read of every record this run may look at, instead of several requests per
        // target. If it fails, the records are read one by one and each failure is reported
        // against its target as before.
        let keys: Vec<String> = self
            .config
            .targets
            .iter()
            .flat_map(|t| {
                [
                    alert_pk(&source_key(&t.name)),
                    alert_pk(&trust_key(&t.name)),
                    alert_pk(&expiry_key(&t.name)),
                    record_key(&t.name),
                ]
            })
            .collect();
        if let Err(e) = self.store.prefetch(&keys).await {
            tracing::warn!(error = %e, "batched read of the state table failed; reading per target");
        }
        let outcomes: Vec<TargetOutcome> = futures::stream::iter(&self.config.targets)
            .map(|t| self.check_target(t, deadline))
            .buffered(self.config.concurrency)
            .collect()
            .await;
        let mut findings = Vec::new();
        let mut targets = Vec::new();
        let mut failures = Vec::new();
        for o in outcomes {
            findings.extend(o.findings);
            targets.push(o.report);
            failures.extend(o.failures);
        }
        RunOutcome {
            at,
            report: Report::new(at, findings, targets),
            failures,
        }
    }

    async fn fetch(
        &self,
        target: &Target,
    ) -> Result<(Vec<CertificateDer<'static>>, Option<TlsFacts>), FetchProblem> {
        match &target.source {
            Source::Tls(endpoint) => {
                let probe = self
                    .tls
                    .probe(endpoint, self.config.probe_timeout)
                    .await
                    .map_err(|e| FetchProblem::Unreachable(e.to_string()))?;
                let facts = TlsFacts {
                    version: probe.tls_version,
                    verification: probe.verification,
                };
                Ok((probe.chain, Some(facts)))
            }
            Source::Secret(loc) => {
                let payload = self
                    .secrets
                    .read_secret(&loc.secret_id)
                    .await
                    .map_err(|e| FetchProblem::Unreachable(e.to_string()))?;
                // Only certificates leave this block; the payload (which may hold a private key
                // or a password) is dropped here.
                let chain = certificates_from_secret(
                    &payload,
                    loc.json_key.as_deref(),
                    loc.password_key.as_deref(),
                )
                .map_err(FetchProblem::Unreadable)?;
                Ok((chain, None))
            }
            Source::Acm(arn) => {
                let cert = self
                    .acm
                    .read_certificate(arn)
                    .await
                    .map_err(|e| FetchProblem::Unreachable(e.to_string()))?;
                let mut chain = certificates_from_pem(cert.certificate_pem.as_bytes())
                    .map_err(FetchProblem::Unreadable)?;
                chain.truncate(1);
                if let Some(pem) = cert.chain_pem.filter(|p| !p.trim().is_empty()) {
                    chain.extend(
                        certificates_from_pem(pem.as_bytes()).map_err(FetchProblem::Unreadable)?,
                    );
                }
                Ok((chain, None))
            }
        }
    }

    async fn check_target(
        &self,
        target: &Target,
        deadline: Option<std::time::Instant>,
    ) -> TargetOutcome {
        let mut out = TargetOutcome {
            report: TargetReport {
                target: target.name.clone(),
                source: target.source.kind(),
                role: (target.role == Role::Signing).then_some("signing"),
                status: Status::Unreachable,
                days_left: None,
                not_after: None,
                expires_first: None,
                tls_version: None,
                verification: None,
                error: None,
                change: None,
                alerts: Vec::new(),
                metric_days: None,
            },
            findings: Vec::new(),
            failures: Vec::new(),
        };
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            out.report.status = Status::NotChecked;
            out.report.error = Some("not checked: the run's deadline came first".into());
            out.findings
                .push(Finding::bare(&target.name, Status::NotChecked));
            return out;
        }
        let timeout = self.config.probe_timeout;
        let fetched = match tokio::time::timeout(timeout, self.fetch(target)).await {
            Ok(r) => r,
            Err(_) => Err(FetchProblem::Unreachable(format!(
                "no answer within {} s (PROBE_TIMEOUT_SECONDS)",
                timeout.as_secs()
            ))),
        };
        let now = self.clock.now();
        let parsed = fetched.and_then(|(chain, tls)| {
            parse_chain(&chain)
                .map(|infos| (infos, tls))
                .map_err(FetchProblem::Unreadable)
        });
        match parsed {
            Err(problem) => self.on_fetch_problem(target, &problem, &mut out).await,
            Ok((chain, tls)) => self.on_chain(target, &chain, tls, now, &mut out).await,
        }
        out
    }

    async fn on_fetch_problem(
        &self,
        target: &Target,
        problem: &FetchProblem,
        out: &mut TargetOutcome,
    ) {
        let mut finding = Finding::bare(&target.name, problem.status());
        finding.error = Some(problem.to_string());
        out.findings.push(finding);
        out.report.status = problem.status();
        out.report.error = Some(problem.to_string());
        // The validity alerts stay as they are: nothing is known about the certificate now.
        let result = self
            .lifecycle
            .problem(source_alert(target, problem), 0)
            .await;
        out.lifecycle("source", result);
    }

    async fn on_chain(
        &self,
        target: &Target,
        chain: &[CertInfo],
        tls: Option<TlsFacts>,
        now: OffsetDateTime,
        out: &mut TargetOutcome,
    ) {
        let result = self
            .lifecycle
            .clear(&source_key(&target.name), |_| source_resolved(target))
            .await;
        out.lifecycle("source", result);

        let verified = tls.as_ref().map(|t| t.verification.is_ok());
        let eval = evaluate_chain(chain, verified, now, &self.config.thresholds);
        self.fill_report(target, chain, &eval, tls.as_ref(), out);

        let current = RememberedCert::from_chain(chain, eval.governing().position, now);
        let previous = self.read_remembered(&target.name).await;
        let prev_cert = previous
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|(c, _)| c.as_ref());
        let renewed = prev_cert.is_some_and(|p| p.expiring_sha256 != current.expiring_sha256);

        let expiry_done = self
            .expiry_alerts(target, chain, &eval, tls.as_ref(), renewed, out)
            .await;
        if let Some(facts) = &tls {
            let result = match &facts.verification {
                Err(f) if !f.kind.is_time_related() => {
                    self.lifecycle
                        .problem(trust_alert(target, chain, facts, f), 0)
                        .await
                }
                _ => {
                    self.lifecycle
                        .clear(&trust_key(&target.name), |_| trust_resolved(target))
                        .await
                }
            };
            out.lifecycle("trust", result);
        }
        // Remember the new certificate only once its expiry transitions went through: otherwise
        // the next run would no longer see the renewal and could not send its [RESOLVED].
        match previous {
            Err(e) => out.failures.push(format!(
                "target `{}`: reading the remembered certificate: {e}",
                target.name
            )),
            Ok(previous) if expiry_done => {
                self.remember(target, chain, previous.unwrap_or((None, 0)), current, out)
                    .await
            }
            Ok(_) => {}
        }
    }

    fn fill_report(
        &self,
        target: &Target,
        chain: &[CertInfo],
        eval: &ChainEvaluation,
        tls: Option<&TlsFacts>,
        out: &mut TargetOutcome,
    ) {
        let tls_version = tls.map(|t| t.version.to_string());
        let verification = tls.map(|t| match &t.verification {
            Ok(()) => "ok".to_owned(),
            Err(f) => f.to_string(),
        });
        for (cert, e) in chain.iter().zip(&eval.certs) {
            out.findings.push(Finding {
                target: target.name.clone(),
                subject: Some(cert.subject.clone()),
                issuer: Some(cert.issuer.clone()),
                serial: Some(cert.serial.clone()),
                sha256: Some(cert.sha256.clone()),
                not_before: Some(format_time(cert.not_before)),
                not_after: Some(format_time(cert.not_after)),
                days_left: Some(e.days_left()),
                status: e.status,
                chain_position: Some(e.position),
                tls_version: tls_version.clone(),
                verification: verification.clone(),
                note: e.extra.then(|| {
                    "out of its validity period but on no path the chain needs (information only)".to_owned()
                }),
                error: None,
            });
        }
        let gov = eval.governing();
        out.report.status = gov.status;
        out.report.days_left = Some(gov.days_left());
        out.report.not_after = Some(format_time(chain[gov.position].not_after));
        out.report.expires_first = Some(gov.position);
        out.report.tls_version = tls_version;
        out.report.verification = verification;
        out.report.metric_days = Some(fractional_days(gov.remaining));
    }

    /// Drives the validity alert. Returns `false` when the state table or SNS failed.
    async fn expiry_alerts(
        &self,
        target: &Target,
        chain: &[CertInfo],
        eval: &ChainEvaluation,
        tls: Option<&TlsFacts>,
        renewed: bool,
        out: &mut TargetOutcome,
    ) -> bool {
        let key = expiry_key(&target.name);
        if renewed {
            // A different certificate now sets the chain's expiry: the old problem is over,
            // whatever the new certificate's own state (that is a new problem, notified anew).
            let result = self
                .lifecycle
                .clear(&key, |_| expiry_resolved(target, chain, eval, true))
                .await;
            if !out.lifecycle("expiry", result) {
                return false;
            }
        }
        let status = eval.status();
        let Some(severity) = validity_severity(status, &target.source) else {
            if renewed {
                return true;
            }
            let result = self
                .lifecycle
                .clear(&key, |_| expiry_resolved(target, chain, eval, false))
                .await;
            return out.lifecycle("expiry", result);
        };
        let gov = eval.governing();
        // One notice per threshold crossed; repeated reminders only once past the last
        // threshold (or expired, or a served certificate that is not valid yet).
        let repeats = status == Status::Expired
            || (status == Status::NotYetValid && matches!(target.source, Source::Tls(_)))
            || gov.threshold == Some(self.config.thresholds.last());
        if !repeats {
            match self.lifecycle.open_record(&key).await {
                Ok(Some(rec)) if (rec.severity, rec.stage) == (severity, gov.stage) => {
                    out.action("expiry", "unchanged");
                    return true;
                }
                Ok(_) => {}
                Err(e) => return out.lifecycle("expiry", Err(e)),
            }
        }
        let alert = expiry_alert(target, chain, eval, tls, severity);
        let result = self.lifecycle.problem(alert, gov.stage).await;
        out.lifecycle("expiry", result)
    }

    /// The remembered certificate and its version; `(None, version)` when a stored record cannot
    /// be read (an older format): it is then overwritten.
    async fn read_remembered(
        &self,
        target: &str,
    ) -> Result<Option<(Option<RememberedCert>, u64)>, String> {
        let stored = self
            .store
            .get(&record_key(target))
            .await
            .map_err(|e| e.to_string())?;
        Ok(stored.map(|v| (serde_json::from_value(v.data).ok(), v.version)))
    }

    /// Applies the change advisor and stores the current certificate. `previous` is
    /// `(None, 0)` when nothing was stored.
    async fn remember(
        &self,
        target: &Target,
        chain: &[CertInfo],
        previous: (Option<RememberedCert>, u64),
        mut current: RememberedCert,
        out: &mut TargetOutcome,
    ) {
        let key = record_key(&target.name);
        let (prev_cert, version) = previous;
        let expected = (version > 0).then_some(version);
        let verdict = compare(prev_cert.as_ref(), &current);
        let mut change = ChangeReport {
            verdict: verdict.as_str(),
            previous_sha256: None,
            dvv_submission: None,
        };
        let write = |data: &RememberedCert| {
            serde_json::to_value(data).expect("remembered certificate serialises")
        };
        match (&verdict, prev_cert) {
            (ChangeVerdict::Same, Some(prev)) => {
                // Same leaf; keep when it was first seen, and note a renewed intermediate.
                if prev.expiring_sha256 != current.expiring_sha256 {
                    current.first_seen = prev.first_seen;
                    if let Err(e) = self
                        .store
                        .put_if(&key, &write(&current), expected, None)
                        .await
                    {
                        out.failures.push(format!(
                            "target `{}`: storing the certificate: {e}",
                            target.name
                        ));
                    }
                }
            }
            (ChangeVerdict::Renewed | ChangeVerdict::Changed { .. }, Some(prev)) => {
                change.previous_sha256 = Some(prev.sha256.clone());
                if target.role == Role::Signing && matches!(verdict, ChangeVerdict::Changed { .. })
                {
                    change.dvv_submission = Some(DvvSubmission {
                        to: DVV_ADDRESS,
                        subject: DVV_SUBJECT,
                        certificate_pem: chain[0].pem(),
                    });
                }
                // Claim first: of two overlapping runs only the one whose write wins notifies.
                match self
                    .store
                    .put_if(&key, &write(&current), expected, None)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        out.action("change", "lostRace");
                        out.report.change = Some(change);
                        return;
                    }
                    Err(e) => {
                        out.failures.push(format!(
                            "target `{}`: storing the certificate: {e}",
                            target.name
                        ));
                        out.report.change = Some(change);
                        return;
                    }
                }
                if target.role == Role::Signing
                    && let Some(alert) = change_alert(target, &prev, &chain[0], &current, &verdict)
                {
                    self.publish_change(&key, &alert, &prev, version, out).await;
                }
            }
            _ => {
                // First sighting (or an unreadable old record): just remember.
                if let Err(e) = self
                    .store
                    .put_if(&key, &write(&current), expected, None)
                    .await
                {
                    out.failures.push(format!(
                        "target `{}`: storing the certificate: {e}",
                        target.name
                    ));
                }
            }
        }
        out.report.change = Some(change);
    }

    async fn publish_change(
        &self,
        key: &str,
        alert: &Alert,
        previous: &RememberedCert,
        version: u64,
        out: &mut TargetOutcome,
    ) {
        match self.notifier.publish(alert).await {
            Ok(()) => out.action("change", "notified"),
            Err(e) => {
                // Put the previous certificate back, so the next run sees the change again and
                // retries the notice instead of losing it.
                let restore =
                    serde_json::to_value(previous).expect("remembered certificate serialises");
                let _ = self
                    .store
                    .put_if(key, &restore, Some(version + 1), None)
                    .await;
                out.action("change", "failed");
                out.failures.push(format!(
                    "target `{}`, change notice: {e}",
                    out.report.target
                ));
            }
        }
    }
}

/// The Lambda handler. Accepts any JSON event — an EventBridge rule's scheduled-event envelope,
/// EventBridge Scheduler's verbatim input, or `{}` — since the check needs nothing from it.
///
/// Prints one EMF line per target with a certificate, logs one summary line, and returns the
/// report; fails (after all that) when a notification or state write failed.
pub async fn handle<T, S, A, St, N, C>(
    checker: &Checker<T, S, A, St, N, C>,
    event: Value,
) -> Result<Report, HandlerError>
where
    T: TlsSource,
    S: SecretSource,
    A: AcmSource,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    handle_until(checker, event, None).await
}

/// [`handle`] that answers before `deadline` (see [`Checker::run_until`]).
pub async fn handle_until<T, S, A, St, N, C>(
    checker: &Checker<T, S, A, St, N, C>,
    event: Value,
    deadline: Option<std::time::Instant>,
) -> Result<Report, HandlerError>
where
    T: TlsSource,
    S: SecretSource,
    A: AcmSource,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    let trigger = event
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or("direct invocation")
        .to_owned();
    let outcome = checker.run_until(deadline).await;
    for line in outcome.report.metric_lines(outcome.at) {
        println!("{line}");
    }
    let s = &outcome.report.summary;
    tracing::info!(
        trigger = %trigger,
        targets = s.targets,
        ok = s.ok,
        warning = s.warning,
        critical = s.critical,
        expired = s.expired,
        not_yet_valid = s.not_yet_valid,
        unreadable = s.unreadable,
        unreachable = s.unreachable,
        untrusted = s.untrusted,
        soonest_target = s.soonest_target.as_deref(),
        soonest_days_left = s.soonest_days_left,
        failures = outcome.failures.len(),
        "certificate check finished"
    );
    match outcome.failures.first() {
        None => Ok(outcome.report),
        Some(first) => Err(HandlerError::Alerting {
            count: outcome.failures.len(),
            first: first.clone(),
        }),
    }
}
