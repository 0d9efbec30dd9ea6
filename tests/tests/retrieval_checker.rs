//! One system's check (and the fleet) end to end over fakes of the AWS ports and the real
//! Suomi.fi sandbox over HTTP, through the shared `HttpSuomifi` adapter — client retries,
//! timeouts and the sandbox's faults included. (The crate's own unit tests run the same checker
//! over the in-memory `FakeSuomifi`.)
//!
//! Time is injected: the checker's clock and the sandbox's clock are both fixed and moved
//! together; nothing sleeps.

use check_retrieval::backlog;
use check_retrieval::evaluate::Thresholds;
use check_retrieval::ports::{RotationMetadata, SourceError};
use check_retrieval::report::{Report, Status};
use check_retrieval::testing::{FakeCheckpoint, FakeCredentials, FixedTls};
use check_retrieval::{Checker, Ports, Settings};
use integration_tests::suomifi::{quick_retries, read_all};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};
use suomifi_sandbox::{
    Endpoint, Event as SandboxEvent, Fault, FaultRule, GenerateEvents, RunningSandbox, Sandbox,
    SandboxConfig, event_types,
};
use suomifi_shared::checkpoint::Checkpoint;
use suomifi_shared::clock::Clock;
use suomifi_shared::clock::ManualClock;
use suomifi_shared::notify::Alert;
use suomifi_shared::notify::Severity;
use suomifi_shared::state::MemoryStateStore;
use suomifi_shared::suomifi::HttpSuomifi;
use suomifi_shared::testing::RecordingNotifier;
use time::Duration;
use time::OffsetDateTime;

const USER: &str = "org-system-1";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-0123456789!";
const SECRET: &str = "suomifi/api";
const PARAM: &str = "/suomifi/retriever/checkpoint";

// ---- Fakes of the ports: check_retrieval::testing -------------------------------------------------

type TestChecker = Checker<
    Arc<HttpSuomifi>,
    FakeCredentials,
    FakeCheckpoint,
    MemoryStateStore,
    RecordingNotifier,
    ManualClock,
    FixedTls,
>;

// ---- The world a test runs in ----------------------------------------------------------------------

struct World {
    sandbox: RunningSandbox,
    suomifi: Arc<HttpSuomifi>,
    creds: FakeCredentials,
    checkpoint: FakeCheckpoint,
    store: MemoryStateStore,
    notifier: RecordingNotifier,
    clock: ManualClock,
    settings: Settings,
}

