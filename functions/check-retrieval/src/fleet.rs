//! Every system in one run: an organisation seldom has one Suomi.fi system (early education,
//! social services, case management, several municipalities on one platform), each with its own
//! API user, password and retriever. A [`Fleet`] checks them all concurrently, at most
//! [`MAX_CONCURRENT_SYSTEMS`] at a time, each with its own alert keys — one stalled system alerts
//! once, the others stay quiet — and reports one entry per system plus the worst status.
//!
//! A slow or failing system never keeps the others from being checked and reported: every
//! system's scan stops at the run's deadline, and a system still busy shortly before the Lambda
//! deadline is reported `unknown` (never `ok`) while the others' results stand.

use crate::ports::{CheckpointSource, CredentialsSource, TlsInspector};
use crate::report::{CredentialsReport, PasswordReport, Report, Status};
use crate::{CheckError, Checker, DEADLINE_MARGIN};
use futures::StreamExt as _;
use serde::Serialize;
use std::time::{Duration, Instant};
use suomifi_shared::clock::Clock;
use suomifi_shared::notify::Notifier;
use suomifi_shared::state::StateStore;
use suomifi_shared::suomifi::SuomifiApi;
use time::OffsetDateTime;

/// How many systems are checked at the same time.
pub const MAX_CONCURRENT_SYSTEMS: usize = 8;

/// How long before the Lambda deadline a system still being checked is given up (reported
/// `unknown`), leaving time to log the report and answer. Less than [`DEADLINE_MARGIN`], so a
/// system's scan (which stops at the run's deadline) normally finishes on its own first.
pub const GIVE_UP_MARGIN: Duration = Duration::from_secs(3);

/// The report of one run over every system.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetReport {
    /// The worst status of any system.
    pub status: Status,
    /// When the run started.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Counts per status, for a one-line summary.
    pub summary: Summary,
    /// One report per system, in the configured order.
    pub systems: Vec<Report>,
}

/// How many systems ended in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Systems checked.
    pub systems: usize,
    /// `ok`.
    pub ok: usize,
    /// `unknown`.
    pub unknown: usize,
    /// `warning`.
    pub warning: usize,
    /// `critical`.
    pub critical: usize,
}

impl FleetReport {
    fn new(checked_at: OffsetDateTime, systems: Vec<Report>) -> Self {
        let mut summary = Summary {
            systems: systems.len(),
            ..Summary::default()
        };
        for r in &systems {
            match r.status {
                Status::Ok => summary.ok += 1,
                Status::Unknown => summary.unknown += 1,
                Status::Warning => summary.warning += 1,
                Status::Critical => summary.critical += 1,
            }
        }
        let status = systems
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(Status::Unknown);
        Self {
            status,
            checked_at,
            summary,
            systems,
        }
    }

    /// The systems, worst first (ties in the configured order): how tables show them.
    pub fn worst_first(&self) -> Vec<&Report> {
        let mut v: Vec<&Report> = self.systems.iter().collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.status));
        v
    }
}

/// The watcher itself failed for some systems (their alert state or publishing): the run fails
/// so that the function's `Errors` alarm fires, after every system was checked and reported.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(.failures))]
pub struct FleetError {
    /// Each failed system's name and error.
    pub failures: Vec<(String, CheckError)>,
    /// The report of the run (logged).
    pub report: Box<FleetReport>,
}

