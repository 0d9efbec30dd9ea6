//! One run of the check, generic over its ports: ask OSV about every linked crate, decide
//! (pure: [`plan`], [`next_health`]), drive the alerts, remember what is open, report.
//!
//! State in the table, besides the alert records of [`suomifi_shared::alerts`]:
//! - `updates#open-advisories`: the advisory alerts open now (key → title), so that an advisory
//!   that no longer affects the deployed binary — a redeploy, a withdrawal — is resolved;
//! - `updates#osv-health`: how many runs in a row OSV could not be asked, since when, and why.

use crate::advisories::{Verdict, Vuln, assess, grade, ids};
use crate::config::Config;
use crate::deadlines::standing;
use crate::messages::{
    Finding, UNKNOWN_KEY, advisory_alert, advisory_key, advisory_resolved, deadline_alert,
    deadline_key, deadline_resolved, unknown_alert, unknown_resolved,
};
use crate::osv::{Osv, OsvError, vulnerability_ids};
use crate::report::{AdvisoryReport, AlertAction, DeadlineReport, Report, Undetermined};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use suomifi_shared::alerts::{AlertLifecycle, LifecycleError, Outcome, format_time};
use suomifi_shared::clock::Clock;
use suomifi_shared::deps::DependencyList;
use suomifi_shared::notify::Notifier;
use suomifi_shared::state::StateStore;
use time::OffsetDateTime;

/// State-table key of the open advisory alerts.
pub const OPEN_ADVISORIES_PK: &str = "updates#open-advisories";
/// State-table key of OSV's health.
pub const OSV_HEALTH_PK: &str = "updates#osv-health";
/// Advisory details fetched at once.
const DETAIL_CONCURRENCY: usize = 8;

/// The adapters a [`Checker`] works through.
#[derive(Debug, Clone)]
pub struct Ports<O, St, N, C> {
    /// The OSV database.
    pub osv: O,
    /// State table.
    pub store: St,
    /// Where notifications go.
    pub notifier: N,
    /// What time it is.
    pub clock: C,
}

/// What OSV said about the linked crates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Advisories that affect a linked version.
    pub findings: Vec<Finding>,
    /// Advisories that could not be decided (key, reason): neither alerted nor resolved.
    pub undetermined: Vec<(String, String)>,
    /// Whether `querybatch` answered for every crate (otherwise nothing may be resolved).
    pub complete: bool,
    /// The first OSV failure of the run, if any: the result is `unknown`.
    pub failure: Option<OsvError>,
}

/// Which advisory alerts to open (or keep) and which to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Keys of the findings, to raise through the lifecycle.
    pub raise: Vec<String>,
    /// Open keys (with their titles) that no longer apply.
    pub resolve: Vec<(String, String)>,
}

/// Pure: what to do with the alerts open before (`open`, key → title) given `scan`. Nothing is
/// resolved unless OSV answered for every crate, and an undetermined advisory stays as it was.
pub fn plan(open: &BTreeMap<String, String>, scan: &Scan) -> Plan {
    let raise: Vec<String> = scan.findings.iter().map(Finding::key).collect();
    let keep: BTreeSet<&str> = raise
        .iter()
        .map(String::as_str)
        .chain(scan.undetermined.iter().map(|(k, _)| k.as_str()))
        .collect();
    let resolve = if scan.complete {
        open.iter()
            .filter(|(k, _)| !keep.contains(k.as_str()))
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect()
    } else {
        Vec::new()
    };
    Plan { raise, resolve }
}

/// OSV's health between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OsvHealth {
    /// Runs in a row with an OSV failure.
    pub consecutive_unknown: u32,
    /// When the first of them ran.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The last failure.
    pub last_error: String,
}

/// Pure: the health after a run at `now` that failed with `failure` (or did not).
pub fn next_health(
    prev: Option<&OsvHealth>,
    failure: Option<&OsvError>,
    now: OffsetDateTime,
) -> Option<OsvHealth> {
    let e = failure?;
    Some(match prev {
        Some(p) => OsvHealth {
            consecutive_unknown: p.consecutive_unknown.saturating_add(1),
            since: p.since,
            last_error: e.to_string(),
        },
        None => OsvHealth {
            consecutive_unknown: 1,
            since: now,
            last_error: e.to_string(),
        },
    })
}

