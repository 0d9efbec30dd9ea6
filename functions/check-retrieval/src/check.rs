//! One system's check: the credentials and API, the retriever's checkpoint and heartbeat, the
//! backlog (or the messages seen, unwatched) and the password's age, each turned into a finding
//! that drives the shared alert lifecycle, and the run's [`Report`]. Generic over the ports.

use crate::backlog::{ScanLimits, ScanOutcome, Stop};
use crate::error::CheckError;
use crate::evaluate::{Heartbeat, HeartbeatVerdict, Thresholds};
use crate::ports::{CheckpointSource, CredentialsError, CredentialsSource, TlsInspector};
use crate::render::AlertKeys;
use crate::report::{
    AlertReport, BacklogReport, CheckpointReport, CredentialsReport, HeartbeatReport,
    PasswordReport, Report, Status,
};
use crate::{backlog, config, evaluate, render, report};
use std::time::{Duration as StdDuration, Instant, SystemTime};
use suomifi_shared::alerts::{AlertLifecycle, LifecycleError};
use suomifi_shared::checkpoint::Checkpoint;
use suomifi_shared::clock::Clock;
use suomifi_shared::notify::{Alert, Notifier};
use suomifi_shared::state::StateStore;
use suomifi_shared::suomifi::{ApiBase, ApiError, SuomifiApi, Token};
use time::OffsetDateTime;

/// How long before the Lambda deadline the scan stops reading pages, leaving time to write the
/// alert state and publish.
pub const DEADLINE_MARGIN: StdDuration = StdDuration::from_secs(15);

/// What a run needs besides its ports.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The system's name (`SYSTEMS`' `name`): report entry, metric dimension, alert label.
    pub system: String,
    /// Whether alert titles begin with the system's name (when a stack watches several).
    pub name_in_titles: bool,
    /// The system's credentials secret.
    pub secret_id: String,
    /// The thresholds.
    pub thresholds: Thresholds,
    /// `REMINDER_HOURS`.
    pub reminder: time::Duration,
    /// Most event pages one run reads.
    pub max_pages: u32,
}

impl Settings {
    /// Settings of one system of the validated configuration, with the default page bound.
    pub fn for_system(config: &config::Config, system: &config::System) -> Self {
        Self {
            system: system.name.clone(),
            name_in_titles: config.systems.len() > 1,
            secret_id: system.secret_id.clone(),
            thresholds: config.thresholds,
            reminder: config.reminder,
            max_pages: backlog::MAX_PAGES_PER_RUN,
        }
    }
}

/// The ports a [`Checker`] runs over.
#[derive(Debug, Clone)]
pub struct Ports<A, Cr, Ck, S, N, C, T> {
    /// Suomi.fi.
    pub suomifi: A,
    /// The credentials secret.
    pub credentials: Cr,
    /// The retriever's checkpoint; `None` when `CHECKPOINT_PARAMETER` is not set.
    pub checkpoint: Option<Ck>,
    /// Alert state and this checker's own cursor.
    pub store: S,
    /// Where alerts go.
    pub notifier: N,
    /// The time.
    pub clock: C,
    /// The TLS version probe.
    pub tls: T,
}
/// The Lambda deadline (milliseconds since the epoch, from the invocation context) as an
/// `Instant`, less [`DEADLINE_MARGIN`]. `None` when the deadline is unknown (0).
pub fn scan_deadline(deadline_epoch_ms: u64, now: SystemTime) -> Option<Instant> {
    if deadline_epoch_ms == 0 {
        return None;
    }
    let now_ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let remaining = StdDuration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
    Some(Instant::now() + remaining.saturating_sub(DEADLINE_MARGIN))
}

/// What a check concluded about one alert key.
enum Verdict {
    /// A problem now: open, remind or escalate.
    Problem(Alert, u32),
    /// All well now: resolve if open.
    Healthy(Alert),
    /// Not evaluated this run (a prerequisite failed): leave the alert as it is.
    Unknown,
}

impl Verdict {
    /// The alert names the system: a detail row, and in the title when a stack watches several.
    fn labelled(self, settings: &Settings) -> Self {
        let label = |mut alert: Alert| {
            alert
                .details
                .insert(0, ("System".to_owned(), settings.system.clone()));
            if settings.name_in_titles {
                alert.title = format!("[{}] {}", settings.system, alert.title);
            }
            alert
        };
        match self {
            Self::Problem(alert, stage) => Self::Problem(label(alert), stage),
            Self::Healthy(alert) => Self::Healthy(label(alert)),
            Self::Unknown => Self::Unknown,
        }
    }
}