impl World {
    async fn start() -> Self {
        let sandbox = Sandbox::start(SandboxConfig::new(USER, PASSWORD))
            .await
            .expect("sandbox starts");
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        sandbox.set_clock(suomifi_sandbox::Clock::Fixed(now));
        let secret = serde_json::json!({
            "username": USER, "password": PASSWORD, "apiUrl": sandbox.base_url()
        })
        .to_string();
        let meta = RotationMetadata {
            last_rotated: Some(now - Duration::days(3)),
            last_changed: Some(now - Duration::days(3)),
            rotation_enabled: true,
            next_rotation: Some(now + Duration::days(1)),
            pending_version: false,
        };
        let settings = Settings {
            system: "early-education".into(),
            name_in_titles: false,
            secret_id: SECRET.into(),
            thresholds: Thresholds::default(),
            reminder: Duration::hours(24),
            max_pages: backlog::MAX_PAGES_PER_RUN,
        };
        let suomifi = Arc::new(HttpSuomifi::new(quick_retries()));
        Self {
            sandbox,
            suomifi,
            creds: FakeCredentials::new(SECRET, secret, meta),
            checkpoint: FakeCheckpoint::new(PARAM),
            store: MemoryStateStore::default(),
            notifier: RecordingNotifier::default(),
            clock: ManualClock::new(now),
            settings,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn checker(&self) -> TestChecker {
        self.checker_with(true)
    }

    fn checker_with(&self, watched: bool) -> TestChecker {
        Checker::new(
            self.settings.clone(),
            Ports {
                suomifi: Arc::clone(&self.suomifi),
                credentials: self.creds.clone(),
                checkpoint: watched.then(|| self.checkpoint.clone()),
                store: self.store.clone(),
                notifier: self.notifier.clone(),
                clock: self.clock.clone(),
                tls: FixedTls,
            },
        )
    }

    /// A fleet of this world's one checker.
    fn fleet(
        &self,
    ) -> check_retrieval::fleet::Fleet<
        Arc<HttpSuomifi>,
        FakeCredentials,
        FakeCheckpoint,
        MemoryStateStore,
        RecordingNotifier,
        ManualClock,
        FixedTls,
    > {
        check_retrieval::fleet::Fleet::new(vec![self.checker()], self.clock.clone())
    }

    /// Moves both clocks.
    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sandbox.advance_clock(by);
    }

    fn add(&self, kind: &str, service: &str, at: OffsetDateTime, id: i64) {
        self.sandbox
            .add_event(SandboxEvent::for_message(kind, id, service).at(at));
    }

    /// What a retriever does: read everything, return the token to resume from.
    async fn retrieve_all(&self) -> String {
        read_all(&self.sandbox.base_url(), USER, PASSWORD).await
    }

    fn write_checkpoint(&self, token: &str, at: OffsetDateTime) {
        *self.checkpoint.value.lock().unwrap() = Ok(Some(Checkpoint::new(token, at).to_json()));
    }

    fn set_checkpoint_raw(&self, value: Option<&str>) {
        *self.checkpoint.value.lock().unwrap() = Ok(value.map(str::to_owned));
    }

    fn sent(&self) -> Vec<Alert> {
        self.notifier.sent()
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

fn detail<'a>(alert: &'a Alert, label: &str) -> &'a str {
    alert
        .details
        .iter()
        .find(|(k, _)| k == label)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no detail {label} in {:?}", alert.details))
}

// ---- Scenarios -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_healthy_retriever_sends_no_notification_and_reports_ok() {
    let w = World::start().await;
    let now = w.now();
    w.add(
        event_types::END_USER_MESSAGE,
        "svc-a",
        now - Duration::days(2),
        1,
    );
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, now - Duration::minutes(4));
    // A message that arrived after the retriever's last poll, still within grace.
    w.add(
        event_types::END_USER_MESSAGE,
        "svc-a",
        now - Duration::minutes(3),
        2,
    );

    let report = w.checker().run(None).await.unwrap();

    assert_eq!(report.status, Status::Ok, "{report:#?}");
    assert!(w.sent().is_empty(), "{:?}", w.sent());
    assert!(report.retrieval_watched);
    assert_eq!(report.credentials.status, "ok");
    assert!(report.credentials.token_latency_ms.is_some());
    assert!(report.credentials.events_latency_ms.is_some());
    assert_eq!(
        report.tls_version.as_deref(),
        Some("none"),
        "plain-HTTP sandbox"
    );
    let hb = report.heartbeat.as_ref().unwrap();
    assert_eq!((hb.age_minutes, hb.stale), (4.0, false));
    let backlog = report.backlog.as_ref().unwrap();
    assert_eq!((backlog.count, backlog.over_grace_count), (1, 0));
    assert!(backlog.complete && !backlog.truncated);
    assert_eq!(report.password_age.age_days, Some(3.0));
    for a in &report.alerts {
        assert_eq!(a.outcome, "nothingOpen", "{a:?}");
    }
    // The JSON shape the issue describes.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["heartbeat"]["ageMinutes"], 4.0);
    assert_eq!(json["backlog"]["count"], 1);
    assert_eq!(json["backlog"]["byService"]["svc-a"]["count"], 1);
    assert_eq!(json["tlsVersion"], "none");
    assert_eq!(json["retrievalWatched"], true);
}

#[tokio::test]
async fn a_stopped_retriever_alerts_once_reminds_after_the_interval_and_resolves_when_it_moves() {
    let mut w = World::start().await;
    w.settings.reminder = Duration::hours(6);
    let checker = w.checker();
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() - Duration::minutes(45));
    let key = checker.keys().heartbeat.clone().unwrap();
    assert_eq!(key, "retrieval/heartbeat/suomifi/retriever/checkpoint");

    let r1 = checker.run(None).await.unwrap();
    assert_eq!(r1.status, Status::Warning);
    assert_eq!(outcome(&r1, &key), "opened");
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].key, key);
    assert_eq!(sent[0].severity, Severity::Warning);
    assert!(
        sent[0].title.contains("stalled for 45 min"),
        "{}",
        sent[0].title
    );
    assert!(!sent[0].what_happened.is_empty() && !sent[0].why_it_matters.is_empty());
    assert!(sent[0].next_steps[0].contains("Restart the retrieval job"));

    // Fifteen minutes later: still stale, nothing new.
    w.advance(Duration::minutes(15));
    let r2 = checker.run(None).await.unwrap();
    assert_eq!(outcome(&r2, &key), "unchanged");
    assert_eq!(w.sent().len(), 1);

    // After the reminder interval: one reminder saying for how long.
    w.advance(Duration::hours(6));
    let r3 = checker.run(None).await.unwrap();
    assert_eq!(outcome(&r3, &key), "reminded");
    let sent = w.sent();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].title.starts_with("still open after 6 h 15 min"),
        "{}",
        sent[1].title
    );

    // The retriever polls again: one [RESOLVED] in the same thread.
    w.write_checkpoint(&token, w.now() - Duration::minutes(1));
    let r4 = checker.run(None).await.unwrap();
    assert_eq!(r4.status, Status::Ok);
    assert_eq!(outcome(&r4, &key), "resolved");
    let sent = w.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].severity, Severity::Resolved);
    assert_eq!(sent[2].key, key);
    assert!(sent[2].subject().starts_with("[RESOLVED]"));
    assert_eq!(sent[2].chat_json()["metadata"]["threadId"], key.as_str());

    let r5 = checker.run(None).await.unwrap();
    assert_eq!(outcome(&r5, &key), "nothingOpen");
    assert_eq!(w.sent().len(), 3);
}

