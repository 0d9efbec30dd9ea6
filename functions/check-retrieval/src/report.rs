//! The JSON report a run returns (and logs, and turns into metrics).

use crate::backlog::{BacklogCounter, ServiceBacklog};
use crate::evaluate::{self, Backlog};
use serde::Serialize;
use std::collections::BTreeMap;
use suomifi_shared::alerts::Outcome;
use suomifi_shared::notify::Severity;
use suomifi_shared::telemetry::Metric;
use time::OffsetDateTime;

/// The overall verdict: the worst open problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing wrong.
    Ok,
    /// Nothing wrong was found, but a part could not be looked at (the events could not be read
    /// in time, a heartbeat from the future, ...): never reported as `ok`.
    Unknown,
    /// Something needs attention soon.
    Warning,
    /// Something needs attention now.
    Critical,
}

impl Status {
    /// The status a problem of `severity` gives.
    pub fn of(severity: Severity) -> Self {
        match severity {
            Severity::Critical => Self::Critical,
            Severity::Warning => Self::Warning,
            Severity::Info | Severity::Resolved => Self::Ok,
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The system's name (`SYSTEMS`' `name`).
    pub system: String,
    /// `ok`, `unknown`, `warning` or `critical`.
    pub status: Status,
    /// When the check ran.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Whether a retriever checkpoint is configured (`CHECKPOINT_PARAMETER`).
    pub retrieval_watched: bool,
    /// Token and `GET /v2/events`.
    pub credentials: CredentialsReport,
    /// The password's age and rotation health.
    pub password_age: PasswordReport,
    /// The checkpoint parameter (watched mode only).
    pub checkpoint: Option<CheckpointReport>,
    /// The retriever's heartbeat (watched mode with a usable checkpoint only).
    pub heartbeat: Option<HeartbeatReport>,
    /// Messages waiting from the retriever's checkpoint onward (watched mode only).
    pub backlog: Option<BacklogReport>,
    /// Unwatched mode: the end-user messages this checker saw since its previous run.
    pub seen: Option<BacklogReport>,
    /// Negotiated TLS version with the API host (`TLSv1.3`); `none` for a plain-HTTP loopback
    /// base; `null` when unknown (see `tlsNote`).
    pub tls_version: Option<String>,
    /// Why `tlsVersion` is null, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_note: Option<String>,
    /// What happened to each alert this run.
    pub alerts: Vec<AlertReport>,
    /// Remarks for a human reader.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Token and `GET /v2/events`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsReport {
    /// `ok`, `secretUnreadable`, `secretMalformed`, `refused`, `unreachable` or `apiError`.
    pub status: &'static str,
    /// The secret id.
    pub secret: String,
    /// The API username (system id); not secret.
    pub username: Option<String>,
    /// The API base URL.
    pub api_url: Option<String>,
    /// `POST /v1/token` round trip, in milliseconds.
    pub token_latency_ms: Option<u64>,
    /// The first `GET /v2/events` round trip, in milliseconds.
    pub events_latency_ms: Option<u64>,
    /// What failed, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failed response's `traceId`, for DVV support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// Password age and rotation.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordReport {
    /// Days since the password was last changed, to one decimal.
    pub age_days: Option<f64>,
    /// When, as far as the metadata tells.
    #[serde(with = "time::serde::rfc3339::option")]
    pub changed_at: Option<OffsetDateTime>,
    /// `LastRotatedDate` or `LastChangedDate`.
    pub basis: Option<&'static str>,
    /// `PASSWORD_MAX_AGE_DAYS`.
    pub max_age_days: i64,
    /// Whether automatic rotation is on.
    pub rotation_enabled: Option<bool>,
    /// `NextRotationDate`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_rotation_date: Option<OffsetDateTime>,
    /// A rotation is running now (a fresh `AWSPENDING`).
    pub rotation_in_progress: bool,
    /// Why rotation counts as failing: `leftoverPending` or `overdue`.
    pub rotation_failing: Option<&'static str>,
    /// Why the metadata is missing, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The checkpoint parameter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointReport {
    /// The parameter name.
    pub parameter: String,
    /// `ok`, `missing`, `malformed`, `unreadable`, `inTheFuture` or `tokenRefused`.
    pub status: &'static str,
    /// What is wrong, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The heartbeat.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatReport {
    /// The checkpoint's `updatedAt`.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Minutes since then.
    pub age_minutes: f64,
    /// `HEARTBEAT_MAX_AGE_MINUTES`.
    pub max_age_minutes: f64,
    /// Whether it is older than that.
    pub stale: bool,
}

/// Counted end-user messages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BacklogReport {
    /// End-user messages counted.
    pub count: u64,
    /// Of those, older than `BACKLOG_GRACE_MINUTES`.
    pub over_grace_count: u64,
    /// Event time of the oldest.
    #[serde(with = "time::serde::rfc3339::option")]
    pub oldest_event_time: Option<OffsetDateTime>,
    /// Its age in minutes.
    pub oldest_age_minutes: Option<f64>,
    /// Days until Suomi.fi deletes it.
    pub days_until_deletion: Option<f64>,
    /// When Suomi.fi deletes it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deletion_at: Option<OffsetDateTime>,
    /// Per `serviceId`.
    pub by_service: BTreeMap<String, ServiceBacklog>,
    /// `BACKLOG_GRACE_MINUTES`.
    pub grace_minutes: f64,
    /// Pages read (the final empty one included).
    pub pages_read: u32,
    /// Events of every type read.
    pub events_read: u64,
    /// Whether the scan reached the end of the feed; if not, the counts are lower bounds.
    pub complete: bool,
    /// Whether it stopped at the page or time bound (rather than at an error).
    pub truncated: bool,
    /// Unwatched mode: when this checker's previous run read up to.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<OffsetDateTime>,
}