/// A logged-in API session.
struct Session {
    /// The API base the token is for.
    base: ApiBase,
    token: Token,
    username: String,
    /// The API base as shown in reports and alerts.
    api: String,
}

/// The outcome of reading the secret and logging in.
struct Login {
    cred: CredentialsReport,
    session: Option<Session>,
    /// The credentials/API finding (replaced once `GET /v2/events` has been tried).
    verdict: Verdict,
    tls_version: Option<String>,
    tls_note: Option<String>,
    /// The session uses the `AWSPENDING` password because `AWSCURRENT` was refused: `Some(false)`
    /// while a rotation is running (not paged), `Some(true)` after it stopped (critical).
    pending_only: Option<bool>,
}

/// The checkpoint read and evaluated.
struct CheckpointCheck {
    report: CheckpointReport,
    verdict: Verdict,
    /// `None` when the checkpoint is unusable or its date is distrusted.
    heartbeat: Option<Heartbeat>,
    /// Where the retriever resumes; `None` when the checkpoint is unusable.
    from_token: Option<String>,
}

impl CheckpointCheck {
    /// The token could not be tried against the API this run: a well-formed checkpoint is then
    /// no proof that an open checkpoint alert (say, "token refused") has cleared.
    fn token_unverified(&mut self) {
        if matches!(self.verdict, Verdict::Healthy(_)) {
            self.verdict = Verdict::Unknown;
        }
    }
}

/// The check, over its ports.
pub struct Checker<A, Cr, Ck, S, N, C, T> {
    suomifi: A,
    credentials: Cr,
    checkpoint: Option<Ck>,
    lifecycle: AlertLifecycle<S, N, C>,
    clock: C,
    tls: T,
    settings: Settings,
    keys: AlertKeys,
}

impl<A, Cr, Ck, S, N, C, T> Checker<A, Cr, Ck, S, N, C, T> {
    /// The system's name.
    pub fn system(&self) -> &str {
        &self.settings.system
    }

    /// The system's credentials secret.
    pub fn secret_id(&self) -> &str {
        &self.settings.secret_id
    }

    /// Whether the system's retriever is watched (a checkpoint parameter is configured).
    pub fn watches_retrieval(&self) -> bool {
        self.checkpoint.is_some()
    }
}