#[tokio::test]
async fn a_backlog_across_pages_and_services_is_counted_with_its_deletion_horizon() {
    let w = World::start().await;
    let now = w.now();
    w.sandbox.set_page_size(3).unwrap();
    // Retrieved already: before the checkpoint, never counted.
    w.add(
        event_types::END_USER_MESSAGE,
        "svc-a",
        now - Duration::days(58),
        1,
    );
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, now - Duration::minutes(2));
    // Waiting: 6 end-user messages over 3 services, mixed with other and unknown event types.
    let waiting = [
        (
            event_types::END_USER_MESSAGE,
            "svc-a",
            now - Duration::hours(5),
            10,
        ),
        (
            event_types::MESSAGE_READ,
            "svc-a",
            now - Duration::days(59),
            11,
        ),
        (
            event_types::END_USER_MESSAGE,
            "svc-c",
            now - Duration::days(56),
            12,
        ),
        (
            "Electronic message teleported",
            "svc-b",
            now - Duration::days(59),
            13,
        ),
        (
            event_types::END_USER_MESSAGE,
            "svc-b",
            now - Duration::minutes(30),
            14,
        ),
        (
            event_types::RECEIPT_CONFIRMED,
            "svc-b",
            now - Duration::days(1),
            15,
        ),
        (
            event_types::END_USER_MESSAGE,
            "svc-a",
            now - Duration::days(2),
            16,
        ),
        (
            event_types::POSTI_UNRESOLVED,
            "svc-a",
            now - Duration::days(1),
            17,
        ),
        (
            event_types::END_USER_MESSAGE,
            "svc-b",
            now - Duration::hours(3),
            18,
        ),
        (
            event_types::END_USER_MESSAGE,
            "svc-a",
            now - Duration::minutes(10),
            19,
        ),
    ];
    for (kind, svc, at, id) in waiting {
        w.add(kind, svc, at, id);
    }

    let report = w.checker().run(None).await.unwrap();

    let b = report.backlog.as_ref().unwrap();
    assert_eq!(b.events_read, 10);
    assert_eq!(b.pages_read, 5, "4 full or partial pages and the empty one");
    assert_eq!(b.count, 6);
    assert_eq!(b.over_grace_count, 4);
    assert_eq!(b.oldest_event_time, Some(now - Duration::days(56)));
    assert_eq!(b.oldest_age_minutes, Some(56.0 * 24.0 * 60.0));
    assert_eq!(b.days_until_deletion, Some(4.0));
    assert_eq!(b.deletion_at, Some(now + Duration::days(4)));
    assert_eq!(b.by_service["svc-a"].count, 3);
    assert_eq!(
        b.by_service["svc-a"].oldest_event_time,
        now - Duration::days(2)
    );
    assert_eq!(b.by_service["svc-b"].count, 2);
    assert_eq!(b.by_service["svc-c"].count, 1);
    assert!(b.complete);
    assert_eq!(report.status, Status::Critical);

    let key = "retrieval/backlog/suomifi/api";
    assert_eq!(outcome(&report, key), "opened");
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let a = &sent[0];
    assert_eq!(a.key, key);
    assert_eq!(a.severity, Severity::Critical);
    assert!(a.title.contains("6 citizens' messages"), "{}", a.title);
    assert!(
        a.next_steps[0].contains("6 messages will be deleted by Suomi.fi in 4 days"),
        "{}",
        a.next_steps[0]
    );
    assert_eq!(detail(a, "Days until deletion"), "4.0");
    assert_eq!(
        detail(a, "Oldest event time"),
        suomifi_shared::alerts::format_time(now - Duration::days(56))
    );
    assert!(detail(a, "Service svc-b").starts_with("2 waiting"));

    // A day later nothing moved: the horizon crosses 3 days, which escalates.
    w.advance(Duration::days(1) + Duration::hours(1));
    w.write_checkpoint(&token, w.now() - Duration::minutes(2));
    let r2 = w.checker().run(None).await.unwrap();
    assert_eq!(outcome(&r2, key), "escalated");
    assert!(w.sent()[1].title.starts_with("worse:"));
}