fn describe(failures: &[(String, CheckError)]) -> String {
    failures
        .iter()
        .map(|(name, e)| format!("system `{name}`: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl FleetError {
    /// The Lambda error type: `CheckRetrieval.StateTableFailed` when any system's state table
    /// failed, else `CheckRetrieval.AlertingFailed`.
    pub fn error_type(&self) -> &'static str {
        if self
            .failures
            .iter()
            .any(|(_, e)| matches!(e, CheckError::State(_)))
        {
            "CheckRetrieval.StateTableFailed"
        } else {
            "CheckRetrieval.AlertingFailed"
        }
    }
}

suomifi_shared::lambda_diagnostic!(FleetError);

/// Every system's [`Checker`], run together.
pub struct Fleet<A, Cr, Ck, S, N, C, T> {
    checkers: Vec<Checker<A, Cr, Ck, S, N, C, T>>,
    clock: C,
    /// How long after the scans' deadline a system still busy is given up.
    grace: Duration,
}

impl<A, Cr, Ck, S, N, C, T> Fleet<A, Cr, Ck, S, N, C, T>
where
    A: SuomifiApi,
    Cr: CredentialsSource,
    Ck: CheckpointSource,
    S: StateStore,
    N: Notifier,
    C: Clock + Clone,
    T: TlsInspector,
{
    /// A fleet of `checkers` (one per system), with `clock` for the run's start time.
    pub fn new(checkers: Vec<Checker<A, Cr, Ck, S, N, C, T>>, clock: C) -> Self {
        Self {
            checkers,
            clock,
            grace: DEADLINE_MARGIN.saturating_sub(GIVE_UP_MARGIN),
        }
    }

    /// Gives a system still busy up `grace` after the scans' deadline instead of
    /// [`GIVE_UP_MARGIN`] before the Lambda deadline (for callers with a deadline of their own).
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// One run as the Lambda handler does it: [`run`](Self::run), then each system's report
    /// logged as one structured line, its metrics in Embedded Metric Format with a `System`
    /// dimension, and one summary line.
    pub async fn handle(&self, deadline: Option<Instant>) -> Result<FleetReport, FleetError> {
        let result = self.run(deadline).await;
        let report = match &result {
            Ok(r) => r,
            Err(e) => &e.report,
        };
        for system in &report.systems {
            crate::report::log_report(system);
            let metrics = system.metrics();
            if !metrics.is_empty() {
                suomifi_shared::telemetry::emit_metrics(
                    system.checked_at,
                    &[("System", system.system.as_str())],
                    &metrics,
                );
            }
        }
        let s = report.summary;
        tracing::info!(
            status = ?report.status,
            systems = s.systems,
            ok = s.ok,
            unknown = s.unknown,
            warning = s.warning,
            critical = s.critical,
            "retrieval check of every system"
        );
        result
    }

    /// Checks every system, [`MAX_CONCURRENT_SYSTEMS`] at a time. `deadline` is when the scans
    /// must stop (see [`crate::scan_deadline`]); a system still busy [`GIVE_UP_MARGIN`] before
    /// the Lambda deadline is reported `unknown` and its alerts are left as they are.
    pub async fn run(&self, deadline: Option<Instant>) -> Result<FleetReport, FleetError> {
        let started = self.clock.now();
        let give_up = deadline.map(|d| d + self.grace);
        let runs = self.checkers.iter().map(|checker| async move {
            let outcome = match give_up {
                Some(at) => tokio::time::timeout_at(at.into(), checker.run(deadline))
                    .await
                    .ok(),
                None => Some(checker.run(deadline).await),
            };
            (checker, outcome)
        });
        let outcomes: Vec<_> = futures::stream::iter(runs)
            .buffered(MAX_CONCURRENT_SYSTEMS)
            .collect()
            .await;
        let mut reports = Vec::with_capacity(outcomes.len());
        let mut failures = Vec::new();
        for (checker, outcome) in outcomes {
            let name = checker.system().to_owned();
            match outcome {
                Some(Ok(report)) => reports.push(report),
                Some(Err(CheckError::Alerting {
                    failures: f,
                    report,
                })) => {
                    reports.push((*report).clone());
                    failures.push((
                        name,
                        CheckError::Alerting {
                            failures: f,
                            report,
                        },
                    ));
                }
                Some(Err(e @ CheckError::State(_))) => {
                    reports.push(not_checked(
                        checker,
                        started,
                        format!("the state table failed: {e}"),
                    ));
                    failures.push((name, e));
                }
                None => reports.push(not_checked(
                    checker,
                    started,
                    "not finished before the Lambda deadline: the other systems were reported; \
                     this one is checked again on the next run (a longer function timeout or \
                     fewer systems per stack gives it time)"
                        .to_owned(),
                )),
            }
        }
        let report = FleetReport::new(started, reports);
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(FleetError {
                failures,
                report: Box::new(report),
            })
        }
    }
}

/// The report of a system that could not be checked this run: `unknown`, never `ok`.
fn not_checked<A, Cr, Ck, S, N, C, T>(
    checker: &Checker<A, Cr, Ck, S, N, C, T>,
    at: OffsetDateTime,
    why: String,
) -> Report {
    Report {
        system: checker.system().to_owned(),
        status: Status::Unknown,
        checked_at: at,
        retrieval_watched: checker.watches_retrieval(),
        credentials: CredentialsReport {
            status: "notChecked",
            secret: checker.secret_id().to_owned(),
            ..CredentialsReport::default()
        },
        password_age: PasswordReport::default(),
        checkpoint: None,
        heartbeat: None,
        backlog: None,
        seen: None,
        tls_version: None,
        tls_note: Some("not probed: the system was not checked this run".to_owned()),
        alerts: Vec::new(),
        notes: vec![why],
    }
}