impl<A, Cr, Ck, S, N, C, T> Checker<A, Cr, Ck, S, N, C, T>
where
    A: SuomifiApi,
    Cr: CredentialsSource,
    Ck: CheckpointSource,
    S: StateStore,
    N: Notifier,
    C: Clock + Clone,
    T: TlsInspector,
{
    /// A checker with `settings` over `ports`.
    pub fn new(settings: Settings, ports: Ports<A, Cr, Ck, S, N, C, T>) -> Self {
        let keys = AlertKeys::new(
            &settings.secret_id,
            ports.checkpoint.as_ref().map(|c| c.name()),
        );
        Self {
            suomifi: ports.suomifi,
            credentials: ports.credentials,
            checkpoint: ports.checkpoint,
            lifecycle: AlertLifecycle::new(
                ports.store,
                ports.notifier,
                ports.clock.clone(),
                settings.reminder,
            ),
            clock: ports.clock,
            tls: ports.tls,
            settings,
            keys,
        }
    }

    /// The alert keys this checker uses.
    pub fn keys(&self) -> &AlertKeys {
        &self.keys
    }

    /// The document key of this checker's own cursor (unwatched mode).
    pub fn cursor_key(&self) -> String {
        format!(
            "retrieval/cursor/{}",
            render::secret_label(&self.settings.secret_id)
        )
    }

    /// The check: evaluates everything, drives the alert lifecycle, and returns the report.
    /// Errors only when alert state or publishing fails (see the crate docs).
    pub async fn run(&self, deadline: Option<Instant>) -> Result<Report, CheckError> {
        let now = self.clock.now();
        let th = self.settings.thresholds;
        let mut notes = Vec::new();

        // 4. Password age: independent of everything else.
        let (password_age, password_verdict) = self.check_password(now).await;
        // 1. Credentials: read the secret and log in.
        let mut login = self.login(password_age.rotation_in_progress).await;
        // 2. The retriever's checkpoint and heartbeat (watched mode).
        let mut checkpoint = self.read_checkpoint(now).await;
        // 3. Backlog (watched) or messages seen (unwatched); both also prove GET /v2/events.
        let mut backlog = None;
        let mut seen = None;
        if login.session.is_none()
            && let Some(cp) = checkpoint.as_mut()
        {
            cp.token_unverified();
        }
        if let Some(session) = &login.session {
            let limits = ScanLimits {
                max_pages: self.settings.max_pages,
                deadline,
            };
            match checkpoint.as_mut() {
                None => {
                    notes.push(
                        "CHECKPOINT_PARAMETER is not set: retrieval itself is not watched (no \
                         heartbeat, no backlog). `seen` counts the end-user messages this \
                         checker saw since its previous run."
                            .to_owned(),
                    );
                    let (report, verdict) = self
                        .scan_unwatched(session, &mut login.cred, limits, now, &mut notes)
                        .await?;
                    seen = Some(report);
                    login.verdict = verdict;
                }
                Some(cp) => {
                    let (verdict, found) = self
                        .scan_watched(session, &mut login.cred, cp, limits, now)
                        .await;
                    login.verdict = verdict;
                    if let Some((report, _, _)) = &found
                        && !report.complete
                    {
                        notes.push(format!(
                            "The backlog scan stopped after {} pages before the end of the \
                             feed: counts are lower bounds.",
                            report.pages_read
                        ));
                    }
                    backlog = found;
                }
            }
        }

        match login.pending_only {
            Some(true) => {
                let username = login.cred.username.clone().unwrap_or_default();
                let api = login.cred.api_url.clone().unwrap_or_default();
                login.verdict = Verdict::Problem(
                    render::only_pending_accepted(
                        &self.keys.credentials,
                        &self.settings.secret_id,
                        &username,
                        &api,
                    ),
                    0,
                );
            }
            Some(false) if matches!(login.verdict, Verdict::Healthy(_)) => {
                notes.push(
                    "Suomi.fi refused AWSCURRENT and accepted AWSPENDING: a rotation is changing \
                     the password right now; the credentials are checked again on the next run."
                        .to_owned(),
                );
                login.verdict = Verdict::Unknown;
            }
            _ => {}
        }

        // The heartbeat alert is built last: it quotes the backlog.
        let heartbeat = checkpoint.as_ref().and_then(|cp| cp.heartbeat);
        let heartbeat_verdict = match (&self.keys.heartbeat, heartbeat, &self.checkpoint) {
            (Some(key), Some(hb), Some(source)) => match hb.verdict {
                HeartbeatVerdict::Fresh => {
                    Verdict::Healthy(render::heartbeat_ok(key, source.name(), &hb))
                }
                HeartbeatVerdict::Stale(severity) => Verdict::Problem(
                    render::heartbeat_stale(
                        key,
                        source.name(),
                        severity,
                        &hb,
                        backlog.as_ref().map(|(_, eval, _)| eval),
                        &th,
                    ),
                    0,
                ),
                HeartbeatVerdict::InTheFuture => Verdict::Unknown,
            },
            _ => Verdict::Unknown,
        };

        let mut findings = vec![
            (self.keys.credentials.clone(), login.verdict),
            (self.keys.password_age.clone(), password_verdict),
        ];
        let mut checkpoint_report = None;
        let mut backlog_report = None;
        if let (Some(cp), Some(cp_key), Some(hb_key)) =
            (checkpoint, &self.keys.checkpoint, &self.keys.heartbeat)
        {
            findings.push((cp_key.clone(), cp.verdict));
            findings.push((hb_key.clone(), heartbeat_verdict));
            let backlog_verdict = match backlog {
                Some((report, _, verdict)) => {
                    backlog_report = Some(report);
                    verdict
                }
                None => Verdict::Unknown,
            };
            findings.push((self.keys.backlog.clone(), backlog_verdict));
            checkpoint_report = Some(cp.report);
        }
        let (status, alerts, failures) = self.apply(findings).await;

        let mut tls_note = login.tls_note;
        if login.tls_version.is_none() && tls_note.is_none() {
            tls_note = Some("not probed: the credentials could not be read".to_owned());
        }
        let report = Report {
            system: self.settings.system.clone(),
            status,
            checked_at: now,
            retrieval_watched: self.checkpoint.is_some(),
            credentials: login.cred,
            password_age,
            checkpoint: checkpoint_report,
            heartbeat: heartbeat.map(|hb| HeartbeatReport {
                updated_at: hb.updated_at,
                age_minutes: evaluate::minutes(hb.age),
                max_age_minutes: evaluate::minutes(th.heartbeat_max_age),
                stale: matches!(hb.verdict, HeartbeatVerdict::Stale(_)),
            }),
            backlog: backlog_report,
            seen,
            tls_version: login.tls_version,
            tls_note,
            alerts,
            notes,
        };
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(CheckError::Alerting {
                failures,
                report: Box::new(report),
            })
        }
    }

    /// Drives the lifecycle for every finding. Keeps going after a failure, so one broken
    /// publish does not hide the other alerts; the failures are returned together.
    async fn apply(
        &self,
        findings: Vec<(String, Verdict)>,
    ) -> (Status, Vec<AlertReport>, Vec<LifecycleError>) {
        let mut status = Status::Ok;
        let mut alerts = Vec::new();
        let mut failures = Vec::new();
        for (key, verdict) in findings {
            let (severity, result) = match verdict.labelled(&self.settings) {
                Verdict::Problem(alert, stage) => {
                    let severity = alert.severity;
                    status = status.max(Status::of(severity));
                    (
                        Some(severity),
                        Some(self.lifecycle.problem(alert, stage).await),
                    )
                }
                Verdict::Healthy(resolved) => {
                    (None, Some(self.lifecycle.clear(&key, |_| resolved).await))
                }
                Verdict::Unknown => {
                    // A part that could not be looked at is never "ok".
                    status = status.max(Status::Unknown);
                    (None, None)
                }
            };
            let outcome = match result {
                None => "unknown",
                Some(Ok(o)) => report::outcome_name(o),
                Some(Err(e)) => {
                    failures.push(e);
                    "failed"
                }
            };
            alerts.push(AlertReport {
                key,
                severity,
                outcome,
            });
        }
        (status, alerts, failures)
    }

    /// Reads the secret, probes TLS and gets a token. When Suomi.fi refuses `AWSCURRENT`, the
    /// `AWSPENDING` password of an unfinished rotation is tried: while the rotation is running
    /// (`rotation_in_progress`) that is not paged at all; after it stopped, the alert says that
    /// the pending password is the one that works and how to recover.
    async fn login(&self, rotation_in_progress: bool) -> Login {
        let secret_id = self.settings.secret_id.as_str();
        let key = &self.keys.credentials;
        let mut login = Login {
            cred: CredentialsReport {
                status: "ok",
                secret: secret_id.to_owned(),
                ..CredentialsReport::default()
            },
            session: None,
            verdict: Verdict::Unknown,
            tls_version: None,
            tls_note: None,
            pending_only: None,
        };
        let creds = match self.credentials.current().await {
            Ok(creds) => creds,
            Err(CredentialsError::Unreadable { detail, .. }) => {
                login.cred.status = "secretUnreadable";
                login.verdict =
                    Verdict::Problem(render::secret_unreadable(key, secret_id, &detail), 0);
                login.cred.error = Some(detail);
                return login;
            }
            Err(CredentialsError::Malformed { source, .. }) => {
                let problem = source.to_string();
                login.cred.status = "secretMalformed";
                login.verdict =
                    Verdict::Problem(render::secret_malformed(key, secret_id, &problem), 0);
                login.cred.error = Some(problem);
                return login;
            }
        };
        let api = creds.api.as_str().to_owned();
        login.cred.username = Some(creds.username.clone());
        login.cred.api_url = Some(api.clone());
        if creds.api.is_tls() {
            match self.tls.negotiated_version(&creds.api).await {
                Ok(v) => login.tls_version = Some(v),
                Err(e) => login.tls_note = Some(format!("TLS probe failed: {e}")),
            }
        } else {
            login.tls_version = Some("none".to_owned());
        }
        let started = Instant::now();
        let attempt = self
            .suomifi
            .token(&creds.api, &creds.username, &creds.password)
            .await;
        match attempt {
            Ok(token) => {
                login.cred.token_latency_ms = Some(started.elapsed().as_millis() as u64);
                login.session = Some(Session {
                    base: creds.api.clone(),
                    token,
                    username: creds.username,
                    api,
                });
            }
            Err(e @ ApiError::AuthenticationFailed { .. }) => {
                let pending = match self.credentials.pending().await {
                    Some(p) if p.password != creds.password && p.username == creds.username => self
                        .suomifi
                        .token(&p.api, &p.username, &p.password)
                        .await
                        .ok()
                        .map(|token| (p.api, token)),
                    _ => None,
                };
                match pending {
                    Some((base, token)) => {
                        login.cred.error = Some(e.to_string());
                        login.session = Some(Session {
                            base,
                            token,
                            username: creds.username.clone(),
                            api: api.clone(),
                        });
                        if rotation_in_progress {
                            // A rotation changed the password a moment ago and will promote it.
                            login.cred.status = "rotationInProgress";
                            login.pending_only = Some(false);
                        } else {
                            login.cred.status = "onlyPendingAccepted";
                            login.pending_only = Some(true);
                        }
                    }
                    None => {
                        login.verdict =
                            self.api_problem(&mut login.cred, &creds.username, &api, &e);
                    }
                }
            }
            Err(e) => {
                login.verdict = self.api_problem(&mut login.cred, &creds.username, &api, &e);
            }
        }
        login
    }

    /// Reads and evaluates the retriever's checkpoint; `None` in unwatched mode.
    async fn read_checkpoint(&self, now: OffsetDateTime) -> Option<CheckpointCheck> {
        let (source, key) = (self.checkpoint.as_ref()?, self.keys.checkpoint.as_ref()?);
        let parameter = source.name().to_owned();
        let mut check = CheckpointCheck {
            report: CheckpointReport {
                parameter: parameter.clone(),
                status: "ok",
                error: None,
            },
            verdict: Verdict::Unknown,
            heartbeat: None,
            from_token: None,
        };
        let (status, error, verdict) = match source.read().await {
            Err(e) => {
                let detail = e.to_string();
                let alert = render::checkpoint_unreadable(key, &parameter, &detail);
                ("unreadable", Some(detail), Verdict::Problem(alert, 0))
            }
            Ok(None) => (
                "missing",
                None,
                Verdict::Problem(render::checkpoint_missing(key, &parameter), 0),
            ),
            Ok(Some(value)) => match Checkpoint::parse(&value) {
                Err(e) => {
                    let detail = e.to_string();
                    let alert = render::checkpoint_malformed(key, &parameter, &detail);
                    ("malformed", Some(detail), Verdict::Problem(alert, 0))
                }
                Ok(cp) => {
                    let hb = evaluate::heartbeat(cp.updated_at, now, &self.settings.thresholds);
                    // Even a distrusted date leaves a usable token: the backlog is still counted.
                    check.from_token = Some(cp.continuation_token);
                    if hb.verdict == HeartbeatVerdict::InTheFuture {
                        let alert = render::checkpoint_in_future(key, &parameter, &hb, now);
                        ("inTheFuture", None, Verdict::Problem(alert, 0))
                    } else {
                        check.heartbeat = Some(hb);
                        let ok = render::checkpoint_ok(key, &parameter);
                        ("ok", None, Verdict::Healthy(ok))
                    }
                }
            },
        };
        check.report.status = status;
        check.report.error = error;
        check.verdict = verdict;
        Some(check)
    }

    /// Watched mode: the backlog from the retriever's token. Returns the API verdict and, when
    /// anything was read, the backlog's report, evaluation and verdict. A token the API refuses
    /// turns the checkpoint finding into "token refused" (and the API is probed without it).
    async fn scan_watched(
        &self,
        s: &Session,
        cred: &mut CredentialsReport,
        cp: &mut CheckpointCheck,
        limits: ScanLimits,
        now: OffsetDateTime,
    ) -> (Verdict, Option<(BacklogReport, evaluate::Backlog, Verdict)>) {
        let Some(from) = cp.from_token.clone() else {
            // No usable checkpoint token: still prove that GET /v2/events answers.
            return (self.probe_api(s, cred).await, None);
        };
        let grace_cutoff = now - self.settings.thresholds.backlog_grace;
        let out = backlog::scan(
            &self.suomifi,
            &s.base,
            &s.token.access_token,
            Some(from),
            grace_cutoff,
            limits,
        )
        .await;
        cred.events_latency_ms = out.first_page_latency.map(|d| d.as_millis() as u64);
        match &out.stop {
            Stop::Failed {
                error: error @ ApiError::Client { .. },
                on_first_page: true,
            } => {
                if let Some(key) = &self.keys.checkpoint {
                    let alert = render::checkpoint_token_refused(key, &cp.report.parameter, error);
                    cp.verdict = Verdict::Problem(alert, 0);
                    cp.report.status = "tokenRefused";
                    cp.report.error = Some(error.to_string());
                }
                (self.probe_api(s, cred).await, None)
            }
            Stop::Failed {
                error,
                on_first_page: true,
            } => {
                cp.token_unverified();
                (self.api_problem(cred, &s.username, &s.api, error), None)
            }
            stop => {
                let api = match stop {
                    Stop::Failed { error, .. } => {
                        self.api_problem(cred, &s.username, &s.api, error)
                    }
                    // Out of time before the first page: GET /v2/events was never asked.
                    Stop::TimeBudget | Stop::PageLimit if out.counter.pages == 0 => {
                        cred.status = "eventsNotRead";
                        Verdict::Unknown
                    }
                    _ => Verdict::Healthy(render::credentials_ok(
                        &self.keys.credentials,
                        &s.username,
                        &s.api,
                    )),
                };
                let heartbeat = cp.heartbeat;
                (
                    api,
                    Some(self.backlog_findings(out, heartbeat.as_ref(), now)),
                )
            }
        }
    }

    async fn check_password(&self, now: OffsetDateTime) -> (PasswordReport, Verdict) {
        let th = &self.settings.thresholds;
        let secret_id = self.settings.secret_id.as_str();
        let key = &self.keys.password_age;
        let mut report = PasswordReport {
            max_age_days: th.password_max_age.whole_days(),
            ..PasswordReport::default()
        };
        match self.credentials.metadata().await {
            Err(e) => {
                report.error = Some(e.to_string());
                let alert = render::password_metadata_unreadable(key, secret_id, &e.detail);
                (report, Verdict::Problem(alert, 0))
            }
            Ok(meta) => {
                let p = evaluate::password_age(&meta, now, th);
                report.age_days = p.age.map(evaluate::days);
                report.changed_at = p.changed_at;
                report.basis = p.basis.map(|b| b.as_str());
                report.rotation_enabled = Some(meta.rotation_enabled);
                report.next_rotation_date = meta.next_rotation;
                report.rotation_in_progress = p.rotation_in_progress;
                report.rotation_failing = p.trouble.map(|t| match t {
                    evaluate::RotationTrouble::LeftoverPending => "leftoverPending",
                    evaluate::RotationTrouble::Overdue { .. } => "overdue",
                });
                let verdict = if p.severity.is_some() {
                    Verdict::Problem(render::password_problem(key, secret_id, &p, &meta, th), 0)
                } else {
                    Verdict::Healthy(render::password_ok(key, secret_id, &p))
                };
                (report, verdict)
            }
        }
    }

    /// Records an API failure in the report and builds its finding.
    fn api_problem(
        &self,
        cred: &mut CredentialsReport,
        username: &str,
        api: &str,
        e: &ApiError,
    ) -> Verdict {
        cred.error = Some(e.to_string());
        cred.trace_id = e.trace_id().map(str::to_owned);
        let key = &self.keys.credentials;
        let alert = if let ApiError::AuthenticationFailed { .. } = e {
            cred.status = "refused";
            render::credentials_refused(key, &self.settings.secret_id, username, api, e)
        } else {
            cred.status = if e.outcome_unknown() {
                "unreachable"
            } else {
                "apiError"
            };
            render::api_failed(key, username, api, e)
        };
        Verdict::Problem(alert, 0)
    }

    /// One `GET /v2/events` from the start of the feed: the API check when there is no usable
    /// continuation token to read from.
    async fn probe_api(&self, s: &Session, cred: &mut CredentialsReport) -> Verdict {
        let started = Instant::now();
        match self
            .suomifi
            .events_page(&s.base, &s.token.access_token, None)
            .await
        {
            Ok(_) => {
                cred.events_latency_ms = Some(started.elapsed().as_millis() as u64);
                Verdict::Healthy(render::credentials_ok(
                    &self.keys.credentials,
                    &s.username,
                    &s.api,
                ))
            }
            Err(e) => self.api_problem(cred, &s.username, &s.api, &e),
        }
    }

    fn backlog_findings(
        &self,
        out: ScanOutcome,
        heartbeat: Option<&Heartbeat>,
        now: OffsetDateTime,
    ) -> (BacklogReport, evaluate::Backlog, Verdict) {
        let th = &self.settings.thresholds;
        let complete = out.is_complete();
        let truncated = matches!(out.stop, Stop::PageLimit | Stop::TimeBudget);
        let eval = evaluate::backlog(&out.counter, now);
        let key = &self.keys.backlog;
        let verdict = if eval.severity.is_some() {
            // Even a partial count proves overdue messages: a lower bound is enough to alert.
            Verdict::Problem(
                render::backlog_overdue(key, &eval, &out.counter, complete, heartbeat, th),
                eval.stage,
            )
        } else if complete {
            Verdict::Healthy(render::backlog_ok(key, &eval, heartbeat, th))
        } else {
            // Nothing overdue in the part read, but the rest is unknown: leave the alert as is.
            Verdict::Unknown
        };
        let report = BacklogReport::new(out.counter, &eval, th.backlog_grace, complete, truncated);
        (report, eval, verdict)
    }

    /// Unwatched mode: count the end-user messages since this checker's own cursor, then move
    /// the cursor (a conditional write: of two overlapping runs one moves it).
    async fn scan_unwatched(
        &self,
        s: &Session,
        cred: &mut CredentialsReport,
        limits: ScanLimits,
        now: OffsetDateTime,
        notes: &mut Vec<String>,
    ) -> Result<(BacklogReport, Verdict), CheckError> {
        let grace_cutoff = now - self.settings.thresholds.backlog_grace;
        let store = self.lifecycle.store();
        let cursor_key = self.cursor_key();
        let stored = store.get(&cursor_key).await?;
        let version = stored.as_ref().map(|v| v.version);
        let cursor = stored.and_then(|v| match Checkpoint::parse(&v.data.to_string()) {
            Ok(cp) => Some(cp),
            Err(e) => {
                tracing::warn!(cursor = %cursor_key, error = %e, "own cursor unusable; reading from the start of the feed");
                None
            }
        });
        let since = cursor.as_ref().map(|c| c.updated_at);
        let from = cursor.map(|c| c.continuation_token);
        let mut out = backlog::scan(
            &self.suomifi,
            &s.base,
            &s.token.access_token,
            from.clone(),
            grace_cutoff,
            limits,
        )
        .await;
        if from.is_some()
            && matches!(
                &out.stop,
                Stop::Failed {
                    error: ApiError::Client { .. },
                    on_first_page: true
                }
            )
        {
            notes.push(
                "Suomi.fi refused this checker's own cursor; it read from the start of the \
                 feed instead."
                    .to_owned(),
            );
            out = backlog::scan(
                &self.suomifi,
                &s.base,
                &s.token.access_token,
                None,
                grace_cutoff,
                limits,
            )
            .await;
        }
        cred.events_latency_ms = out.first_page_latency.map(|d| d.as_millis() as u64);
        let verdict = match &out.stop {
            Stop::Failed { error, .. } => self.api_problem(cred, &s.username, &s.api, error),
            _ => Verdict::Healthy(render::credentials_ok(
                &self.keys.credentials,
                &s.username,
                &s.api,
            )),
        };
        if let Some(token) = &out.resume_token {
            let doc: serde_json::Value =
                serde_json::from_str(&Checkpoint::new(token.clone(), now).to_json())
                    .expect("a checkpoint serialises to a JSON object");
            if !store.put_if(&cursor_key, &doc, version, None).await? {
                tracing::info!(cursor = %cursor_key, "another run moved the cursor first");
            }
        }
        let complete = out.is_complete();
        let truncated = matches!(out.stop, Stop::PageLimit | Stop::TimeBudget);
        let eval = evaluate::backlog(&out.counter, now);
        let mut report = BacklogReport::new(
            out.counter,
            &eval,
            self.settings.thresholds.backlog_grace,
            complete,
            truncated,
        );
        report.since = since;
        Ok((report, verdict))
    }
}