#[tokio::test]
async fn refused_credentials_are_a_critical_alert_not_a_failed_run() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    w.sandbox
        .set_password("Changed-Elsewhere-0123456789-abcdefgh!");

    let report = w.checker().run(None).await.unwrap();

    assert_eq!(report.status, Status::Critical);
    assert_eq!(report.credentials.status, "refused");
    assert!(
        report.credentials.trace_id.is_some(),
        "the traceId for DVV support"
    );
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].key, "retrieval/credentials/suomifi/api");
    assert_eq!(sent[0].severity, Severity::Critical);
    assert!(
        sent[0].title.contains("refuses the API password"),
        "{}",
        sent[0].title
    );
    // Without a session the backlog is unknown: left as it is, not resolved.
    assert_eq!(outcome(&report, "retrieval/backlog/suomifi/api"), "unknown");
    // The heartbeat needs no API: still evaluated.
    assert_eq!(
        outcome(&report, "retrieval/heartbeat/suomifi/retriever/checkpoint"),
        "nothingOpen"
    );
    // The token could not be tried: the checkpoint alert is left as it is.
    assert_eq!(
        outcome(&report, "retrieval/checkpoint/suomifi/retriever/checkpoint"),
        "unknown"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_a_clear_critical_failure() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());

    // One 503: retried, and all is well.
    w.sandbox
        .add_fault(FaultRule::once(
            Endpoint::Events,
            Fault::ServerError { status: 503 },
        ))
        .unwrap();
    let before = w.sandbox.state().requests.events;
    let ok = w.checker().run(None).await.unwrap();
    assert_eq!(ok.status, Status::Ok, "{ok:#?}");
    assert_eq!(w.sandbox.state().requests.events - before, 2);

    // 503 every time: three attempts, then a critical finding and a report — not a Lambda error.
    w.sandbox
        .add_fault(FaultRule::always(
            Endpoint::Events,
            Fault::ServerError { status: 503 },
        ))
        .unwrap();
    let before = w.sandbox.state().requests.events;
    let report = w.checker().run(None).await.unwrap();
    assert_eq!(w.sandbox.state().requests.events - before, 3);
    assert_eq!(report.status, Status::Critical);
    assert_eq!(report.credentials.status, "unreachable");
    assert!(report.credentials.error.as_deref().unwrap().contains("503"));
    assert!(report.backlog.is_none(), "nothing was read");
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].title.contains("not answering"), "{}", sent[0].title);
    assert_eq!(detail(&sent[0], "Error kind"), "server_error");

    // Recovery resolves it.
    w.sandbox.clear_faults();
    let healed = w.checker().run(None).await.unwrap();
    assert_eq!(
        outcome(&healed, "retrieval/credentials/suomifi/api"),
        "resolved"
    );
}

#[tokio::test]
async fn a_malformed_or_missing_checkpoint_is_its_own_alert() {
    let w = World::start().await;
    let key = "retrieval/checkpoint/suomifi/retriever/checkpoint";
    w.set_checkpoint_raw(Some(
        r#"{"continuationToken": "abc", "updatedAt": "last tuesday"}"#,
    ));

    let report = w.checker().run(None).await.unwrap();

    assert_eq!(report.status, Status::Critical);
    let cp = report.checkpoint.as_ref().unwrap();
    assert_eq!(cp.status, "malformed");
    assert!(cp.error.as_deref().unwrap().contains("updatedAt"));
    assert_eq!(outcome(&report, key), "opened");
    // Heartbeat and backlog cannot be judged: left as they are.
    assert_eq!(
        outcome(&report, "retrieval/heartbeat/suomifi/retriever/checkpoint"),
        "unknown"
    );
    assert_eq!(outcome(&report, "retrieval/backlog/suomifi/api"), "unknown");
    // The API itself was still proven.
    assert_eq!(report.credentials.status, "ok");
    assert!(report.credentials.events_latency_ms.is_some());
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].title.contains("malformed"));

    w.set_checkpoint_raw(None);
    let missing = w.checker().run(None).await.unwrap();
    assert_eq!(missing.checkpoint.as_ref().unwrap().status, "missing");
    assert_eq!(
        outcome(&missing, key),
        "unchanged",
        "same severity: no second notice"
    );

    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    let fixed = w.checker().run(None).await.unwrap();
    assert_eq!(outcome(&fixed, key), "resolved");
    assert_eq!(fixed.status, Status::Ok);
}

#[tokio::test]
async fn a_checkpoint_token_the_api_refuses_is_a_checkpoint_alert_and_the_api_is_still_checked() {
    let w = World::start().await;
    w.write_checkpoint("not-a-token-of-this-sandbox+/=", w.now());

    let report = w.checker().run(None).await.unwrap();

    assert_eq!(report.checkpoint.as_ref().unwrap().status, "tokenRefused");
    assert_eq!(report.credentials.status, "ok");
    assert_eq!(report.status, Status::Critical);
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].key,
        "retrieval/checkpoint/suomifi/retriever/checkpoint"
    );
}

