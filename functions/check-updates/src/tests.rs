//! The check over fakes: OSV in memory, the state table in memory, a recording notifier and a
//! manual clock. (The real binary against moto and an HTTP OSV stand-in: tests/tests/check_updates.rs.)

use crate::advisories::Vuln;
use crate::check::{OPEN_ADVISORIES_PK, Ports, Scan, plan};
use crate::config::Config;
use crate::messages::{Finding, UNKNOWN_KEY};
use crate::osv::OsvError;
use crate::testing::FakeOsv;
use crate::{Checker, handle};
use serde_json::json;
use std::collections::BTreeMap;
use suomifi_shared::clock::ManualClock;
use suomifi_shared::config::Env;
use suomifi_shared::deps::{DependencyList, FORMAT, LinkedCrate};
use suomifi_shared::notify::Severity;
use suomifi_shared::state::{MemoryStateStore, StateStore};
use suomifi_shared::testing::RecordingNotifier;
use time::macros::datetime;

type TestChecker = Checker<FakeOsv, MemoryStateStore, RecordingNotifier, ManualClock>;

struct World {
    osv: FakeOsv,
    notifier: RecordingNotifier,
    clock: ManualClock,
    store: MemoryStateStore,
}

fn deps() -> DependencyList {
    DependencyList {
        format: FORMAT.into(),
        package: "check-updates".into(),
        version: "0.1.0".into(),
        target: "x86_64-unknown-linux-gnu".into(),
        crates: [("hyper", "1.7.0"), ("idna", "1.1.0"), ("rustls", "0.23.31")]
            .into_iter()
            .map(|(n, v)| LinkedCrate {
                name: n.into(),
                version: v.into(),
            })
            .collect(),
    }
}

fn config(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![
        ("STATE_TABLE", "t"),
        // No deadline entries unless a test asks for them: they would alert near their dates.
        (
            "DEADLINES",
            r#"[{"id": "dvv-old-apis-close", "disabled": true},
                {"id": "dvv-tls13-required", "disabled": true},
                {"id": "lambda-provided-al2023", "disabled": true}]"#,
        ),
    ];
    pairs.extend_from_slice(extra);
    Config::from_env(&Env::from_pairs(pairs)).unwrap()
}

fn world() -> World {
    World {
        osv: FakeOsv::default(),
        notifier: RecordingNotifier::default(),
        clock: ManualClock::new(datetime!(2026-06-01 06:00 UTC)),
        store: MemoryStateStore::default(),
    }
}

fn checker(w: &World, config: Config) -> TestChecker {
    Checker::new(
        config,
        deps(),
        Ports {
            osv: w.osv.clone(),
            store: w.store.clone(),
            notifier: w.notifier.clone(),
            clock: w.clock.clone(),
        },
    )
}

fn hyper_advisory(fixed: &str) -> Vuln {
    serde_json::from_value(json!({
        "id": "RUSTSEC-2099-0001",
        "summary": "request smuggling in the HTTP/1 parser",
        "aliases": ["CVE-2099-1234", "GHSA-aaaa-bbbb-cccc"],
        "database_specific": {"severity": "HIGH"},
        "affected": [{
            "package": {"name": "hyper", "ecosystem": "crates.io"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": fixed}]}]
        }]
    }))
    .unwrap()
}

#[tokio::test]
async fn an_advisory_for_a_linked_version_alerts_once_then_resolves_when_it_is_gone() {
    let w = world();
    let c = checker(&w, config(&[]));
    w.osv.publish(hyper_advisory("1.7.1"));

    // GIVEN an advisory for hyper 1.7.0, WHEN the check runs, THEN one alert names it.
    let report = handle(&c, json!({})).await.unwrap();
    assert_eq!(report.status, "affected");
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].severity, Severity::Critical);
    assert_eq!(sent[0].key, "updates/advisory/RUSTSEC-2099-0001/hyper");
    let body = sent[0].email_body();
    assert!(
        body.contains("hyper 1.7.0") && body.contains("--precise 1.7.1"),
        "{body}"
    );

    // The same again: no repeat (reminded only after the interval).
    w.clock.advance(time::Duration::days(1));
    handle(&c, json!({})).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1);
    w.clock.advance(time::Duration::days(7));
    handle(&c, json!({})).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 2, "a reminder after a week");

    // The advisory gone (withdrawn from OSV's answers): resolved, once.
    w.osv.remove("RUSTSEC-2099-0001");
    let report = handle(&c, json!({})).await.unwrap();
    assert_eq!(report.status, "ok");
    handle(&c, json!({})).await.unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2].severity, Severity::Resolved);
    assert_eq!(sent[2].key, sent[0].key, "same chat thread");
    let open = w.store.get(OPEN_ADVISORIES_PK).await.unwrap().unwrap();
    assert_eq!(open.data["open"], json!({}));
}

