//! One system's check over in-memory fakes of every port, Suomi.fi included
//! ([`FakeSuomifi`]): no network, no stand-in, time injected. The same checker over the real
//! sandbox via HTTP (client retries, timeouts, faults) is `tests/tests/retrieval_checker.rs`.

use crate::backlog::MAX_PAGES_PER_RUN;
use crate::evaluate::Thresholds;
use crate::ports::{RotationMetadata, SourceError};
use crate::report::{Report, Status};
use crate::testing::{FakeCheckpoint, FakeCredentials, FixedTls};
use crate::{Checker, Ports, Settings};
use std::time::{Duration as StdDuration, Instant};
use suomifi_shared::checkpoint::Checkpoint;
use suomifi_shared::clock::{Clock, ManualClock};
use suomifi_shared::notify::Severity;
use suomifi_shared::state::{MemoryStateStore, StateStore};
use suomifi_shared::suomifi::{ApiError, EventType, TraceId};
use suomifi_shared::testing::{FakeEndpoint, FakeSuomifi, RecordingNotifier};
use time::{Duration, OffsetDateTime};

const USER: &str = "org-system-1";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-0123456789!";
const API: &str = "https://api.messages-qa.suomi.fi";
const SECRET: &str = "suomifi/api";
const PARAM: &str = "/suomifi/retriever/checkpoint";

type TestChecker = Checker<
    FakeSuomifi,
    FakeCredentials,
    FakeCheckpoint,
    MemoryStateStore,
    RecordingNotifier,
    ManualClock,
    FixedTls,
>;

struct World {
    suomifi: FakeSuomifi,
    creds: FakeCredentials,
    checkpoint: FakeCheckpoint,
    store: MemoryStateStore,
    notifier: RecordingNotifier,
    clock: ManualClock,
}

fn secret_value(password: &str) -> String {
    serde_json::json!({"username": USER, "password": password, "apiUrl": API}).to_string()
}

impl World {
    fn new() -> Self {
        let now = time::macros::datetime!(2026-12-04 12:00 UTC);
        let meta = RotationMetadata {
            last_rotated: Some(now - Duration::days(3)),
            last_changed: Some(now - Duration::days(3)),
            rotation_enabled: true,
            next_rotation: Some(now + Duration::days(1)),
            pending_version: false,
        };
        Self {
            suomifi: FakeSuomifi::new(USER, PASSWORD),
            creds: FakeCredentials::new(SECRET, secret_value(PASSWORD), meta),
            checkpoint: FakeCheckpoint::new(PARAM),
            store: MemoryStateStore::default(),
            notifier: RecordingNotifier::default(),
            clock: ManualClock::new(now),
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn checker(&self, watched: bool) -> TestChecker {
        Checker::new(
            Settings {
                system: "early-education".into(),
                name_in_titles: false,
                secret_id: SECRET.into(),
                thresholds: Thresholds::default(),
                reminder: Duration::hours(24),
                max_pages: MAX_PAGES_PER_RUN,
            },
            Ports {
                suomifi: self.suomifi.clone(),
                credentials: self.creds.clone(),
                checkpoint: watched.then(|| self.checkpoint.clone()),
                store: self.store.clone(),
                notifier: self.notifier.clone(),
                clock: self.clock.clone(),
                tls: FixedTls,
            },
        )
    }

    fn message(&self, service: &str, ago: Duration, id: i64) {
        self.suomifi
            .push(EventType::EndUserMessage, service, self.now() - ago, id);
    }

    /// What a retriever does after reading everything: store where it resumes, `ago` ago.
    fn retriever_read_all(&self, ago: Duration) {
        let cp = Checkpoint::new(self.suomifi.end_token(), self.now() - ago);
        *self.checkpoint.value.lock().unwrap() = Ok(Some(cp.to_json()));
    }

    async fn run(&self, watched: bool) -> Report {
        self.checker(watched).run(None).await.expect("the run")
    }
}

fn outcome<'a>(report: &'a Report, key: &str) -> &'a str {
    report
        .alerts
        .iter()
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("no alert entry for {key}: {:?}", report.alerts))
        .outcome
}

fn server_error(endpoint: &'static str) -> ApiError {
    ApiError::Server {
        endpoint,
        status: 503,
        attempts: 3,
        trace_id: TraceId(Some("t-503".into())),
    }
}