#[tokio::test]
async fn a_checkpoint_from_the_future_is_distrusted() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() + Duration::hours(2));
    let report = w.checker().run(None).await.unwrap();
    assert_eq!(report.checkpoint.as_ref().unwrap().status, "inTheFuture");
    assert_eq!(report.status, Status::Warning);
    assert!(report.heartbeat.is_none());
}

#[tokio::test]
async fn two_concurrent_runs_notify_once() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() - Duration::hours(2));
    let (a, b) = (w.checker(), w.checker());

    let (ra, rb) = tokio::join!(a.run(None), b.run(None));

    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let key = "retrieval/heartbeat/suomifi/retriever/checkpoint";
    assert_eq!(w.sent().len(), 1, "{:?}", w.sent());
    let outcomes = [outcome(&ra, key), outcome(&rb, key)];
    assert!(outcomes.contains(&"opened"), "{outcomes:?}");
}

#[tokio::test]
async fn a_failed_publish_fails_the_run_and_the_alert_is_sent_by_the_next_run() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() - Duration::hours(2));
    w.notifier.fail_next(1);

    let err = w.fleet().handle(None).await.unwrap_err();

    assert_eq!(err.error_type(), "CheckRetrieval.AlertingFailed");
    assert_eq!(err.failures.len(), 1);
    assert!(
        matches!(
            err.failures[0].1,
            check_retrieval::CheckError::Alerting { .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("system `early-education`"),
        "{err}"
    );
    assert_eq!(err.report.status, Status::Warning, "the report is kept");
    assert_eq!(err.report.systems[0].status, Status::Warning);
    assert!(w.sent().is_empty());
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "CheckRetrieval.AlertingFailed");

    let again = w.checker().run(None).await.unwrap();
    assert_eq!(
        outcome(&again, "retrieval/heartbeat/suomifi/retriever/checkpoint"),
        "opened"
    );
    assert_eq!(w.sent().len(), 1);
}

#[tokio::test]
async fn an_unreachable_state_table_fails_the_run() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    w.store
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let err = w.checker().run(None).await.unwrap_err();
    assert_eq!(err.error_type(), "CheckRetrieval.AlertingFailed");
    assert!(err.to_string().contains("injected failure"), "{err}");
    // Unwatched mode touches the table for its cursor first.
    let err = w.checker_with(false).run(None).await.unwrap_err();
    assert_eq!(err.error_type(), "CheckRetrieval.StateTableFailed");
}

#[tokio::test]
async fn without_a_checkpoint_parameter_it_counts_what_it_sees_with_its_own_cursor() {
    let w = World::start().await;
    let now = w.now();
    w.add(
        event_types::END_USER_MESSAGE,
        "svc-a",
        now - Duration::days(3),
        1,
    );
    w.add(
        event_types::MESSAGE_CREATED,
        "svc-a",
        now - Duration::days(3),
        2,
    );
    w.add(
        event_types::END_USER_MESSAGE,
        "svc-b",
        now - Duration::days(1),
        3,
    );
    let checker = w.checker_with(false);

    let r1 = checker.run(None).await.unwrap();

    assert!(!r1.retrieval_watched);
    assert!(r1.backlog.is_none() && r1.heartbeat.is_none() && r1.checkpoint.is_none());
    let seen = r1.seen.as_ref().unwrap();
    assert_eq!((seen.count, seen.since), (2, None));
    assert!(
        r1.notes.iter().any(|n| n.contains("not watched")),
        "{:?}",
        r1.notes
    );
    assert_eq!(
        r1.status,
        Status::Ok,
        "old messages alone are no alert when retrieval is not watched"
    );
    assert!(w.sent().is_empty());
    assert!(
        w.store
            .keys()
            .contains(&"retrieval/cursor/suomifi/api".to_owned())
    );
    let keys: Vec<_> = r1.alerts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "retrieval/credentials/suomifi/api",
            "retrieval/password-age/suomifi/api"
        ]
    );

    // The next run sees only what arrived since.
    w.advance(Duration::minutes(15));
    w.add(
        event_types::END_USER_MESSAGE,
        "svc-b",
        w.now() - Duration::minutes(5),
        4,
    );
    let r2 = checker.run(None).await.unwrap();
    let seen = r2.seen.as_ref().unwrap();
    assert_eq!(seen.count, 1);
    assert_eq!(seen.since, Some(now));
    assert_eq!(seen.by_service["svc-b"].count, 1);
    // The retriever's real checkpoint was never needed nor written.
    assert!(matches!(&*w.checkpoint.value.lock().unwrap(), Ok(None)));
}

