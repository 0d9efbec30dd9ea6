//! The whole check, driven through its ports: in-memory Secrets Manager / ACM / state table /
//! notifier, a manual clock, and real TLS servers on loopback.

use crate::support::*;
use check_certificates::certs::SecretPayload;
use check_certificates::evaluate::Status;
use check_certificates::{Checker, Config, HandlerError, Ports, handle};
use p12_keystore::{EncryptionAlgorithm, MacAlgorithm};
use rustls_pki_types::CertificateDer;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use suomifi_shared::clock::{Clock, ManualClock};
use suomifi_shared::notify::{Alert, Severity};
use suomifi_shared::state::MemoryStateStore;
use suomifi_shared::testing::RecordingNotifier;
use suomifi_shared::tlsprobe::TlsProber;
use time::OffsetDateTime;

type TestChecker =
    Checker<TlsProber, FakeSecrets, FakeAcm, MemoryStateStore, RecordingNotifier, ManualClock>;

struct Harness {
    checker: TestChecker,
    secrets: FakeSecrets,
    acm: FakeAcm,
    notifier: RecordingNotifier,
    clock: ManualClock,
    store: MemoryStateStore,
}

fn harness(
    targets: Value,
    vars: &[(&str, &str)],
    roots: Vec<CertificateDer<'static>>,
    at: OffsetDateTime,
) -> Harness {
    let mut env: HashMap<String, String> = HashMap::from([
        ("CERT_TARGETS".to_owned(), targets.to_string()),
        ("STATE_TABLE".to_owned(), "state".to_owned()),
    ]);
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_env(&suomifi_shared::config::Env::from_pairs(env)).unwrap();
    let secrets = FakeSecrets::default();
    let acm = FakeAcm::default();
    let notifier = RecordingNotifier::default();
    let clock = ManualClock::new(at);
    let store = MemoryStateStore::default();
    let checker = Checker::new(
        config,
        Ports {
            tls: TlsProber::with_extra_roots(roots).unwrap(),
            secrets: secrets.clone(),
            acm: acm.clone(),
            store: store.clone(),
            notifier: notifier.clone(),
            clock: clock.clone(),
        },
    );
    Harness {
        checker,
        secrets,
        acm,
        notifier,
        clock,
        store,
    }
}

fn detail<'a>(alert: &'a Alert, label: &str) -> Option<&'a str> {
    alert
        .details
        .iter()
        .find(|(k, _)| k == label)
        .map(|(_, v)| v.as_str())
}

fn text(alert: &Alert) -> String {
    format!("{}\n{}", alert.subject(), alert.email_body())
}

