//! The use case over fakes: Secrets Manager and Scheduler in memory, the state table in memory, a
//! recording notifier and a manual clock. (The real binary against moto:
//! tests/tests/watch_access.rs.)

use crate::ledger::{SecretLedger, ledger_pk};
use crate::policy;
use crate::testing::{FakeScheduler, FakeSecrets};
use crate::{Config, Ports, Watcher};
use serde_json::{Value, json};
use suomifi_shared::clock::ManualClock;
use suomifi_shared::config::Env;
use suomifi_shared::notify::Severity;
use suomifi_shared::state::{MemoryStateStore, StateStore};
use suomifi_shared::testing::RecordingNotifier;
use time::macros::datetime;

const ARN: &str = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/prod-AbCdEf";
const FN: &str = "arn:aws:lambda:eu-north-1:123456789012:function:watch";

struct World {
    secrets: FakeSecrets,
    scheduler: FakeScheduler,
    store: MemoryStateStore,
    notifier: RecordingNotifier,
    clock: ManualClock,
}

type W = Watcher<FakeSecrets, FakeScheduler, MemoryStateStore, RecordingNotifier, ManualClock>;

fn world() -> World {
    let w = World {
        secrets: FakeSecrets::default(),
        scheduler: FakeScheduler::default(),
        store: MemoryStateStore::default(),
        notifier: RecordingNotifier::default(),
        clock: ManualClock::new(datetime!(2026-12-02 08:00:30 UTC)),
    };
    w.secrets.add(ARN);
    w
}

fn watcher(w: &World, minutes: &str) -> W {
    let config = Config::from_env(&Env::from_pairs([
        ("STATE_TABLE", "t"),
        ("WATCHED_SECRET_ARNS", ARN),
        (
            "WORKLOAD_ROLE_ARNS",
            "arn:aws:iam::123456789012:role/stack-CheckRetrievalRole-BBB",
        ),
        ("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/sched"),
        ("SCHEDULE_GROUP", "grp"),
        ("EXPOSURE_ROTATE_AFTER_MINUTES", minutes),
        (
            "BREAK_GLASS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/break-glass",
        ),
    ]))
    .unwrap();
    Watcher::new(
        config,
        Ports {
            secrets: w.secrets.clone(),
            scheduler: w.scheduler.clone(),
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            clock: w.clock.clone(),
        },
    )
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("json")
}

async fn ledger(w: &World) -> SecretLedger {
    serde_json::from_value(
        w.store
            .get(&ledger_pk(ARN))
            .await
            .unwrap()
            .expect("ledger")
            .data,
    )
    .unwrap()
}

#[tokio::test]
async fn a_persons_read_is_recorded_notified_once_and_scheduled_once() {
    let w = world();
    let v = watcher(&w, "60");
    let read = fixture("cloudtrail-GetSecretValue-sso.json");
    v.handle(&read, FN).await.unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].severity, Severity::Warning);
    assert!(
        sent[0]
            .what_happened
            .contains("it will be rotated at 2026-12-02T09:00:30Z"),
        "{}",
        sent[0].what_happened
    );
    let schedules = w.scheduler.schedules();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].group, "grp");
    assert_eq!(schedules[0].target_arn, FN);
    assert_eq!(
        serde_json::from_str::<Value>(&schedules[0].input).unwrap(),
        json!({"rotateSecret": ARN})
    );
    assert!(w.secrets.rotated().is_empty(), "delayed, not at once");
    // The same read again (a redelivery), and a second read by the same person.
    v.handle(&read, FN).await.unwrap();
    let mut again = read.clone();
    again["detail"]["eventID"] = json!("another-read");
    v.handle(&again, FN).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1, "once per person and password");
    assert_eq!(w.scheduler.schedules().len(), 1);
    let l = ledger(&w).await;
    assert_eq!(l.readers.len(), 1);
    assert_eq!(l.readers[0].reads, 3);
    assert!(
        w.store.keys().iter().any(|k| k.ends_with("#another-read")),
        "{:?}",
        w.store.keys()
    );
    // Another person in the window: notified, no second schedule.
    v.handle(&fixture("cloudtrail-GetSecretValue-iam-user.json"), FN)
        .await
        .unwrap();
    assert_eq!(w.notifier.sent().len(), 2);
    assert_eq!(w.scheduler.schedules().len(), 1);
}