#[tokio::test]
async fn the_scan_stops_at_the_page_bound_and_says_the_count_is_a_lower_bound() {
    let mut w = World::start().await;
    w.settings.max_pages = 2;
    w.sandbox.set_page_size(10).unwrap();
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    w.sandbox
        .generate_events(&GenerateEvents {
            count: 100,
            end_user_share: 1.0,
            first_event_time: Some(w.now() - Duration::days(2)),
            interval_millis: 60_000,
            ..GenerateEvents::default()
        })
        .unwrap();

    let report = w.checker().run(None).await.unwrap();

    let b = report.backlog.as_ref().unwrap();
    assert_eq!(
        (b.pages_read, b.count, b.complete, b.truncated),
        (2, 20, false, true)
    );
    assert!(report.notes.iter().any(|n| n.contains("lower bounds")));
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].title.starts_with("at least 20"),
        "{}",
        sent[0].title
    );
}

#[tokio::test]
async fn thousands_of_events_over_many_pages_are_all_counted() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    let generated = w
        .sandbox
        .generate_events(&GenerateEvents {
            count: 25_000,
            service_ids: vec!["a".into(), "b".into(), "c".into()],
            seed: Some(7),
            interval_millis: 100,
            ..GenerateEvents::default()
        })
        .unwrap();

    let report = w.checker().run(None).await.unwrap();

    let b = report.backlog.as_ref().unwrap();
    assert_eq!(b.events_read, 25_000);
    assert_eq!(b.pages_read, 26);
    assert_eq!(b.count, generated.end_user_messages as u64);
    assert_eq!(b.by_service.values().map(|s| s.count).sum::<u64>(), b.count);
    assert_eq!(b.by_service.len(), 3);
}

#[tokio::test]
async fn an_old_password_and_a_failed_rotation_raise_the_password_age_alert() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    let key = "retrieval/password-age/suomifi/api";
    let now = w.now();
    *w.creds.meta.lock().unwrap() = Ok(RotationMetadata {
        last_rotated: None,
        last_changed: Some(now - Duration::days(200)),
        rotation_enabled: false,
        next_rotation: None,
        pending_version: false,
    });

    let r1 = w.checker().run(None).await.unwrap();
    assert_eq!(r1.status, Status::Warning);
    assert_eq!(r1.password_age.age_days, Some(200.0));
    assert_eq!(r1.password_age.basis, Some("LastChangedDate"));
    assert_eq!(outcome(&r1, key), "opened");
    assert!(w.sent()[0].next_steps[0].contains("Enable automatic rotation"));

    // A rotation was attempted and left AWSPENDING behind: critical, escalated.
    *w.creds.meta.lock().unwrap() = Ok(RotationMetadata {
        last_rotated: None,
        last_changed: Some(now - Duration::hours(5)),
        rotation_enabled: true,
        next_rotation: None,
        pending_version: true,
    });
    let r2 = w.checker().run(None).await.unwrap();
    assert_eq!(r2.password_age.rotation_failing, Some("leftoverPending"));
    assert_eq!(outcome(&r2, key), "escalated");
    assert_eq!(w.sent()[1].severity, Severity::Critical);

    // The metadata cannot be read: a warning of its own kind, not silence.
    *w.creds.meta.lock().unwrap() = Err(SourceError {
        what: "DescribeSecret".into(),
        detail: "AccessDeniedException: not allowed".into(),
    });
    let r3 = w.checker().run(None).await.unwrap();
    assert!(
        r3.password_age
            .error
            .as_deref()
            .unwrap()
            .contains("AccessDenied")
    );
}

#[tokio::test]
async fn an_unreadable_or_malformed_secret_is_critical() {
    let w = World::start().await;
    *w.creds.secret.lock().unwrap() = Err("AccessDeniedException: no".into());
    let r = w.checker().run(None).await.unwrap();
    assert_eq!(r.credentials.status, "secretUnreadable");
    assert_eq!(r.status, Status::Critical);
    assert!(r.tls_version.is_none() && r.tls_note.is_some());

    *w.creds.secret.lock().unwrap() = Ok(r#"{"username": "u"}"#.into());
    let r = w.checker().run(None).await.unwrap();
    assert_eq!(r.credentials.status, "secretMalformed");
}

#[tokio::test]
async fn metrics_are_the_ones_the_dashboard_uses() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() - Duration::minutes(7));
    let report = w.checker().run(None).await.unwrap();
    let line = suomifi_shared::telemetry::emf_line(report.checked_at, &[], &report.metrics());
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let declared: Vec<&str> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        declared,
        [
            "BacklogCount",
            "OldestBacklogAgeMinutes",
            "DaysUntilDeletion",
            "HeartbeatAgeMinutes",
            "PasswordAgeDays"
        ]
    );
    assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "SuomifiOps");
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(v["BacklogCount"], 0.0);
    assert_eq!(v["DaysUntilDeletion"], 60.0);
    assert_eq!(v["HeartbeatAgeMinutes"], 7.0);
}