#[tokio::test]
async fn leaves_expiring_in_90_30_14_7_1_0_and_minus_1_days_get_their_states() {
    let t = now();
    let ca = root("State Root", t - days(1000), t + days(3000));
    let offsets = [90, 30, 14, 7, 1, 0, -1];
    let targets: Vec<Value> = offsets
        .iter()
        .map(|d| json!({"name": format!("d{d}"), "secret": format!("s{d}")}))
        .collect();
    let h = harness(Value::Array(targets), &[], vec![], t);
    for d in offsets {
        h.secrets.put_text(
            &format!("s{d}"),
            leaf_expiring(&ca, "svc.example", t, d).pem,
        );
    }

    let report = handle(&h.checker, json!({})).await.unwrap();
    let by_target: HashMap<&str, (Status, Option<i64>)> = report
        .targets
        .iter()
        .map(|r| (r.target.as_str(), (r.status, r.days_left)))
        .collect();
    let expected = [
        ("d90", Status::Ok, 90),
        ("d30", Status::Warning, 30),
        ("d14", Status::Warning, 14),
        ("d7", Status::Critical, 7),
        ("d1", Status::Critical, 1),
        ("d0", Status::Critical, 0),
        ("d-1", Status::Expired, -1),
    ];
    for (name, status, days_left) in expected {
        assert_eq!(by_target[name], (status, Some(days_left)), "{name}");
    }
    let sent = h.notifier.sent();
    assert_eq!(
        sent.len(),
        6,
        "{:#?}",
        sent.iter().map(|a| a.subject()).collect::<Vec<_>>()
    );
    let severity = |key: &str| sent.iter().find(|a| a.key == key).map(|a| a.severity);
    assert_eq!(severity("certificates/d90/expiry"), None);
    assert_eq!(severity("certificates/d30/expiry"), Some(Severity::Warning));
    assert_eq!(severity("certificates/d7/expiry"), Some(Severity::Critical));
    assert_eq!(
        severity("certificates/d-1/expiry"),
        Some(Severity::Critical)
    );
    let expired = sent
        .iter()
        .find(|a| a.key == "certificates/d-1/expiry")
        .unwrap();
    assert!(expired.title.contains("expired on"), "{}", expired.title);
    let today = sent
        .iter()
        .find(|a| a.key == "certificates/d0/expiry")
        .unwrap();
    assert!(today.title.contains("expires today"), "{}", today.title);

    // The report's JSON shape.
    let v = serde_json::to_value(&report).unwrap();
    let f = &v["findings"][0];
    for key in [
        "target",
        "subject",
        "issuer",
        "serial",
        "sha256",
        "notBefore",
        "notAfter",
        "daysLeft",
        "status",
        "chainPosition",
    ] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    assert_eq!(v["findings"][6]["status"], "expired");
    assert_eq!(v["summary"]["critical"], 3);
    assert_eq!(v["summary"]["soonestTarget"], "d-1");

    // One DaysToExpiry line per target, dimension Target.
    let lines = report.metric_lines(t);
    assert_eq!(lines.len(), 7);
    let m: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(m["_aws"]["CloudWatchMetrics"][0]["Namespace"], "SuomifiOps");
    assert_eq!(
        m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
        "DaysToExpiry"
    );
    assert_eq!(m["Target"], "d30");
    assert_eq!(m["DaysToExpiry"], 30.0);
}

#[tokio::test]
async fn each_threshold_notifies_once_then_daily_reminders_and_one_resolved_on_renewal() {
    let t = now();
    let ca = root("Threshold Root", t - days(1000), t + days(3000));
    let h = harness(
        json!([{"name": "svc", "secret": "svc-cert"}]),
        &[],
        vec![],
        t,
    );
    h.secrets
        .put_text("svc-cert", leaf_expiring(&ca, "svc.example", t, 65).pem);

    // Twice a day for 67 days.
    for _ in 0..=134 {
        handle(&h.checker, json!({})).await.unwrap();
        h.clock.advance(time::Duration::hours(12));
    }
    let sent = h.notifier.sent();
    let thresholds: Vec<&str> = sent
        .iter()
        .filter_map(|a| detail(a, "Threshold crossed"))
        .collect();
    let titles: Vec<String> = sent.iter().map(|a| a.subject()).collect();
    // Each threshold once (the reminder on the last day repeats the last threshold)...
    assert_eq!(
        thresholds,
        [
            "60 days", "30 days", "14 days", "7 days", "3 days", "1 day", "1 day"
        ],
        "{titles:#?}"
    );
    // ...then expiry, then a reminder every 24 h (runs are 12 h apart).
    assert_eq!(sent.len(), 9, "{titles:#?}");
    assert!(titles[6].contains("still open after"), "{}", titles[6]);
    assert!(titles[7].contains("expired on"), "{}", titles[7]);
    assert!(titles[8].contains("still open after"), "{}", titles[8]);
    assert_eq!(sent[0].severity, Severity::Warning);
    assert_eq!(sent[3].severity, Severity::Critical);

    // A renewed certificate appears: one [RESOLVED], then silence.
    h.secrets.put_text(
        "svc-cert",
        leaf_expiring(&ca, "svc.example", h.clock.now(), 365).pem,
    );
    handle(&h.checker, json!({})).await.unwrap();
    handle(&h.checker, json!({})).await.unwrap();
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 10);
    assert_eq!(sent[9].severity, Severity::Resolved);
    assert!(sent[9].title.contains("renewed"), "{}", sent[9].title);
}

