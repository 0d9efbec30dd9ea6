//! The run's result: a JSON report (returned by the function), one summary log line, and EMF
//! metrics (`SuomifiOps` / `DaysToExpiry` per `Target`) for alarms and the dashboard.

use crate::evaluate::Status;
use serde::Serialize;
use suomifi_shared::telemetry::{Metric, emf_line};
use time::OffsetDateTime;

/// Name of the days-left metric.
pub const DAYS_METRIC: &str = "DaysToExpiry";
/// Its dimension.
pub const TARGET_DIMENSION: &str = "Target";

/// One certificate of one target (or, for a target without certificate, the reason).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Target name.
    pub target: String,
    /// Subject DN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Issuer DN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Serial number (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// SHA-256 fingerprint (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Start of validity (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// End of validity (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Whole days left (negative once expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// This certificate's status (the target's for a target without certificate).
    pub status: Status,
    /// 0 for the leaf.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_position: Option<usize>,
    /// `TLSv1.3` / `TLSv1.2` for TLS targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// `ok` or the verifier's reason, for TLS targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// Why a problem status does not count (an extra certificate outside the verified path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why there is no certificate (unreachable / unreadable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Finding {
    /// A finding with only the target and status.
    pub fn bare(target: &str, status: Status) -> Self {
        Self {
            target: target.to_owned(),
            subject: None,
            issuer: None,
            serial: None,
            sha256: None,
            not_before: None,
            not_after: None,
            days_left: None,
            status,
            chain_position: None,
            tls_version: None,
            verification: None,
            note: None,
            error: None,
        }
    }
}

/// The ready-to-send submission of DVV's certificate-change rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DvvSubmission {
    /// Address.
    pub to: &'static str,
    /// Subject.
    pub subject: &'static str,
    /// The certificate's public part (PEM, re-encoded from the parsed certificate).
    pub certificate_pem: String,
}

/// What the change advisor found for a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeReport {
    /// `firstSeen`, `same`, `renewedSameIdentity`, `changed`.
    pub verdict: &'static str,
    /// The previous certificate's fingerprint, when there was one and it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<String>,
    /// For a changed signing certificate: what to send to DVV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dvv_submission: Option<DvvSubmission>,
}

/// What the alert lifecycle did for one alert of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertAction {
    /// `expiry`, `source`, `trust`, `change`.
    pub alert: &'static str,
    /// `opened`, `reminded`, `escalated`, `unchanged`, `resolved`, `lostRace`, `notified`, `failed`.
    pub outcome: &'static str,
}

/// One target's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetReport {
    /// Target name.
    pub target: String,
    /// `tls`, `secret`, `acm`.
    pub source: &'static str,
    /// `signing` when DVV's change rule applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// The chain's status.
    pub status: Status,
    /// Days left of the certificate that expires first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// Its end of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Its chain position (0 = leaf).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_first: Option<usize>,
    /// Negotiated TLS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// `ok` or the verifier's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// Why there is no certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The change advisor's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeReport>,
    /// What was notified.
    pub alerts: Vec<AlertAction>,
    /// Days left with fractions, for the metric (not serialised: `daysLeft` is for people).
    #[serde(skip)]
    pub metric_days: Option<f64>,
}

/// Counts per status, and the soonest expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Targets checked.
    pub targets: usize,
    /// Targets `ok`.
    pub ok: usize,
    /// Targets `warning`.
    pub warning: usize,
    /// Targets `critical`.
    pub critical: usize,
    /// Targets `expired`.
    pub expired: usize,
    /// Targets `notYetValid`.
    pub not_yet_valid: usize,
    /// Targets `unreadable`.
    pub unreadable: usize,
    /// Targets `unreachable`.
    pub unreachable: usize,
    /// TLS targets whose chain fails verification.
    pub untrusted: usize,
    /// Targets not looked at because the run's deadline came first.
    pub not_checked: usize,
    /// The target that expires first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soonest_target: Option<String>,
    /// Its days left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soonest_days_left: Option<i64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: String,
    /// Every certificate of every target.
    pub findings: Vec<Finding>,
    /// One line per target.
    pub targets: Vec<TargetReport>,
    /// Counts.
    pub summary: Summary,
}

impl Report {
    /// Builds the report and its summary.
    pub fn new(
        checked_at: OffsetDateTime,
        findings: Vec<Finding>,
        targets: Vec<TargetReport>,
    ) -> Self {
        let mut s = Summary {
            targets: targets.len(),
            ..Summary::default()
        };
        for t in &targets {
            match t.status {
                Status::Ok => s.ok += 1,
                Status::Warning => s.warning += 1,
                Status::Critical => s.critical += 1,
                Status::Expired => s.expired += 1,
                Status::NotYetValid => s.not_yet_valid += 1,
                Status::Unreadable => s.unreadable += 1,
                Status::Unreachable => s.unreachable += 1,
                Status::NotChecked => s.not_checked += 1,
            }
            if t.verification.as_deref().is_some_and(|v| v != "ok") {
                s.untrusted += 1;
            }
        }
        if let Some(t) = targets
            .iter()
            .filter(|t| t.days_left.is_some())
            .min_by_key(|t| t.days_left)
        {
            s.soonest_target = Some(t.target.clone());
            s.soonest_days_left = t.days_left;
        }
        Self {
            checked_at: suomifi_shared::alerts::format_time(checked_at),
            findings,
            targets,
            summary: s,
        }
    }

    /// One EMF line per target that has a certificate. Targets without one emit nothing, so an
    /// alarm that treats missing data as breaching also fires for a broken source.
    pub fn metric_lines(&self, at: OffsetDateTime) -> Vec<String> {
        self.targets
            .iter()
            .filter_map(|t| {
                t.metric_days.map(|days| {
                    emf_line(
                        at,
                        &[(TARGET_DIMENSION, &t.target)],
                        &[Metric {
                            name: DAYS_METRIC,
                            value: days,
                            unit: "None",
                        }],
                    )
                })
            })
            .collect()
    }
}
