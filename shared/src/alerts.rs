//! The alert lifecycle shared by the checkers: notify once when a problem opens, remind every
//! `REMINDER_HOURS` while it stays open, escalate when it gets worse, and send one `[RESOLVED]`
//! when it clears — all in the same chat thread (`threadId` = alert key).
//!
//! State is one item per alert key in the state table. Every transition is a conditional write
//! *before* the notification is published, so of two overlapping runs only one notifies. If
//! publishing then fails, the claim is rolled back and the error returned: the next run tries
//! again, and the failed run shows up as a Lambda error (its own alarm).

use crate::clock::Clock;
use crate::notify::{Alert, Notifier, NotifyError, Severity};
use crate::state::{StateError, StateStore, Versioned};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// What the lifecycle did with an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new problem: notified.
    Opened,
    /// Still open, reminder interval passed: notified.
    Reminded,
    /// Got worse (severity or stage rose): notified.
    Escalated,
    /// Still open, already notified recently: nothing sent.
    Unchanged,
    /// Cleared: `[RESOLVED]` sent.
    Resolved,
    /// Nothing was open and nothing is wrong.
    NothingOpen,
    /// Another run changed the same alert at the same moment; it notified, this run did not.
    LostRace,
}

impl Outcome {
    /// Whether a notification was published.
    pub fn notified(self) -> bool {
        matches!(
            self,
            Self::Opened | Self::Reminded | Self::Escalated | Self::Resolved
        )
    }
}

/// The lifecycle could not complete; the run must fail (never drop an alert silently).
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// DynamoDB failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// SNS failed.
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// The stored record is not ours to read.
    #[error("alert record `{0}` is malformed: {1}")]
    Malformed(String, String),
}

/// What is stored per open alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRecord {
    /// Severity last notified.
    pub severity: Severity,
    /// Caller-defined stage within a severity (e.g. the certificate threshold crossed); higher is worse.
    pub stage: u32,
    /// When the problem was first seen.
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    /// When a notification was last sent.
    #[serde(with = "time::serde::rfc3339")]
    pub last_notified_at: OffsetDateTime,
    /// Title of the last notification (used in the `[RESOLVED]` notice).
    pub title: String,
}

/// The lifecycle over a state store, a notifier and a clock.
#[derive(Debug, Clone)]
pub struct AlertLifecycle<S, N, C> {
    store: S,
    notifier: N,
    clock: C,
    reminder: Duration,
}

/// The state-table key of alert `key`'s record (for callers that prefetch records, see
/// [`crate::state::Prefetching`]).
pub fn alert_pk(key: &str) -> String {
    format!("alert#{key}")
}