#[tokio::test]
async fn a_quiet_run_reads_the_state_table_once_however_many_targets() {
    use std::sync::atomic::Ordering;
    let t = now();
    let ca = root("Quiet Root", t - days(1000), t + days(3000));
    let targets: Vec<Value> = (0..40)
        .map(|i| json!({"name": format!("svc-{i}"), "secret": format!("svc-{i}")}))
        .collect();
    let h = harness(Value::Array(targets), &[], vec![], t);
    for i in 0..40 {
        // Half healthy, half with an open expiry alert.
        let days_left = if i % 2 == 0 { 365 } else { 10 };
        h.secrets.put_text(
            &format!("svc-{i}"),
            leaf_expiring(&ca, &format!("svc-{i}.example"), t, days_left).pem,
        );
    }
    handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(h.notifier.sent().len(), 20, "the 20 expiring ones open");
    let first_run = h.store.requests.load(Ordering::SeqCst);
    assert!(
        first_run > 40,
        "the first run writes what it saw: {first_run}"
    );

    // An hour later nothing changed: one batched read, no write, no notification.
    h.clock.advance(time::Duration::hours(1));
    h.store.requests.store(0, Ordering::SeqCst);
    let report = handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(report.summary.targets, 40);
    assert_eq!(h.store.requests.load(Ordering::SeqCst), 1);
    assert_eq!(h.notifier.sent().len(), 20);

    // A renewal still resolves its alert through the batched state.
    h.secrets.put_text(
        "svc-1",
        leaf_expiring(&ca, "svc-1.example", h.clock.now(), 365).pem,
    );
    handle(&h.checker, json!({})).await.unwrap();
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 21);
    assert_eq!(sent[20].severity, Severity::Resolved);
}

#[tokio::test]
async fn the_change_advisor_says_when_dvv_needs_the_certificate_and_when_not() {
    let t = now();
    let root_ca = root("Advisor Root", t - days(1000), t + days(3000));
    let ca1 = intermediate(
        &root_ca,
        "Advisor Issuing CA 1",
        t - days(900),
        t + days(2000),
    );
    let ca2 = intermediate(
        &root_ca,
        "Advisor Issuing CA 2",
        t - days(900),
        t + days(2000),
    );
    let h = harness(
        json!([{"name": "via-signing", "secret": "via", "jsonKey": "pem", "role": "signing"}]),
        &[],
        vec![],
        t,
    );
    // The secret keeps the private key beside the certificate, as signing secrets do.
    let store = |leaf: &Leaf, ca: &Ca| {
        let bundle = format!("{}{}{}", leaf.pem, leaf.key.serialize_pem(), ca.pem());
        h.secrets
            .put_text("via", json!({"pem": bundle}).to_string());
    };

    let a = leaf_expiring(&ca1, "signing.org.example", t, 200);
    store(&a, &ca1);
    let report = handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(
        report.targets[0].change.as_ref().unwrap().verdict,
        "firstSeen"
    );
    assert!(h.notifier.sent().is_empty());

    // Same common name, same CA, new validity: no submission.
    let b = leaf(&ca1, "signing.org.example", t - days(1), t + days(565));
    store(&b, &ca1);
    let report = handle(&h.checker, json!({})).await.unwrap();
    let change = report.targets[0].change.as_ref().unwrap();
    assert_eq!(change.verdict, "renewedSameIdentity");
    assert!(change.dvv_submission.is_none());
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].severity, Severity::Info);
    assert!(
        sent[0].title.contains("no submission to DVV needed"),
        "{}",
        sent[0].title
    );
    assert!(
        sent[0]
            .email_body()
            .contains("WS interface: DVV's WS interface, which the VIA signing certificate belongs to, closes on 1 January 2027"),
        "{}",
        sent[0].email_body()
    );

    // Another CA and another name: DVV needs it. The first notice fails and must be retried.
    let c = leaf(&ca2, "signing2.org.example", t - days(1), t + days(565));
    store(&c, &ca2);
    h.notifier.fail_next(1);
    let err = handle(&h.checker, json!({})).await.unwrap_err();
    assert!(matches!(err, HandlerError::Alerting { .. }));
    assert_eq!(
        lambda_runtime::Diagnostic::from(err).error_type,
        "CheckCertificates.AlertingFailed"
    );
    let report = handle(&h.checker, json!({})).await.unwrap();
    let change = report.targets[0].change.as_ref().unwrap();
    assert_eq!(change.verdict, "changed");
    let submission = change.dvv_submission.as_ref().unwrap();
    assert_eq!(submission.to, "organisaatiopalvelut@dvv.fi");
    assert_eq!(submission.subject, "Certificate change");
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 2);
    let notice = &sent[1];
    assert_eq!(notice.severity, Severity::Warning);
    assert_eq!(detail(notice, "To"), Some("organisaatiopalvelut@dvv.fi"));
    assert_eq!(detail(notice, "Subject"), Some("Certificate change"));
    let pem = detail(notice, "Certificate (Base64, public part only)").unwrap();
    assert_eq!(pem, submission.certificate_pem);
    // The certificate only: re-encoded from its DER, never the stored bundle with the key.
    assert!(!pem.contains("PRIVATE KEY"));
    let decoded = check_certificates::certs::certificates_from_pem(pem.as_bytes()).unwrap();
    assert_eq!(decoded, vec![c.der.clone()]);
    let body = text(notice);
    assert!(
        body.contains(
            "a different common name (was CN=signing.org.example; now CN=signing2.org.example)"
        ),
        "{body}"
    );
    assert!(
        body.contains("Advisor Issuing CA 1") && body.contains("Advisor Issuing CA 2"),
        "{body}"
    );
    assert!(!body.contains(&c.key.serialize_pem()[40..80]));

    // Nothing more for the same certificate.
    handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(h.notifier.sent().len(), 2);
}