#[tokio::test]
async fn the_schedule_rotates_once_and_not_after_the_secret_rotated() {
    let w = world();
    let v = watcher(&w, "60");
    v.handle(&fixture("cloudtrail-GetSecretValue-sso.json"), FN)
        .await
        .unwrap();
    let fire = fixture("scheduler-rotate-secret.json");
    let out = v.handle(&fire, FN).await.unwrap();
    assert_eq!(out["outcome"], "rotation-requested", "{out}");
    assert_eq!(w.secrets.rotated(), vec![ARN.to_owned()]);
    // Fired twice (Scheduler's at-least-once delivery): no second rotation.
    let out = v.handle(&fire, FN).await.unwrap();
    assert_eq!(out["outcome"], "rotation-skipped", "{out}");
    assert_eq!(w.secrets.rotated().len(), 1);
    // A read whose schedule fires after an unrelated rotation finished: nothing to do.
    let w = world();
    let v = watcher(&w, "60");
    v.handle(&fixture("cloudtrail-GetSecretValue-sso.json"), FN)
        .await
        .unwrap();
    w.secrets.update(ARN, |s| {
        s.current_version = Some("v2".into());
        s.last_rotated = Some(datetime!(2026-12-02 08:30 UTC));
    });
    let out = v.handle(&fire, FN).await.unwrap();
    assert_eq!(out["why"], "AlreadyRotated", "{out}");
    assert!(w.secrets.rotated().is_empty());
}

#[tokio::test]
async fn zero_minutes_rotates_at_once_and_a_running_rotation_gets_no_second() {
    let w = world();
    let v = watcher(&w, "0");
    v.handle(&fixture("cloudtrail-GetSecretValue-sso.json"), FN)
        .await
        .unwrap();
    assert_eq!(w.secrets.rotated().len(), 1);
    assert!(w.scheduler.schedules().is_empty());
    assert!(w.notifier.sent()[0].what_happened.contains("rotated now"));
    // Another person while the rotation runs: told, no second RotateSecret.
    v.handle(&fixture("cloudtrail-GetSecretValue-iam-user.json"), FN)
        .await
        .unwrap();
    assert_eq!(w.secrets.rotated().len(), 1);
    assert_eq!(w.notifier.sent().len(), 2);
}

#[tokio::test]
async fn workload_reads_and_unknown_events_do_nothing() {
    let w = world();
    let v = watcher(&w, "0");
    for e in [
        fixture("cloudtrail-GetSecretValue-workload.json"),
        json!({"detail-type": "Something", "detail": {}}),
        json!({}),
        json!("text"),
    ] {
        let out = v.handle(&e, FN).await.unwrap();
        assert_eq!(out["outcome"], "ignored", "{out}");
    }
    assert!(w.notifier.sent().is_empty());
    assert!(w.store.keys().is_empty());
    assert!(w.secrets.rotated().is_empty());
}

#[tokio::test]
async fn a_failed_notification_rolls_the_claim_back_so_the_retry_notifies() {
    let w = world();
    let v = watcher(&w, "60");
    let read = fixture("cloudtrail-GetSecretValue-sso.json");
    w.notifier.fail_next(1);
    let err = v.handle(&read, FN).await.unwrap_err();
    assert_eq!(err.error_type(), "WatchAccess.AlertingFailed");
    v.handle(&read, FN).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1);
    assert_eq!(
        w.scheduler.schedules().len(),
        1,
        "the retry found the schedule (same name)"
    );
}

#[tokio::test]
async fn deleting_a_recorded_reader_rotates_at_once_and_says_why() {
    let w = world();
    let v = watcher(&w, "60");
    v.handle(&fixture("cloudtrail-GetSecretValue-iam-user.json"), FN)
        .await
        .unwrap();
    let delete = fixture("cloudtrail-iam-DeleteUser.json");
    let out = v.handle(&delete, FN).await.unwrap();
    assert_eq!(out["rotated"], json!([ARN]), "{out}");
    assert_eq!(w.secrets.rotated().len(), 1);
    let last = w.notifier.sent().pop().unwrap();
    assert!(
        last.title.contains("IAM user matti was deleted"),
        "{}",
        last.title
    );
    // Delivered twice: rotated once.
    v.handle(&delete, FN).await.unwrap();
    assert_eq!(w.secrets.rotated().len(), 1);
    // A user who never read it: nothing.
    let mut other = delete.clone();
    other["detail"]["requestParameters"]["userName"] = json!("liisa");
    let out = v.handle(&other, FN).await.unwrap();
    assert_eq!(out["rotated"], json!([]));
}