/// Captures every tracing event (all levels, all crates) into a buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_password_or_token_reaches_logs_reports_or_notifications() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() - Duration::hours(3));
    w.add(
        event_types::END_USER_MESSAGE,
        "svc",
        w.now() - Duration::days(3),
        1,
    );
    w.sandbox
        .add_fault(FaultRule::once(
            Endpoint::Events,
            Fault::ServerError { status: 502 },
        ))
        .unwrap();
    let ok = w.fleet().handle(None).await.unwrap();
    // And a run where the password is refused (the error path).
    w.sandbox
        .set_password("Another-Password-0123456789-abcdefgh!");
    let refused = w.fleet().handle(None).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrieval check report"),
        "the run logged its report"
    );
    assert!(
        logs.contains("Suomi.fi server error"),
        "the retried 502 was logged"
    );
    let reports = format!(
        "{}{}",
        serde_json::to_string(&ok).unwrap(),
        serde_json::to_string(&refused).unwrap()
    );
    let alerts: String = w
        .sent()
        .iter()
        .map(|a| format!("{}{}{:?}", a.sns_message(), a.subject(), a))
        .collect();
    assert!(w.sent().len() >= 3, "{:?}", w.sent());
    for (what, text) in [("logs", &logs), ("reports", &reports), ("alerts", &alerts)] {
        assert!(
            !text.contains(PASSWORD),
            "the password appears in the {what}"
        );
        assert!(
            !text.contains("Bearer "),
            "an Authorization header appears in the {what}"
        );
    }
}

#[tokio::test]
async fn an_https_api_is_probed_for_its_tls_version_even_when_it_cannot_be_reached() {
    let w = World::start().await;
    // Nothing listens on port 1: the login fails fast, the probe (a fake here) still reports.
    *w.creds.secret.lock().unwrap() = Ok(serde_json::json!({
        "username": USER, "password": PASSWORD, "apiUrl": "https://127.0.0.1:1"
    })
    .to_string());
    let report = w.checker().run(None).await.unwrap();
    assert_eq!(report.tls_version.as_deref(), Some("TLSv1.3"));
    assert_eq!(report.credentials.status, "unreachable");
    assert_eq!(report.status, Status::Critical);
    let sent = w.sent();
    assert_eq!(detail(&sent[0], "Error kind"), "transport");
    assert!(!format!("{sent:?}").contains(PASSWORD));
}

#[tokio::test]
async fn a_run_with_no_time_left_to_read_the_events_is_unknown_never_ok() {
    let w = World::start().await;
    let now = w.now();
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, now - Duration::minutes(4));
    // The deadline has already passed when the scan would start.
    let report = w
        .checker()
        .run(Some(std::time::Instant::now()))
        .await
        .unwrap();
    assert_eq!(report.status, Status::Unknown, "{report:#?}");
    assert_eq!(report.credentials.status, "eventsNotRead");
    assert!(
        w.sent().is_empty(),
        "an unknown part notifies nobody by itself"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "unknown");
    // With time, the same state is ok.
    let report = w.checker().run(None).await.unwrap();
    assert_eq!(report.status, Status::Ok, "{report:#?}");
}

#[tokio::test]
async fn a_password_changed_by_a_running_rotation_is_not_paged_and_a_stuck_one_is() {
    let w = World::start().await;
    let now = w.now();
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, now - Duration::minutes(4));
    // setSecret changed the password a moment ago; AWSCURRENT still holds the old one.
    let new = "Rotated-password-000000000000000000000000000!";
    w.sandbox.set_password(new);
    *w.creds.pending.lock().unwrap() = Some(
        serde_json::json!({"username": USER, "password": new, "apiUrl": w.sandbox.base_url()})
            .to_string(),
    );
    *w.creds.meta.lock().unwrap() = Ok(RotationMetadata {
        last_rotated: Some(now - Duration::days(1)),
        last_changed: Some(now - Duration::minutes(2)),
        rotation_enabled: true,
        next_rotation: None,
        pending_version: true,
    });
    let running = w.checker().run(None).await.unwrap();
    assert_eq!(
        running.credentials.status, "rotationInProgress",
        "{running:#?}"
    );
    assert!(
        w.sent().is_empty(),
        "a rotation in flight pages nobody: {:?}",
        w.sent()
    );
    assert_ne!(
        running.status,
        Status::Ok,
        "the credentials were not proven this run"
    );
    assert_ne!(running.status, Status::Critical);
    // The rotation stopped there: hours later only AWSPENDING still works.
    *w.creds.meta.lock().unwrap() = Ok(RotationMetadata {
        last_rotated: Some(now - Duration::days(1)),
        last_changed: Some(now - Duration::hours(3)),
        rotation_enabled: true,
        next_rotation: None,
        pending_version: true,
    });
    let stuck = w.checker().run(None).await.unwrap();
    assert_eq!(stuck.credentials.status, "onlyPendingAccepted");
    assert_eq!(stuck.status, Status::Critical);
    let sent = w.sent();
    let alert = sent
        .iter()
        .find(|a| a.key == "retrieval/credentials/suomifi/api")
        .unwrap_or_else(|| panic!("{sent:?}"));
    assert!(
        alert.title.contains("only the AWSPENDING password"),
        "{}",
        alert.title
    );
    assert!(alert.next_steps[0].contains("suomifi-ops recover --secret-id suomifi/api"));
    // Every alert at this moment agrees: none advises removing AWSPENDING.
    for a in &sent {
        let text = a.next_steps.join(" ");
        assert!(
            !text.contains("remove the AWSPENDING label"),
            "{}: {text}",
            a.title
        );
        assert!(
            !text.contains("--remove-from-version-id"),
            "{}: {text}",
            a.title
        );
    }
    // The backlog was still read with the working password.
    assert!(stuck.backlog.is_some());
}