#[tokio::test]
async fn a_retriever_that_keeps_up_is_ok_and_notifies_nobody() {
    let w = World::new();
    w.message("svc-a", Duration::days(2), 1);
    w.retriever_read_all(Duration::minutes(4));
    // Arrived after the retriever's last poll, still within grace.
    w.message("svc-a", Duration::minutes(3), 2);

    let report = w.run(true).await;

    assert_eq!(report.status, Status::Ok, "{report:#?}");
    assert!(w.notifier.sent().is_empty(), "{:?}", w.notifier.sent());
    assert_eq!(report.credentials.status, "ok");
    assert_eq!(report.tls_version.as_deref(), Some("TLSv1.3"));
    let backlog = report.backlog.as_ref().expect("backlog");
    assert_eq!((backlog.count, backlog.over_grace_count), (1, 0));
    assert!(backlog.complete && !backlog.truncated);
    assert_eq!(report.heartbeat.as_ref().unwrap().age_minutes, 4.0);
    // The secret's apiUrl is the API the checker talks to.
    assert!(
        w.suomifi.bases().iter().all(|b| b == API),
        "{:?}",
        w.suomifi.bases()
    );
    assert_eq!(w.suomifi.calls(FakeEndpoint::Token), 1);
}

#[tokio::test]
async fn a_message_waiting_past_grace_is_an_alert_with_the_days_left_before_deletion() {
    let w = World::new();
    w.retriever_read_all(Duration::minutes(5));
    w.message("svc-b", Duration::days(10), 7);

    let report = w.run(true).await;

    assert_ne!(report.status, Status::Ok, "{report:#?}");
    let backlog = report.backlog.as_ref().unwrap();
    assert_eq!((backlog.count, backlog.over_grace_count), (1, 1));
    let days = backlog.days_until_deletion.expect("days left");
    assert!((49.0..=50.0).contains(&days), "{days}");
    assert_eq!(outcome(&report, "retrieval/backlog/suomifi/api"), "opened");
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].key, "retrieval/backlog/suomifi/api");
}

#[tokio::test]
async fn suomifi_down_is_critical_and_the_checkpoint_token_is_not_called_verified() {
    let w = World::new();
    w.retriever_read_all(Duration::minutes(5));
    w.suomifi
        .fail_next(FakeEndpoint::Token, server_error("/v1/token"));

    let report = w.run(true).await;

    assert_eq!(report.status, Status::Critical, "{report:#?}");
    assert_eq!(report.credentials.status, "unreachable");
    assert_eq!(report.credentials.trace_id.as_deref(), Some("t-503"));
    assert!(report.backlog.is_none());
    // What could not be looked at is never "ok": the backlog alert is left as it is.
    assert_eq!(outcome(&report, "retrieval/backlog/suomifi/api"), "unknown");
    assert_eq!(w.suomifi.calls(FakeEndpoint::Events), 0);
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].severity, Severity::Critical);
}

#[tokio::test]
async fn a_refused_password_with_a_working_pending_one_is_quiet_during_a_rotation_only() {
    let w = World::new();
    w.retriever_read_all(Duration::minutes(4));
    let new = "Rotated-password-000000000000000000000000000!";
    w.suomifi.set_password(new);
    *w.creds.pending.lock().unwrap() = Some(secret_value(new));
    let now = w.now();
    *w.creds.meta.lock().unwrap() = Ok(RotationMetadata {
        last_rotated: Some(now - Duration::days(1)),
        last_changed: Some(now - Duration::minutes(2)),
        rotation_enabled: true,
        next_rotation: None,
        pending_version: true,
    });

    let running = w.run(true).await;
    assert_eq!(running.credentials.status, "rotationInProgress");
    assert!(w.notifier.sent().is_empty(), "{:?}", w.notifier.sent());
    assert_eq!(running.status, Status::Unknown, "not proven this run");
    // The backlog was still read, with the pending password's token.
    assert!(running.backlog.as_ref().unwrap().complete);

    // Hours later the rotation has not moved: only AWSPENDING works.
    *w.creds.meta.lock().unwrap() = Ok(RotationMetadata {
        last_rotated: Some(now - Duration::days(1)),
        last_changed: Some(now - Duration::hours(3)),
        rotation_enabled: true,
        next_rotation: None,
        pending_version: true,
    });
    let stuck = w.run(true).await;
    assert_eq!(stuck.credentials.status, "onlyPendingAccepted");
    assert_eq!(stuck.status, Status::Critical);
    let sent = w.notifier.sent();
    let alert = sent
        .iter()
        .find(|a| a.key == "retrieval/credentials/suomifi/api")
        .unwrap_or_else(|| panic!("{sent:?}"));
    assert!(alert.next_steps[0].contains("suomifi-ops recover --secret-id suomifi/api"));
}