/// Pure: from the linked crates, the ids OSV matched for each, and the details fetched (an
/// absent id failed to fetch), the findings and the undetermined advisories.
pub fn evaluate(
    deps: &DependencyList,
    matched: &[Vec<String>],
    details: &HashMap<String, Vuln>,
) -> (Vec<Finding>, Vec<(String, String)>) {
    let mut findings: BTreeMap<(String, String), Finding> = BTreeMap::new();
    let mut undetermined = Vec::new();
    for (krate, ids_for_crate) in deps.crates.iter().zip(matched) {
        for id in ids_for_crate {
            let key = advisory_key(id, &krate.name);
            let Some(vuln) = details.get(id) else {
                undetermined.push((key, "its details could not be fetched".to_owned()));
                continue;
            };
            match assess(vuln, &krate.name, &krate.version) {
                Verdict::NotAffected => {}
                Verdict::Undetermined(reason) => undetermined.push((key, reason)),
                Verdict::Affected { first_fixed } => {
                    let entry = findings
                        .entry((id.clone(), krate.name.clone()))
                        .or_insert_with(|| Finding {
                            advisory: id.clone(),
                            ids: ids(vuln),
                            crate_name: krate.name.clone(),
                            versions: Vec::new(),
                            summary: summary(vuln),
                            grade: grade(vuln, &krate.name),
                        });
                    entry.versions.push((krate.version.clone(), first_fixed));
                }
            }
        }
    }
    (findings.into_values().collect(), undetermined)
}

fn summary(v: &Vuln) -> String {
    let text = v
        .summary
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            v.details
                .as_deref()
                .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
        })
        .unwrap_or("no summary given");
    let text = text.trim();
    if text.chars().count() > 300 {
        let mut s: String = text.chars().take(299).collect();
        s.push('…');
        s
    } else {
        text.to_owned()
    }
}

/// The check.
#[derive(Debug)]
pub struct Checker<O, St, N, C> {
    config: Config,
    deps: DependencyList,
    osv: O,
    store: St,
    clock: C,
    lifecycle: AlertLifecycle<St, N, C>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// When it ran.
    pub at: OffsetDateTime,
    /// The report.
    pub report: Report,
    /// State-table and notification failures (each names its alert).
    pub failures: Vec<String>,
}

#[derive(Default)]
struct Actions {
    alerts: Vec<AlertAction>,
    failures: Vec<String>,
}