#[tokio::test]
async fn a_system_that_hangs_is_reported_unknown_and_never_holds_back_the_others() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now());
    // A host that accepts connections and never answers.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole = format!("http://{}", black_hole.local_addr().unwrap());
    let stuck_creds = FakeCredentials {
        secret_id: SECRET.into(),
        secret: Arc::new(Mutex::new(Ok(serde_json::json!({
            "username": "stuck-system", "password": PASSWORD, "apiUrl": hole
        })
        .to_string()))),
        meta: w.creds.meta.clone(),
        pending: Arc::new(Mutex::new(None)),
    };
    let stuck = Checker::new(
        Settings {
            system: "stuck".into(),
            secret_id: "suomifi/stuck".into(),
            name_in_titles: true,
            ..w.settings.clone()
        },
        Ports {
            suomifi: Arc::clone(&w.suomifi),
            credentials: stuck_creds,
            checkpoint: None,
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            clock: w.clock.clone(),
            tls: FixedTls,
        },
    );
    // The scans may read for a second; a system still busy half a second later is given up.
    let fleet = check_retrieval::fleet::Fleet::new(vec![stuck, w.checker()], w.clock.clone())
        .with_grace(StdDuration::from_millis(500));
    let deadline = Instant::now() + StdDuration::from_secs(1);

    let started = Instant::now();
    let report = fleet.run(Some(deadline)).await.unwrap();

    assert!(
        started.elapsed() < StdDuration::from_secs(9),
        "the 10 s client timeout was not waited for"
    );
    assert_eq!(report.systems.len(), 2);
    let (hung, fine) = (&report.systems[0], &report.systems[1]);
    assert_eq!(hung.system, "stuck");
    assert_eq!(hung.status, Status::Unknown);
    assert_eq!(hung.credentials.status, "notChecked");
    assert!(
        hung.notes[0].contains("not finished before the Lambda deadline"),
        "{:?}",
        hung.notes
    );
    assert!(hung.alerts.is_empty(), "its alerts are left as they are");
    assert_eq!(fine.system, "early-education");
    assert_eq!(fine.status, Status::Ok, "{fine:?}");
    assert_eq!(
        report.status,
        Status::Unknown,
        "never ok while a system is unchecked"
    );
    assert_eq!(report.summary.systems, 2);
    assert_eq!((report.summary.ok, report.summary.unknown), (1, 1));
    assert_eq!(report.worst_first()[0].system, "stuck");
    assert!(w.sent().is_empty(), "{:?}", w.sent());
    drop(black_hole);
}

#[tokio::test]
async fn with_several_systems_every_alert_names_its_system() {
    let w = World::start().await;
    let token = w.retrieve_all().await;
    w.write_checkpoint(&token, w.now() - Duration::hours(3));
    let named = Checker::new(
        Settings {
            name_in_titles: true,
            ..w.settings.clone()
        },
        Ports {
            suomifi: Arc::clone(&w.suomifi),
            credentials: w.creds.clone(),
            checkpoint: Some(w.checkpoint.clone()),
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            clock: w.clock.clone(),
            tls: FixedTls,
        },
    );
    named.run(None).await.unwrap();
    let sent = w.sent();
    assert!(!sent.is_empty());
    for alert in &sent {
        assert!(
            alert.title.starts_with("[early-education] "),
            "{}",
            alert.title
        );
        assert_eq!(
            alert.details[0],
            ("System".to_owned(), "early-education".to_owned())
        );
    }
}