impl BacklogReport {
    /// From a scan's counters and their evaluation.
    pub fn new(
        counter: BacklogCounter,
        eval: &Backlog,
        grace: time::Duration,
        complete: bool,
        truncated: bool,
    ) -> Self {
        Self {
            count: eval.count,
            over_grace_count: eval.over_grace,
            oldest_event_time: eval.oldest,
            oldest_age_minutes: eval.oldest_age.map(evaluate::minutes),
            days_until_deletion: eval.days_until_deletion,
            deletion_at: eval.deletion_at,
            by_service: counter.by_service,
            grace_minutes: evaluate::minutes(grace),
            pages_read: counter.pages,
            events_read: counter.events,
            complete,
            truncated,
            since: None,
        }
    }
}

/// What the lifecycle did with one alert.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertReport {
    /// The alert key.
    pub key: String,
    /// The problem's severity; `null` when the check found nothing wrong.
    pub severity: Option<Severity>,
    /// `opened`, `reminded`, `escalated`, `unchanged`, `resolved`, `nothingOpen`, `lostRace`,
    /// `unknown` (not evaluated this run; left as it was) or `failed`.
    pub outcome: &'static str,
}

/// The report's name of a lifecycle outcome.
pub fn outcome_name(o: Outcome) -> &'static str {
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

impl Report {
    /// The CloudWatch metrics of this report (namespace `SuomifiOps`; the fleet emits them with the
    /// `System` dimension, and `Stack` when `STACK_NAME` is set). A metric
    /// whose value is unknown this run is left out rather than sent as 0. An empty, complete
    /// backlog counts as 0 messages, 0 minutes old and 60 days from deletion, so alarms on
    /// these metrics see data every run while all is well.
    pub fn metrics(&self) -> Vec<Metric<'static>> {
        let mut out = Vec::new();
        if let Some(b) = &self.backlog {
            out.push(Metric {
                name: "BacklogCount",
                value: b.count as f64,
                unit: "Count",
            });
            let empty_and_complete = b.count == 0 && b.complete;
            let (age, days) = if empty_and_complete {
                (Some(0.0), Some(evaluate::RETENTION.whole_days() as f64))
            } else {
                (b.oldest_age_minutes, b.days_until_deletion)
            };
            if let Some(age) = age {
                out.push(Metric {
                    name: "OldestBacklogAgeMinutes",
                    value: age,
                    unit: "None",
                });
            }
            if let Some(days) = days {
                out.push(Metric {
                    name: "DaysUntilDeletion",
                    value: days,
                    unit: "None",
                });
            }
        }
        if let Some(h) = &self.heartbeat {
            out.push(Metric {
                name: "HeartbeatAgeMinutes",
                value: h.age_minutes,
                unit: "None",
            });
        }
        if let Some(age) = self.password_age.age_days {
            out.push(Metric {
                name: "PasswordAgeDays",
                value: age,
                unit: "None",
            });
        }
        out
    }
}

/// Logs the report as one structured line.
pub(crate) fn log_report(report: &Report) {
    let json =
        serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"));
    match report.status {
        Status::Ok => tracing::info!(status = "ok", report = %json, "retrieval check report"),
        Status::Unknown => {
            tracing::warn!(status = "unknown", report = %json, "retrieval check report")
        }
        Status::Warning => {
            tracing::warn!(status = "warning", report = %json, "retrieval check report")
        }
        Status::Critical => {
            tracing::error!(status = "critical", report = %json, "retrieval check report")
        }
    }
}