#[tokio::test]
async fn a_checkpoint_token_suomifi_refuses_is_a_checkpoint_alert_and_the_api_is_probed_anyway() {
    let w = World::new();
    let cp = Checkpoint::new("not-a-token-of-this-feed", w.now() - Duration::minutes(3));
    *w.checkpoint.value.lock().unwrap() = Ok(Some(cp.to_json()));

    let report = w.run(true).await;

    let checkpoint = report.checkpoint.as_ref().unwrap();
    assert_eq!(checkpoint.status, "tokenRefused", "{report:#?}");
    assert_eq!(
        report.credentials.status, "ok",
        "GET /v2/events from the start answered"
    );
    assert_eq!(w.suomifi.calls(FakeEndpoint::Events), 2);
    assert_eq!(
        outcome(&report, "retrieval/checkpoint/suomifi/retriever/checkpoint"),
        "opened"
    );
}

#[tokio::test]
async fn out_of_time_before_the_first_page_is_unknown_never_ok() {
    let w = World::new();
    w.retriever_read_all(Duration::minutes(2));
    let past = Instant::now()
        .checked_sub(StdDuration::from_secs(1))
        .expect("an instant in the past");

    let report = w.checker(true).run(Some(past)).await.unwrap();

    assert_eq!(report.credentials.status, "eventsNotRead", "{report:#?}");
    assert_eq!(report.status, Status::Unknown);
    assert!(w.notifier.sent().is_empty());
    assert_eq!(w.suomifi.calls(FakeEndpoint::Events), 0);
}

#[tokio::test]
async fn unwatched_the_checker_counts_what_arrived_since_its_own_cursor() {
    let w = World::new();
    w.message("svc-a", Duration::hours(5), 1);
    w.message("svc-a", Duration::hours(4), 2);

    let first = w.run(false).await;
    assert!(!first.retrieval_watched);
    assert_eq!(first.seen.as_ref().unwrap().count, 2, "{first:#?}");
    assert!(first.backlog.is_none() && first.heartbeat.is_none());
    let cursor = w.checker(false).cursor_key();
    assert!(
        w.store.get(&cursor).await.unwrap().is_some(),
        "the cursor was written"
    );

    w.clock.advance(Duration::minutes(10));
    w.message("svc-c", Duration::minutes(1), 3);
    let second = w.run(false).await;
    let seen = second.seen.as_ref().unwrap();
    assert_eq!(
        seen.count, 1,
        "only what came after the cursor: {second:#?}"
    );
    assert_eq!(seen.since, Some(first.checked_at));
    assert_eq!(second.status, Status::Ok);
}

#[tokio::test]
async fn an_unreadable_secret_is_critical_and_suomifi_is_not_called() {
    let w = World::new();
    *w.creds.secret.lock().unwrap() = Err("AccessDeniedException: not allowed".into());
    *w.checkpoint.value.lock().unwrap() = Err(SourceError {
        what: PARAM.into(),
        detail: "ParameterNotFound".into(),
    });

    let report = w.run(true).await;

    assert_eq!(report.credentials.status, "secretUnreadable");
    assert_eq!(report.status, Status::Critical);
    assert_eq!(w.suomifi.calls(FakeEndpoint::Token), 0);
    assert_eq!(report.checkpoint.as_ref().unwrap().status, "unreadable");
}

#[test]
fn the_scan_deadline_leaves_a_margin_before_the_lambda_deadline() {
    let now = std::time::SystemTime::UNIX_EPOCH + StdDuration::from_secs(1_800_000_000);
    let in_a_minute = 1_800_000_060_000;
    let before = Instant::now();
    let d = crate::scan_deadline(in_a_minute, now).unwrap();
    let left = d.duration_since(before);
    assert!(
        left <= StdDuration::from_secs(46) && left >= StdDuration::from_secs(44),
        "{left:?}"
    );
    // Already past the margin: stop at once rather than overflow.
    let d = crate::scan_deadline(1_800_000_005_000, now).unwrap();
    assert!(d <= Instant::now());
    assert_eq!(crate::scan_deadline(0, now), None);
}

#[test]
fn settings_come_from_the_configuration() {
    let config = crate::config::Config::from_env(&crate::config::Env::from_pairs([
        ("SUOMIFI_SECRET_ID", "s"),
        ("STATE_TABLE", "t"),
        ("REMINDER_HOURS", "3"),
    ]))
    .unwrap();
    let s = Settings::for_system(&config, &config.systems[0]);
    assert_eq!(s.secret_id, "s");
    assert_eq!(s.system, "s");
    assert!(!s.name_in_titles, "one system: titles as they were");
    assert_eq!(s.reminder, Duration::hours(3));
    assert_eq!(s.max_pages, MAX_PAGES_PER_RUN);
}