#[tokio::test]
async fn a_policy_change_alerts_and_the_daily_comparison_resolves_it() {
    let w = world();
    let v = watcher(&w, "60");
    v.handle(&fixture("cloudtrail-PutResourcePolicy.json"), FN)
        .await
        .unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].severity, Severity::Critical);
    assert!(
        sent[0].what_happened.contains("IAM user matti"),
        "{}",
        sent[0].what_happened
    );
    // Daily: still not the stack's (none at all) - the alert stays open, no repeat within a day.
    let check = fixture("scheduler-access-policies.json");
    v.handle(&check, FN).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1);
    // Back to the stack's policy: resolved.
    w.secrets
        .policies
        .lock()
        .unwrap()
        .insert(ARN.into(), v.expected_policy().to_string());
    v.handle(&check, FN).await.unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].severity, Severity::Resolved);
    // And a widened one opens it again.
    let mut wider = v.expected_policy().clone();
    wider["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = json!("*");
    w.secrets
        .policies
        .lock()
        .unwrap()
        .insert(ARN.into(), wider.to_string());
    v.handle(&check, FN).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 3);
    assert_eq!(
        policy::compare(Some(&v.expected_policy().to_string()), v.expected_policy()),
        policy::Drift::Same
    );
}

/// The in-memory store, yielding before every call: concurrent invocations interleave between
/// reading the ledger and writing it, as they do against DynamoDB.
#[derive(Debug, Clone, Default)]
struct Yielding(MemoryStateStore);

impl StateStore for Yielding {
    async fn get(
        &self,
        pk: &str,
    ) -> Result<Option<suomifi_shared::state::Versioned>, suomifi_shared::state::StateError> {
        tokio::task::yield_now().await;
        self.0.get(pk).await
    }
    async fn put_if(
        &self,
        pk: &str,
        data: &Value,
        expected: Option<u64>,
        ttl: Option<i64>,
    ) -> Result<bool, suomifi_shared::state::StateError> {
        tokio::task::yield_now().await;
        self.0.put_if(pk, data, expected, ttl).await
    }
    async fn delete_if(
        &self,
        pk: &str,
        expected: u64,
    ) -> Result<bool, suomifi_shared::state::StateError> {
        tokio::task::yield_now().await;
        self.0.delete_if(pk, expected).await
    }
}

#[tokio::test]
async fn concurrent_reads_by_one_person_notify_once_and_schedule_once() {
    let w = world();
    let v = watcher(&w, "60");
    let config = Config::from_env(&Env::from_pairs([
        ("STATE_TABLE", "t"),
        ("WATCHED_SECRET_ARNS", ARN),
        (
            "WORKLOAD_ROLE_ARNS",
            "arn:aws:iam::123456789012:role/stack-CheckRetrievalRole-BBB",
        ),
        ("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/sched"),
        ("SCHEDULE_GROUP", "grp"),
    ]))
    .unwrap();
    drop(v);
    let store = Yielding(w.store.clone());
    let v = Watcher::new(
        config,
        Ports {
            secrets: w.secrets.clone(),
            scheduler: w.scheduler.clone(),
            store,
            notifier: w.notifier.clone(),
            clock: w.clock.clone(),
        },
    );
    let events: Vec<Value> = (0..8)
        .map(|i| {
            let mut e = fixture("cloudtrail-GetSecretValue-sso.json");
            e["detail"]["eventID"] = json!(format!("concurrent-{i}"));
            e
        })
        .collect();
    let results = futures_join_all(events.iter().map(|e| v.handle(e, FN))).await;
    // Some may lose the race more often than the retries allow: those fail (Lambda retries them).
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(ok >= 1, "{results:?}");
    assert_eq!(
        w.notifier.sent().len(),
        1,
        "one notification for one person"
    );
    assert_eq!(
        w.scheduler.schedules().len(),
        1,
        "one schedule for the window"
    );
}

/// Runs the futures concurrently on this task (interleaved at every await).
async fn futures_join_all<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in fs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test]
async fn an_identity_center_deletion_rotates_a_password_an_identity_center_session_read() {
    let w = world();
    let v = watcher(&w, "60");
    v.handle(&fixture("cloudtrail-GetSecretValue-sso.json"), FN)
        .await
        .unwrap();
    let mut delete = fixture("cloudtrail-iam-DeleteUser.json");
    delete["source"] = json!("aws.sso-directory");
    delete["detail"]["eventSource"] = json!("sso-directory.amazonaws.com");
    delete["detail"]["requestParameters"] =
        json!({"identityStoreId": "d-1234567890", "userId": "9067-abcd"});
    let out = v.handle(&delete, FN).await.unwrap();
    assert_eq!(out["rotated"], json!([ARN]), "{out}");
    assert_eq!(w.secrets.rotated().len(), 1);
    // Another user's deletion in the same round is answered too (a rotation is already running).
    delete["detail"]["requestParameters"]["userId"] = json!("other-user");
    v.handle(&delete, FN).await.unwrap();
    assert_eq!(
        w.secrets.rotated().len(),
        2,
        "asked again; Secrets Manager keeps the running one"
    );
}