#[tokio::test]
async fn a_signing_certificates_expiry_alert_states_dvvs_rule_ahead_of_time() {
    let t = now();
    let ca = root("Signing Root", t - days(1000), t + days(3000));
    let h = harness(
        json!([{"name": "via-signing", "secret": "via", "role": "signing"}]),
        &[],
        vec![],
        t,
    );
    h.secrets
        .put_text("via", leaf_expiring(&ca, "signing.org.example", t, 20).pem);
    handle(&h.checker, json!({})).await.unwrap();
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 1);
    let steps = sent[0].next_steps.join("\n");
    assert!(
        steps.contains("same common name (CN=signing.org.example)"),
        "{steps}"
    );
    assert!(
        steps.contains("organisaatiopalvelut@dvv.fi") && steps.contains("\"Certificate change\""),
        "{steps}"
    );
}

#[tokio::test]
async fn unreadable_sources_are_unreadable_never_expired_and_never_leak_the_password() {
    let t = now();
    let ca = root("Unreadable Root", t - days(1000), t + days(3000));
    let l = leaf_expiring(&ca, "svc.example", t, 100);
    let p12 = pkcs12(
        &l,
        &[],
        "right-password",
        EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
        MacAlgorithm::HmacSha1,
    );
    let h = harness(
        json!([
            {"name": "corrupt", "secret": "corrupt"},
            {"name": "empty", "secret": "empty"},
            {"name": "wrong-password", "secret": "p12", "jsonKey": "keystore", "passwordKey": "password"},
            {"name": "json-without-key", "secret": "json"},
            {"name": "missing", "secret": "does-not-exist"},
            {"name": "denied", "secret": "denied"},
        ]),
        &[],
        vec![],
        t,
    );
    h.secrets.put_text("corrupt", l.pem.replace('M', "*"));
    h.secrets.put("empty", SecretPayload::Text("  ".into()));
    h.secrets.put_text(
        "p12",
        json!({"keystore": b64(&p12), "password": "hunter2-wrong"}).to_string(),
    );
    h.secrets
        .put_text("json", json!({"certificate": l.pem}).to_string());
    h.secrets.fail(
        "denied",
        "GetSecretValue `denied`: AccessDeniedException: not authorized",
    );

    let report = handle(&h.checker, json!({})).await.unwrap();
    let statuses: Vec<Status> = report.targets.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Unreadable,
            Status::Unreadable,
            Status::Unreadable,
            Status::Unreadable,
            Status::Unreachable,
            Status::Unreachable
        ]
    );
    assert!(report.targets.iter().all(|r| r.days_left.is_none()));
    assert!(
        report.metric_lines(t).is_empty(),
        "no DaysToExpiry for a certificate that was not read"
    );
    let json_text = serde_json::to_string(&report).unwrap();
    assert!(!json_text.contains("hunter2") && !json_text.contains("right-password"));
    assert!(
        json_text.contains("PKCS#12 password is wrong"),
        "{json_text}"
    );
    assert!(json_text.contains("set `jsonKey`"), "{json_text}");

    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 6);
    assert!(
        sent.iter()
            .all(|a| a.severity == Severity::Warning && a.key.ends_with("/source"))
    );
    let denied = sent
        .iter()
        .find(|a| a.key == "certificates/denied/source")
        .unwrap();
    assert!(
        text(denied).contains("AccessDeniedException"),
        "{}",
        text(denied)
    );
    assert!(
        text(denied).contains("secretsmanager:GetSecretValue"),
        "{}",
        text(denied)
    );
    assert!(
        sent.iter()
            .all(|a| !text(a).contains("hunter2") && !text(a).contains("expired"))
    );

    // Fixed: one [RESOLVED], and the certificate is checked again.
    h.secrets.put_text("corrupt", l.pem.clone());
    let report = handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(report.targets[0].status, Status::Ok);
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 7);
    assert_eq!(sent[6].severity, Severity::Resolved);
    assert_eq!(sent[6].key, "certificates/corrupt/source");
}

