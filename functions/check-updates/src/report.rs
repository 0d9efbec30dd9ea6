//! The JSON report of a run and its metric line.

use crate::check::Scan;
use crate::deadlines::{Deadline, Standing};
use crate::messages::Finding;
use serde::Serialize;
use suomifi_shared::deps::DependencyList;
use suomifi_shared::telemetry::{Metric, emf_line};
use time::OffsetDateTime;

/// Metric: advisories affecting a linked version.
pub const AFFECTED_METRIC: &str = "AffectedAdvisories";
/// Metric: 1 when OSV could not be asked (the result is unknown), else 0.
pub const UNKNOWN_METRIC: &str = "AdvisoryCheckUnknown";

/// The whole run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `ok` (no advisory affects a linked version), `affected`, or `unknown` (OSV could not be
    /// asked: never read it as ok).
    pub status: &'static str,
    /// The list checked.
    pub dependency_list: ListReport,
    /// OSV's failure, when `unknown`.
    pub osv_error: Option<String>,
    /// Advisories that affect a linked version.
    pub advisories: Vec<AdvisoryReport>,
    /// Advisories that could not be decided.
    pub undetermined: Vec<Undetermined>,
    /// The deadlines and where they stand.
    pub deadlines: Vec<DeadlineReport>,
    /// Every alert action of the run.
    pub alerts: Vec<AlertAction>,
}

/// The dependency list checked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListReport {
    /// Package whose binary carried it.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Target triple.
    pub target: String,
    /// How many crates.io packages it names.
    pub crates: usize,
}

/// One advisory that affects a linked version.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvisoryReport {
    /// The advisory id.
    pub id: String,
    /// All its known ids.
    pub ids: Vec<String>,
    /// Crate.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Affected linked versions.
    pub versions: Vec<String>,
    /// First fixed version per affected version (`null`: none published).
    pub first_fixed: Vec<Option<String>>,
    /// One line.
    pub summary: String,
    /// Severity as the advisory gives it.
    pub severity: String,
    /// What the alert lifecycle did (`failed` when it could not).
    pub alert: Option<&'static str>,
}

impl AdvisoryReport {
    /// From a finding and its alert outcome.
    pub fn from_finding(f: &Finding, alert: Option<&'static str>) -> Self {
        Self {
            id: f.advisory.clone(),
            ids: f.ids.clone(),
            crate_name: f.crate_name.clone(),
            versions: f.versions.iter().map(|(v, _)| v.clone()).collect(),
            first_fixed: f.versions.iter().map(|(_, x)| x.clone()).collect(),
            summary: f.summary.clone(),
            severity: f.grade.label.clone(),
            alert: alert.or(Some("failed")),
        }
    }
}

/// An advisory that could not be decided.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Undetermined {
    /// Its alert key (advisory and crate).
    pub key: String,
    /// Why.
    pub reason: String,
}

/// A deadline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadlineReport {
    /// Entry id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `YYYY-MM-DD`, or `null` when not announced.
    pub date: Option<String>,
    /// `undated`, `distant`, `approaching`, `imminent`, `passed`.
    pub standing: &'static str,
    /// Days until it (negative: since).
    pub days_left: Option<i64>,
    /// What the alert lifecycle did.
    pub alert: Option<&'static str>,
}

impl DeadlineReport {
    /// From a deadline, where it stands, and its alert outcome.
    pub fn new(d: &Deadline, s: Standing, alert: Option<&'static str>) -> Self {
        let days_left = match s {
            Standing::Undated => None,
            Standing::Distant { days_left }
            | Standing::Approaching { days_left }
            | Standing::Imminent { days_left } => Some(days_left),
            Standing::Passed { days_ago } => Some(-days_ago),
        };
        Self {
            id: d.id.clone(),
            title: d.title.clone(),
            date: d.date.map(|d| d.to_string()),
            standing: s.as_str(),
            days_left,
            alert: alert.filter(|a| *a != "nothingOpen"),
        }
    }
}

/// One alert action.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertAction {
    /// Alert key.
    pub key: String,
    /// `opened`, `reminded`, `escalated`, `unchanged`, `resolved`, `lostRace`, `failed`.
    pub outcome: &'static str,
}

impl Report {
    /// Assembles the report.
    pub fn new(
        deps: &DependencyList,
        scan: &Scan,
        advisories: Vec<AdvisoryReport>,
        undetermined: Vec<Undetermined>,
        deadlines: Vec<DeadlineReport>,
        alerts: Vec<AlertAction>,
    ) -> Self {
        let status = if scan.failure.is_some() {
            "unknown"
        } else if !advisories.is_empty() {
            "affected"
        } else {
            "ok"
        };
        Self {
            status,
            dependency_list: ListReport {
                package: deps.package.clone(),
                version: deps.version.clone(),
                target: deps.target.clone(),
                crates: deps.crates.len(),
            },
            osv_error: scan.failure.as_ref().map(ToString::to_string),
            advisories,
            undetermined,
            deadlines,
            alerts,
        }
    }

    /// The EMF line: affected advisories, and whether the result is unknown.
    pub fn metric_line(&self, at: OffsetDateTime) -> String {
        emf_line(
            at,
            &[],
            &[
                Metric {
                    name: AFFECTED_METRIC,
                    value: self.advisories.len() as f64,
                    unit: "Count",
                },
                Metric {
                    name: UNKNOWN_METRIC,
                    value: f64::from(u8::from(self.status == "unknown")),
                    unit: "Count",
                },
            ],
        )
    }
}