#[tokio::test]
async fn a_withdrawn_advisory_resolves_even_while_osv_still_lists_it() {
    let w = world();
    let c = checker(&w, config(&[]));
    w.osv.publish(hyper_advisory("1.7.1"));
    handle(&c, json!({})).await.unwrap();
    // The fake only matches affected versions; publish a record OSV would still return.
    let mut withdrawn = hyper_advisory("1.7.1");
    withdrawn.withdrawn = Some("2099-02-01T00:00:00Z".into());
    w.osv.remove("RUSTSEC-2099-0001");
    w.osv.publish(withdrawn);
    handle(&c, json!({})).await.unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].severity, Severity::Resolved);
}

#[tokio::test]
async fn an_advisory_for_a_version_not_linked_changes_nothing() {
    let w = world();
    let c = checker(&w, config(&[]));
    // Fixed in 1.6.0: the linked 1.7.0 is not affected.
    w.osv.publish(hyper_advisory("1.6.0"));
    let report = handle(&c, json!({})).await.unwrap();
    assert_eq!(report.status, "ok");
    assert!(w.notifier.sent().is_empty());
    assert!(report.advisories.is_empty());
}

#[tokio::test]
async fn an_unreachable_osv_is_unknown_never_ok_and_alerts_after_repeated_failures() {
    let w = world();
    let c = checker(&w, config(&[]));
    w.osv.publish(hyper_advisory("1.7.1"));
    handle(&c, json!({})).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1);

    w.osv.fail_with(Some(OsvError::Server {
        endpoint: "querybatch",
        status: 503,
        attempts: 3,
    }));
    w.clock.advance(time::Duration::days(1));
    let report = handle(&c, json!({})).await.unwrap();
    assert_eq!(report.status, "unknown");
    assert!(report.osv_error.as_deref().unwrap().contains("503"));
    assert_eq!(
        w.notifier.sent().len(),
        1,
        "one failure does not alert yet, and resolves nothing"
    );

    w.clock.advance(time::Duration::days(1));
    handle(&c, json!({})).await.unwrap();
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].key, UNKNOWN_KEY);
    assert_eq!(sent[1].severity, Severity::Warning);
    handle(&c, json!({})).await.unwrap();
    assert_eq!(
        w.notifier.sent().len(),
        2,
        "not repeated within the interval"
    );

    // OSV answers again, the advisory still applies: the unknown alert clears, the advisory stays.
    w.osv.fail_with(None);
    let report = handle(&c, json!({})).await.unwrap();
    assert_eq!(report.status, "affected");
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        (sent[2].key.as_str(), sent[2].severity),
        (UNKNOWN_KEY, Severity::Resolved)
    );
}

#[tokio::test]
async fn a_failing_state_table_fails_the_run_with_a_typed_error() {
    let w = world();
    let c = checker(&w, config(&[]));
    w.osv.publish(hyper_advisory("1.7.1"));
    w.store
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let err = handle(&c, json!({})).await.unwrap_err();
    assert_eq!(err.error_type(), "CheckUpdates.AlertingFailed");
    assert!(w.notifier.sent().is_empty());
}

#[tokio::test]
async fn a_deadline_is_reported_ahead_of_time_once() {
    let w = world();
    w.clock.set(datetime!(2026-10-01 06:00 UTC));
    let c = checker(
        &w,
        Config::from_env(&Env::from_pairs([("STATE_TABLE", "t")])).unwrap(),
    );
    let report = handle(&c, json!({})).await.unwrap();
    let dvv = report
        .deadlines
        .iter()
        .find(|d| d.id == "dvv-old-apis-close")
        .unwrap();
    assert_eq!((dvv.standing, dvv.days_left), ("approaching", Some(92)));
    let runtime = report
        .deadlines
        .iter()
        .find(|d| d.id == "lambda-provided-al2023")
        .unwrap();
    assert_eq!(runtime.standing, "distant");
    let sent = w.notifier.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].key, "updates/deadline/dvv-old-apis-close");
    assert!(sent[0].title.contains("2027-01-01"));
    handle(&c, json!({})).await.unwrap();
    assert_eq!(w.notifier.sent().len(), 1);
}

#[test]
fn nothing_is_resolved_from_an_incomplete_or_undetermined_answer() {
    let mut open = BTreeMap::new();
    open.insert("updates/advisory/A/hyper".to_owned(), "t1".to_owned());
    open.insert("updates/advisory/B/idna".to_owned(), "t2".to_owned());
    let incomplete = Scan::default();
    assert!(plan(&open, &incomplete).resolve.is_empty());
    let undetermined = Scan {
        complete: true,
        undetermined: vec![("updates/advisory/B/idna".into(), "unreadable".into())],
        ..Scan::default()
    };
    assert_eq!(
        plan(&open, &undetermined).resolve,
        vec![("updates/advisory/A/hyper".to_owned(), "t1".to_owned())]
    );
    let still = Scan {
        complete: true,
        findings: vec![Finding {
            advisory: "A".into(),
            ids: vec!["A".into()],
            crate_name: "hyper".into(),
            versions: vec![("1.7.0".into(), None)],
            summary: String::new(),
            grade: crate::advisories::Grade {
                label: "not given".into(),
                rank: 1,
            },
        }],
        ..Scan::default()
    };
    let p = plan(&open, &still);
    assert_eq!(p.raise, ["updates/advisory/A/hyper"]);
    assert_eq!(p.resolve.len(), 1);
}