/// "2 d 3 h", "5 h 10 min", "12 min".
pub fn human_duration(d: Duration) -> String {
    let mins = d.whole_minutes().max(0);
    let (days, hours, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    match (days, hours) {
        (0, 0) => format!("{m} min"),
        (0, h) => format!("{h} h {m} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

impl<S: StateStore, N: Notifier, C: Clock> AlertLifecycle<S, N, C> {
    /// A lifecycle reminding every `reminder` while an alert stays open.
    pub fn new(store: S, notifier: N, clock: C, reminder: Duration) -> Self {
        Self {
            store,
            notifier,
            clock,
            reminder,
        }
    }

    /// The state store (shared with the caller's other state).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Reads the open record of `key`, if any.
    pub async fn open_record(&self, key: &str) -> Result<Option<AlertRecord>, LifecycleError> {
        Ok(self.read(key).await?.map(|(r, _)| r))
    }

    async fn read(&self, key: &str) -> Result<Option<(AlertRecord, u64)>, LifecycleError> {
        match self.store.get(&alert_pk(key)).await? {
            None => Ok(None),
            Some(Versioned { data, version }) => {
                let rec: AlertRecord = serde_json::from_value(data)
                    .map_err(|e| LifecycleError::Malformed(key.to_owned(), e.to_string()))?;
                Ok(Some((rec, version)))
            }
        }
    }

    /// A problem is present now (`alert.severity` is Info, Warning or Critical; `stage` orders
    /// problems within a severity). Opens, reminds, escalates or stays quiet.
    pub async fn problem(&self, mut alert: Alert, stage: u32) -> Result<Outcome, LifecycleError> {
        let now = self.clock.now();
        let existing = self.read(&alert.key).await?;
        let (outcome, record, expected) = match &existing {
            None => (
                Outcome::Opened,
                AlertRecord {
                    severity: alert.severity,
                    stage,
                    opened_at: now,
                    last_notified_at: now,
                    title: alert.title.clone(),
                },
                None,
            ),
            Some((prev, version)) => {
                let worse = (alert.severity, stage) > (prev.severity, prev.stage);
                let due = now - prev.last_notified_at >= self.reminder;
                let outcome = if worse {
                    Outcome::Escalated
                } else if due {
                    Outcome::Reminded
                } else if (alert.severity, stage) != (prev.severity, prev.stage) {
                    // Got better but not cleared: remember quietly, so a later rise notifies again.
                    let rec = AlertRecord {
                        severity: alert.severity,
                        stage,
                        ..prev.clone()
                    };
                    self.store
                        .put_if(&alert_pk(&alert.key), &to_value(&rec), Some(*version), None)
                        .await?;
                    return Ok(Outcome::Unchanged);
                } else {
                    return Ok(Outcome::Unchanged);
                };
                (
                    outcome,
                    AlertRecord {
                        severity: alert.severity,
                        stage,
                        opened_at: prev.opened_at,
                        last_notified_at: now,
                        title: alert.title.clone(),
                    },
                    Some(*version),
                )
            }
        };
        if let Some((prev, _)) = &existing {
            let open_for = human_duration(now - prev.opened_at);
            match outcome {
                Outcome::Reminded => {
                    alert.title = format!("still open after {open_for}: {}", alert.title);
                }
                Outcome::Escalated => {
                    alert.title = format!("worse: {}", alert.title);
                }
                _ => {}
            }
            alert = alert
                .detail("Open since", format_time(prev.opened_at))
                .detail("Open for", open_for);
        }
        self.claim_and_publish(&alert, &record, expected, existing.map(|(r, _)| r))
            .await
            .map(|won| if won { outcome } else { Outcome::LostRace })
    }

    /// The problem behind `key` is not present now. If an alert was open, sends `resolved` (its
    /// severity is forced to `Resolved`) and forgets the alert.
    pub async fn clear(
        &self,
        key: &str,
        resolved: impl FnOnce(&AlertRecord) -> Alert,
    ) -> Result<Outcome, LifecycleError> {
        let Some((prev, version)) = self.read(key).await? else {
            return Ok(Outcome::NothingOpen);
        };
        let now = self.clock.now();
        let mut alert = resolved(&prev);
        alert.key = key.to_owned();
        alert.severity = Severity::Resolved;
        alert = alert
            .detail("Was", prev.severity.as_str())
            .detail("Open since", format_time(prev.opened_at))
            .detail("Open for", human_duration(now - prev.opened_at));
        if !self.store.delete_if(&alert_pk(key), version).await? {
            return Ok(Outcome::LostRace);
        }
        if let Err(e) = self.notifier.publish(&alert).await {
            // Put the record back so the next run sends the [RESOLVED] again.
            let _ = self
                .store
                .put_if(&alert_pk(key), &to_value(&prev), None, None)
                .await;
            return Err(e.into());
        }
        Ok(Outcome::Resolved)
    }

    async fn claim_and_publish(
        &self,
        alert: &Alert,
        record: &AlertRecord,
        expected: Option<u64>,
        previous: Option<AlertRecord>,
    ) -> Result<bool, LifecycleError> {
        let key = alert_pk(&alert.key);
        if !self
            .store
            .put_if(&key, &to_value(record), expected, None)
            .await?
        {
            return Ok(false);
        }
        if let Err(e) = self.notifier.publish(alert).await {
            // Undo the claim, so the notification is attempted again by the next run.
            let ours = expected.unwrap_or(0) + 1;
            let _ = match previous {
                None => self.store.delete_if(&key, ours).await,
                Some(prev) => {
                    self.store
                        .put_if(&key, &to_value(&prev), Some(ours), None)
                        .await
                }
            };
            return Err(e.into());
        }
        Ok(true)
    }
}

/// A [`Notifier`] for functions whose alerts come from events rather than from a scheduled look
/// (the rotation): with a state table, every problem goes through the lifecycle (notified once,
/// reminded, escalated) and a `Resolved` alert is sent only if its problem was open; `Info`
/// notices are published as they are, in the same chat thread. Without a state table
/// ([`Tracking::Untracked`]) each problem is published as it comes and `Resolved` alerts are
/// dropped, since nothing is known to be open.
#[derive(Debug, Clone)]
pub enum Tracking<S, N, C> {
    /// Alerts through the lifecycle over the state table.
    Lifecycle(AlertLifecycle<S, N, C>),
    /// Straight to the notifier.
    Untracked(N),
}

impl<S: StateStore, N: Notifier, C: Clock> Notifier for Tracking<S, N, C> {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        let lifecycle = match self {
            Self::Untracked(n) => {
                if alert.severity == Severity::Resolved {
                    return Ok(());
                }
                return n.publish(alert).await;
            }
            Self::Lifecycle(l) => l,
        };
        let result = match alert.severity {
            Severity::Info => return lifecycle.notifier.publish(alert).await,
            Severity::Resolved => {
                let resolved = alert.clone();
                lifecycle.clear(&alert.key, move |_| resolved).await
            }
            Severity::Warning | Severity::Critical => lifecycle.problem(alert.clone(), 0).await,
        };
        match result {
            Ok(_) => Ok(()),
            Err(LifecycleError::Notify(e)) => Err(e),
            Err(e) => Err(NotifyError {
                key: alert.key.clone(),
                detail: e.to_string(),
            }),
        }
    }
}

fn to_value(r: &AlertRecord) -> serde_json::Value {
    serde_json::to_value(r).expect("alert record serialises")
}

/// RFC 3339 in UTC, to the second.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::state::MemoryStateStore;
    use crate::testing::RecordingNotifier;
    use time::macros::datetime;

    fn setup() -> (
        AlertLifecycle<MemoryStateStore, RecordingNotifier, ManualClock>,
        RecordingNotifier,
        ManualClock,
        MemoryStateStore,
    ) {
        let store = MemoryStateStore::default();
        let notifier = RecordingNotifier::default();
        let clock = ManualClock::new(datetime!(2026-11-25 12:00 UTC));
        let lc = AlertLifecycle::new(
            store.clone(),
            notifier.clone(),
            clock.clone(),
            Duration::hours(24),
        );
        (lc, notifier, clock, store)
    }

    fn alert(sev: Severity) -> Alert {
        Alert::new("k1", sev, "retrieval stalled", "check-retrieval")
    }

    #[tokio::test]
    async fn opens_once_reminds_after_interval_and_resolves_once() {
        let (lc, n, clock, _) = setup();
        assert_eq!(
            lc.problem(alert(Severity::Warning), 0).await.unwrap(),
            Outcome::Opened
        );
        assert_eq!(
            lc.problem(alert(Severity::Warning), 0).await.unwrap(),
            Outcome::Unchanged
        );
        clock.advance(Duration::hours(23));
        assert_eq!(
            lc.problem(alert(Severity::Warning), 0).await.unwrap(),
            Outcome::Unchanged
        );
        clock.advance(Duration::hours(1));
        assert_eq!(
            lc.problem(alert(Severity::Warning), 0).await.unwrap(),
            Outcome::Reminded
        );
        let sent = n.sent();
        assert_eq!(sent.len(), 2);
        assert!(
            sent[1].title.contains("still open after 1 d 0 h"),
            "{}",
            sent[1].title
        );
        let res = lc
            .clear("k1", |r| {
                Alert::new(
                    "",
                    Severity::Info,
                    format!("cleared: {}", r.title),
                    "check-retrieval",
                )
            })
            .await
            .unwrap();
        assert_eq!(res, Outcome::Resolved);
        assert_eq!(
            lc.clear("k1", |_| unreachable!()).await.unwrap(),
            Outcome::NothingOpen
        );
        let sent = n.sent();
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[2].severity, Severity::Resolved);
        assert!(sent[2].subject().starts_with("[RESOLVED]"));
        assert_eq!(sent[2].key, "k1");
    }

    #[tokio::test]
    async fn escalates_when_severity_or_stage_rises_but_not_when_it_falls() {
        let (lc, n, _, _) = setup();
        lc.problem(alert(Severity::Warning), 0).await.unwrap();
        assert_eq!(
            lc.problem(alert(Severity::Warning), 1).await.unwrap(),
            Outcome::Escalated
        );
        assert_eq!(
            lc.problem(alert(Severity::Critical), 0).await.unwrap(),
            Outcome::Escalated
        );
        assert_eq!(
            lc.problem(alert(Severity::Warning), 0).await.unwrap(),
            Outcome::Unchanged
        );
        assert_eq!(
            lc.problem(alert(Severity::Critical), 0).await.unwrap(),
            Outcome::Escalated
        );
        assert_eq!(n.sent().len(), 4);
    }

    #[tokio::test]
    async fn a_failed_publish_is_an_error_and_is_retried_next_run() {
        let (lc, n, _, store) = setup();
        n.fail_next(1);
        assert!(matches!(
            lc.problem(alert(Severity::Critical), 0).await,
            Err(LifecycleError::Notify(_))
        ));
        assert!(store.keys().is_empty(), "claim rolled back");
        assert_eq!(
            lc.problem(alert(Severity::Critical), 0).await.unwrap(),
            Outcome::Opened
        );
        assert_eq!(n.sent().len(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_state_table_fails_the_run() {
        let (lc, n, _, store) = setup();
        store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(matches!(
            lc.problem(alert(Severity::Critical), 0).await,
            Err(LifecycleError::State(_))
        ));
        assert!(n.sent().is_empty());
    }

    #[tokio::test]
    async fn two_concurrent_runs_notify_once() {
        let (lc, n, _, _) = setup();
        let (a, b) = tokio::join!(
            lc.problem(alert(Severity::Critical), 0),
            lc.problem(alert(Severity::Critical), 0)
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        assert_eq!(n.sent().len(), 1, "{outcomes:?}");
        assert!(outcomes.contains(&Outcome::Opened));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::minutes(12)), "12 min");
        assert_eq!(human_duration(Duration::minutes(190)), "3 h 10 min");
        assert_eq!(human_duration(Duration::hours(51)), "2 d 3 h");
    }

    #[tokio::test]
    async fn tracked_alerts_notify_once_and_resolve_only_what_was_open() {
        let (lc, n, clock, _) = setup();
        let tracked = Tracking::Lifecycle(lc);
        let resolved = Alert::new(
            "k1",
            Severity::Resolved,
            "rotation finished",
            "rotate-password",
        );
        // Nothing open: a resolution is not sent.
        tracked.publish(&resolved).await.unwrap();
        assert!(n.sent().is_empty());
        tracked.publish(&alert(Severity::Critical)).await.unwrap();
        tracked.publish(&alert(Severity::Critical)).await.unwrap();
        assert_eq!(n.sent().len(), 1, "a repeated failure is not sent again");
        clock.advance(Duration::hours(25));
        tracked.publish(&alert(Severity::Critical)).await.unwrap();
        assert_eq!(n.sent().len(), 2, "but reminded after the interval");
        let info = Alert::new("k1", Severity::Info, "password rotated", "rotate-password");
        tracked.publish(&info).await.unwrap();
        tracked.publish(&resolved).await.unwrap();
        tracked.publish(&resolved).await.unwrap();
        let sent = n.sent();
        assert_eq!(sent.len(), 4, "{sent:?}");
        assert_eq!(sent[2].severity, Severity::Info);
        assert_eq!(sent[3].severity, Severity::Resolved);
        assert!(sent.iter().all(|a| a.key == "k1"), "one chat thread");
    }

    #[tokio::test]
    async fn untracked_alerts_are_published_as_they_come_without_resolutions() {
        let n = RecordingNotifier::default();
        let untracked: Tracking<MemoryStateStore, _, ManualClock> = Tracking::Untracked(n.clone());
        untracked.publish(&alert(Severity::Warning)).await.unwrap();
        untracked.publish(&alert(Severity::Warning)).await.unwrap();
        untracked
            .publish(&Alert::new(
                "k1",
                Severity::Resolved,
                "ok",
                "rotate-password",
            ))
            .await
            .unwrap();
        assert_eq!(n.sent().len(), 2);
    }
}