#[tokio::test]
async fn a_slow_or_silent_target_times_out_without_hiding_the_others() {
    let t = now();
    let ca = root("Timeout Root", t - days(1000), t + days(3000));
    let silent = serve_silence().await;
    let h = harness(
        json!([
            {"name": "fast-1", "secret": "fast-1"},
            {"name": "slow", "secret": "slow"},
            {"name": "silent-tls", "tls": format!("127.0.0.1:{silent}"), "sni": "api.example.test"},
            {"name": "fast-2", "secret": "fast-2"},
        ]),
        &[("PROBE_TIMEOUT_SECONDS", "1"), ("PROBE_CONCURRENCY", "4")],
        vec![],
        t,
    );
    for name in ["fast-1", "slow", "fast-2"] {
        h.secrets
            .put_text(name, leaf_expiring(&ca, "svc.example", t, 100).pem);
    }
    h.secrets.delay("slow", Duration::from_secs(30));

    let started = std::time::Instant::now();
    let report = handle(&h.checker, json!({})).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let statuses: Vec<Status> = report.targets.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Ok,
            Status::Unreachable,
            Status::Unreachable,
            Status::Ok
        ]
    );
    assert!(
        report.targets[1]
            .error
            .as_deref()
            .unwrap()
            .contains("within 1 s")
    );
}

#[tokio::test]
async fn no_more_targets_than_probe_concurrency_are_fetched_at_once() {
    let t = now();
    let ca = root("Bound Root", t - days(1000), t + days(3000));
    let names = ["a", "b", "c", "d"];
    let targets: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "secret": n}))
        .collect();
    let h = harness(
        Value::Array(targets),
        &[("PROBE_CONCURRENCY", "2")],
        vec![],
        t,
    );
    for n in names {
        h.secrets
            .put_text(n, leaf_expiring(&ca, "svc.example", t, 100).pem);
        h.secrets.delay(n, Duration::from_millis(300));
    }
    let report = handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(h.secrets.most_in_flight(), 2);
    assert!(report.targets.iter().all(|r| r.status == Status::Ok));
}