impl Actions {
    fn record(&mut self, key: &str, result: Result<Outcome, LifecycleError>) -> Option<Outcome> {
        match result {
            Ok(Outcome::NothingOpen) => Some(Outcome::NothingOpen),
            Ok(o) => {
                self.alerts.push(AlertAction {
                    key: key.to_owned(),
                    outcome: outcome_name(o),
                });
                Some(o)
            }
            Err(e) => {
                self.alerts.push(AlertAction {
                    key: key.to_owned(),
                    outcome: "failed",
                });
                self.failures.push(format!("alert `{key}`: {e}"));
                None
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

#[derive(Debug, Default, Serialize, Deserialize)]
struct OpenAdvisories {
    #[serde(default)]
    open: BTreeMap<String, String>,
}

impl<O, St, N, C> Checker<O, St, N, C>
where
    O: Osv,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    /// A check of `deps` (this binary's own list) for `config`, working through `ports`.
    pub fn new(config: Config, deps: DependencyList, ports: Ports<O, St, N, C>) -> Self {
        let lifecycle = AlertLifecycle::new(
            ports.store.clone(),
            ports.notifier,
            ports.clock.clone(),
            config.reminder,
        );
        Self {
            config,
            deps,
            osv: ports.osv,
            store: ports.store,
            clock: ports.clock,
            lifecycle,
        }
    }

    /// Asks OSV about every linked crate.
    pub async fn scan(&self) -> Scan {
        let matched = match vulnerability_ids(&self.osv, &self.deps.crates).await {
            Ok(m) => m,
            Err(e) => {
                return Scan {
                    failure: Some(e),
                    ..Scan::default()
                };
            }
        };
        let wanted: BTreeSet<&String> = matched.iter().flatten().collect();
        let fetched: Vec<(String, Result<Vuln, OsvError>)> = futures::stream::iter(
            wanted
                .into_iter()
                .map(|id| async move { (id.clone(), self.osv.vuln(id).await) }),
        )
        .buffer_unordered(DETAIL_CONCURRENCY)
        .collect()
        .await;
        let mut details = HashMap::new();
        let mut failure = None;
        for (id, result) in fetched {
            match result {
                Ok(v) => {
                    details.insert(id, v);
                }
                Err(e) => {
                    tracing::warn!(advisory = %id, error = %e, "advisory details unavailable");
                    failure.get_or_insert(e);
                }
            }
        }
        let (findings, undetermined) = evaluate(&self.deps, &matched, &details);
        Scan {
            findings,
            undetermined,
            complete: true,
            failure,
        }
    }

    /// One run.
    pub async fn run(&self) -> RunOutcome {
        let at = self.clock.now();
        let scan = self.scan().await;
        let mut actions = Actions::default();

        // Advisories.
        let open_doc = self.store.get(OPEN_ADVISORIES_PK).await;
        let (open, open_version) = match open_doc {
            Ok(Some(v)) => match serde_json::from_value::<OpenAdvisories>(v.data) {
                Ok(doc) => (doc.open, Some(v.version)),
                Err(e) => {
                    actions
                        .failures
                        .push(format!("`{OPEN_ADVISORIES_PK}` is malformed: {e}"));
                    (BTreeMap::new(), Some(v.version))
                }
            },
            Ok(None) => (BTreeMap::new(), None),
            Err(e) => {
                actions.failures.push(e.to_string());
                (BTreeMap::new(), None)
            }
        };
        let state_readable = actions.failures.is_empty();
        let decided = plan(&open, &scan);
        let mut now_open = open.clone();
        let mut advisories = Vec::new();
        for f in &scan.findings {
            let alert = advisory_alert(f);
            let key = alert.key.clone();
            let title = alert.title.clone();
            let outcome = actions.record(&key, self.lifecycle.problem(alert, 0).await);
            now_open.insert(key.clone(), title);
            advisories.push(AdvisoryReport::from_finding(f, outcome.map(outcome_name)));
        }
        if state_readable {
            for (key, title) in &decided.resolve {
                let result = self
                    .lifecycle
                    .clear(key, |_| advisory_resolved(key, title))
                    .await;
                if actions.record(key, result).is_some() {
                    now_open.remove(key);
                }
            }
            if now_open != open {
                let doc = serde_json::json!({ "open": now_open });
                match self
                    .store
                    .put_if(OPEN_ADVISORIES_PK, &doc, open_version, None)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => actions.failures.push(format!(
                        "`{OPEN_ADVISORIES_PK}` changed during the run (another run?); the next run reconciles"
                    )),
                    Err(e) => actions.failures.push(e.to_string()),
                }
            }
        }

        // OSV health: `unknown` is its own state, alerted after repeated failures.
        self.health(&scan, at, &mut actions).await;

        // Deadlines.
        let today = at.date();
        let mut deadlines = Vec::new();
        for d in &self.config.deadlines {
            let s = standing(d, today, self.config.deadline_notice_days);
            let key = deadline_key(&d.id);
            let outcome = match deadline_alert(d, s) {
                Some((alert, stage)) => {
                    actions.record(&key, self.lifecycle.problem(alert, stage).await)
                }
                None => actions.record(
                    &key,
                    self.lifecycle
                        .clear(&key, |r| deadline_resolved(&key, &r.title))
                        .await,
                ),
            };
            deadlines.push(DeadlineReport::new(d, s, outcome.map(outcome_name)));
        }

        let report = Report::new(
            &self.deps,
            &scan,
            advisories,
            scan.undetermined
                .iter()
                .map(|(key, reason)| Undetermined {
                    key: key.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            deadlines,
            actions.alerts,
        );
        RunOutcome {
            at,
            report,
            failures: actions.failures,
        }
    }

    async fn health(&self, scan: &Scan, at: OffsetDateTime, actions: &mut Actions) {
        let prev = match self.store.get(OSV_HEALTH_PK).await {
            Ok(p) => p,
            Err(e) => {
                actions.failures.push(e.to_string());
                return;
            }
        };
        let prev_health = prev
            .as_ref()
            .and_then(|v| serde_json::from_value::<OsvHealth>(v.data.clone()).ok());
        let next = next_health(prev_health.as_ref(), scan.failure.as_ref(), at);
        let expected = prev.as_ref().map(|v| v.version);
        let written = match &next {
            Some(h) => {
                let data = serde_json::to_value(h).expect("health serialises");
                self.store
                    .put_if(OSV_HEALTH_PK, &data, expected, None)
                    .await
            }
            None => match expected {
                Some(v) => self.store.delete_if(OSV_HEALTH_PK, v).await,
                None => Ok(true),
            },
        };
        if let Err(e) = written {
            actions.failures.push(e.to_string());
        }
        match next {
            Some(h) if h.consecutive_unknown >= self.config.unknown_after_runs => {
                let alert =
                    unknown_alert(h.consecutive_unknown, &format_time(h.since), &h.last_error);
                actions.record(UNKNOWN_KEY, self.lifecycle.problem(alert, 0).await);
            }
            Some(_) => {}
            None => {
                actions.record(
                    UNKNOWN_KEY,
                    self.lifecycle
                        .clear(UNKNOWN_KEY, |_| unknown_resolved())
                        .await,
                );
            }
        }
    }
}