#[tokio::test]
async fn tls_targets_report_version_verdict_extra_roots_and_name_mismatch() {
    let t = now();
    let old_root = root("Old TLS Root", t - days(4000), t - days(30));
    let root_key = rcgen::KeyPair::generate().unwrap();
    let new_root = Ca {
        issuer: rcgen::CertifiedIssuer::self_signed(
            ca_params("TLS Root", t - days(1000), t + days(3000)),
            root_key,
        )
        .unwrap(),
    };
    let cross = cross_sign("TLS Root", new_root.issuer.key(), &old_root, t - days(30));
    let int = intermediate(&new_root, "TLS Issuing CA", t - days(500), t + days(1000));
    let good = leaf_expiring(&int, "api.example.test", t, 120);
    let good_port = serve_tls(
        vec![good.der.clone(), int.der(), cross],
        good.key_der(),
        false,
    )
    .await;
    let wrong = leaf_expiring(&int, "other.example.test", t, 120);
    let wrong_port = serve_tls(vec![wrong.der.clone(), int.der()], wrong.key_der(), true).await;

    let h = harness(
        json!([
            {"name": "api", "tls": format!("127.0.0.1:{good_port}"), "sni": "api.example.test"},
            {"name": "misnamed", "tls": format!("127.0.0.1:{wrong_port}"), "sni": "api.example.test"},
        ]),
        &[],
        vec![new_root.der()],
        t,
    );
    let report = handle(&h.checker, json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}))
        .await
        .unwrap();

    let api = &report.targets[0];
    assert_eq!(api.status, Status::Ok);
    assert_eq!(api.tls_version.as_deref(), Some("TLSv1.3"));
    assert_eq!(api.verification.as_deref(), Some("ok"));
    let api_findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.target == "api")
        .collect();
    assert_eq!(api_findings.len(), 3);
    assert_eq!(api_findings[2].status, Status::Expired);
    assert!(
        api_findings[2]
            .note
            .as_deref()
            .unwrap()
            .contains("information only")
    );
    assert_eq!(api_findings[2].tls_version.as_deref(), Some("TLSv1.3"));

    let misnamed = &report.targets[1];
    assert_eq!(misnamed.status, Status::Ok, "its dates are fine");
    assert_eq!(misnamed.tls_version.as_deref(), Some("TLSv1.2"));
    assert!(
        misnamed
            .verification
            .as_deref()
            .unwrap()
            .starts_with("nameMismatch")
    );
    assert_eq!(report.summary.untrusted, 1);

    let sent = h.notifier.sent();
    assert_eq!(
        sent.len(),
        1,
        "only the name mismatch: the expired extra root is no problem"
    );
    assert_eq!(sent[0].key, "certificates/misnamed/trust");
    assert_eq!(sent[0].severity, Severity::Critical);
    assert!(text(&sent[0]).contains("api.example.test"));
}

#[tokio::test]
async fn acm_certificates_are_read_with_their_chain_and_any_event_is_accepted() {
    let t = now();
    let ca = root("ACM Root", t - days(1000), t + days(3000));
    let int = intermediate(&ca, "ACM Issuing CA", t - days(500), t + days(10));
    let l = leaf_expiring(&int, "www.org.example", t, 300);
    let arn = "arn:aws:acm:eu-north-1:123456789012:certificate/0000";
    let h = harness(json!([{"name": "web", "acm": arn}]), &[], vec![], t);
    h.acm.put(
        arn,
        l.pem.clone(),
        Some(format!("{}{}", int.pem(), ca.pem())),
    );

    for event in [
        json!({}),
        json!({"anything": [1, 2]}),
        Value::Null,
        json!("text"),
    ] {
        let report = handle(&h.checker, event).await.unwrap();
        let web = &report.targets[0];
        assert_eq!(web.expires_first, Some(1), "the intermediate expires first");
        assert_eq!(web.status, Status::Warning);
        assert_eq!(report.findings.len(), 3);
    }
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 1, "one notice, however often it runs");
    assert!(
        sent[0].title.contains("intermediate #1 CA"),
        "{}",
        sent[0].title
    );
}

#[tokio::test]
async fn a_run_out_of_time_reports_the_rest_as_not_checked_and_touches_no_alert() {
    let t = now();
    let ca = root("Deadline Root", t - days(1000), t + days(3000));
    let targets = json!([{"name": "late", "secret": "s-late"}]);
    let h = harness(targets, &[], vec![], t);
    h.secrets
        .put_text("s-late", leaf_expiring(&ca, "svc.example", t, 3).pem);
    // The deadline has passed before the first target starts.
    let report =
        check_certificates::handle_until(&h.checker, json!({}), Some(std::time::Instant::now()))
            .await
            .unwrap();
    assert_eq!(report.targets[0].status, Status::NotChecked);
    assert_eq!(report.summary.not_checked, 1);
    assert_eq!(report.summary.ok, 0, "not looked at is never ok");
    assert!(h.notifier.sent().is_empty(), "{:?}", h.notifier.sent());
    // With time, the same target alerts as usual.
    let report = handle(&h.checker, json!({})).await.unwrap();
    assert_eq!(report.targets[0].status, Status::Critical);
    assert_eq!(h.notifier.sent().len(), 1);
}
