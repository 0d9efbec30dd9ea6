//! Unit tests of the rotation decisions with in-memory fakes of Secrets Manager and Suomi.fi.
//! (End-to-end tests through the Lambda Runtime API against moto and the sandbox live in `tests/`.)

use crate::testing::{FakeApi, FakeSecrets};
use crate::{RotationError, RotationEvent, RotationSettings, Rotator, Step, merged_version_id};
use std::time::Duration;
use suomifi_shared::notify::Severity;
use suomifi_shared::secret::Credentials;
use suomifi_shared::secrets::{AWSCURRENT, AWSPENDING, CHANGE_ATTEMPTED};
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::ApiBase;
use suomifi_shared::testing::RecordingNotifier;

const OLD: &str = "Old-password-0000000000000000000000000!";

fn secret_json(p: &str) -> String {
    Credentials::new(
        "sys",
        Password::new(p),
        ApiBase::parse("http://127.0.0.1:1").unwrap(),
    )
    .to_secret_string()
}

fn setup() -> (
    Rotator<FakeSecrets, FakeApi, RecordingNotifier>,
    FakeSecrets,
    FakeApi,
    RecordingNotifier,
) {
    let secrets = FakeSecrets::with_current(&secret_json(OLD));
    let api = FakeApi::with_password(OLD);
    let n = RecordingNotifier::default();
    let settings = RotationSettings {
        test_backoff: Duration::from_millis(1),
        ..RotationSettings::default()
    };
    (
        Rotator::new(secrets.clone(), api.clone(), n.clone(), settings),
        secrets,
        api,
        n,
    )
}

fn ev(step: Step) -> RotationEvent {
    RotationEvent {
        secret_id: "arn:secret".into(),
        token: "t1".into(),
        step,
    }
}

async fn run_all(r: &Rotator<FakeSecrets, FakeApi, RecordingNotifier>) {
    for s in [Step::Create, Step::Set, Step::Test, Step::Finish] {
        r.handle(&ev(s)).await.unwrap();
    }
}

fn current_password(s: &FakeSecrets) -> String {
    Credentials::parse(&s.value_with(AWSCURRENT).unwrap())
        .unwrap()
        .password
        .expose()
        .to_owned()
}

#[tokio::test]
async fn a_full_rotation_changes_the_password_and_promotes_it() {
    let (r, secrets, api, n) = setup();
    secrets.start_rotation("t1");
    run_all(&r).await;
    assert_ne!(api.password(), OLD);
    assert_eq!(current_password(&secrets), api.password());
    assert_eq!(secrets.stages("t1"), vec![AWSCURRENT.to_owned()]);
    assert!(secrets.stages("v0").contains(&"AWSPREVIOUS".to_owned()));
    // Only the resolution of any open rotation alert (the tracking notifier sends it only if
    // one was open).
    assert!(
        n.sent().iter().all(|a| a.severity == Severity::Resolved),
        "{:?}",
        n.sent()
    );
}

#[tokio::test]
async fn every_step_repeated_changes_nothing_more() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    let expected = [
        (Step::Create, "created", "already_created"),
        (Step::Set, "changed", "already_changed"),
        (Step::Test, "pending_works", "pending_works"),
        (Step::Finish, "promoted", "already_current"),
    ];
    for (s, first, again) in expected {
        assert_eq!(r.handle(&ev(s)).await.unwrap().outcome, first, "{s:?}");
        assert_eq!(
            r.handle(&ev(s)).await.unwrap().outcome,
            again,
            "{s:?} repeated"
        );
    }
    // After the rotation, every step of the same token is a no-op.
    for s in [Step::Create, Step::Set, Step::Test, Step::Finish] {
        assert_eq!(r.handle(&ev(s)).await.unwrap().outcome, "already_current");
    }
    assert_eq!(api.0.lock().unwrap().changes, 1);
    assert_eq!(current_password(&secrets), api.password());
}

#[tokio::test]
async fn a_lost_change_response_is_recognised_without_a_second_change() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    api.0.lock().unwrap().lose_next_change = true;
    let out = r.handle(&ev(Step::Set)).await.unwrap();
    assert_eq!(out.outcome, "changed_response_lost");
    assert_eq!(api.0.lock().unwrap().changes, 1);
    r.handle(&ev(Step::Test)).await.unwrap();
    r.handle(&ev(Step::Finish)).await.unwrap();
    assert_eq!(current_password(&secrets), api.password());
}

#[tokio::test]
async fn cool_down_is_retryable_and_keeps_the_pending_password() {
    let (r, secrets, api, n) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    let pending = secrets.value_with(AWSPENDING).unwrap();
    api.0.lock().unwrap().refuse_next_change =
        Some("Password was changed too recently, try again later".into());
    let err = r.handle(&ev(Step::Set)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.Retryable");
    assert!(matches!(err, RotationError::CoolDown { .. }));
    assert_eq!(api.password(), OLD);
    // Secrets Manager retries the whole rotation: createSecret must not generate another password.
    r.handle(&ev(Step::Create)).await.unwrap();
    assert_eq!(secrets.value_with(AWSPENDING).unwrap(), pending);
    r.handle(&ev(Step::Set)).await.unwrap();
    assert!(n.sent().is_empty());
}

#[tokio::test]
async fn drift_is_detected_notified_and_changes_nothing() {
    let (r, secrets, api, n) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    api.0.lock().unwrap().password = "Changed-by-hand-000000000000000000000000!".into();
    let err = r.handle(&ev(Step::Set)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.DriftDetected");
    assert_eq!(api.password(), "Changed-by-hand-000000000000000000000000!");
    assert_eq!(current_password(&secrets), OLD);
    let sent = n.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].severity, Severity::Critical);
    assert!(
        sent[0]
            .next_steps
            .iter()
            .any(|s| s.contains("import-password"))
    );
    // finishSecret must refuse to promote a password Suomi.fi does not accept.
    let err = r.handle(&ev(Step::Finish)).await.unwrap_err();
    assert!(matches!(err, RotationError::PendingNotAccepted(_)));
    assert_eq!(current_password(&secrets), OLD);
}

#[tokio::test]
async fn suomifi_down_is_retryable_and_changes_nothing() {
    let (r, secrets, api, n) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    api.0.lock().unwrap().down = true;
    let err = r.handle(&ev(Step::Set)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.Retryable");
    assert_eq!(api.password(), OLD);
    assert!(n.sent().is_empty());
}

#[tokio::test]
async fn preflight_refuses_bad_states_with_typed_errors() {
    let (r, secrets, _, _) = setup();
    // Token not a version of the secret.
    let err = r.handle(&ev(Step::Create)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.InvalidToken");
    // Rotation disabled.
    secrets.start_rotation("t1");
    secrets.0.lock().unwrap().enabled = false;
    let err = r.handle(&ev(Step::Create)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.RotationDisabled");
    assert!(secrets.value_with(AWSPENDING).is_none());
}

#[tokio::test]
async fn a_malformed_current_secret_is_invalid_and_nothing_is_created() {
    let secrets = FakeSecrets::with_current(r#"{"username":"sys","password":"#);
    let r = Rotator::new(
        secrets.clone(),
        FakeApi::with_password(OLD),
        RecordingNotifier::default(),
        RotationSettings::default(),
    );
    secrets.start_rotation("t1");
    let err = r.handle(&ev(Step::Create)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.InvalidSecret");
    assert!(secrets.value_with(AWSPENDING).is_none());
}

#[tokio::test]
async fn test_secret_without_a_pending_value_tests_the_current_password() {
    let (r, secrets, _, _) = setup();
    secrets.start_rotation("t1");
    let out = r.handle(&ev(Step::Test)).await.unwrap();
    assert_eq!(out.outcome, "current_works");
}

#[tokio::test]
async fn a_refusal_of_the_current_password_that_does_not_repeat_is_not_drift() {
    let (r, secrets, api, n) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    // The current login is refused once (transiently), then the pending probe (rightly): only
    // the second current login tells it was transient.
    api.0.lock().unwrap().refuse_logins = 2;
    let err = r.handle(&ev(Step::Set)).await.unwrap_err();
    assert!(matches!(err, RotationError::TransientRefusal(_)), "{err:?}");
    assert_eq!(err.error_type(), "RotatePassword.Retryable");
    assert!(
        n.sent().is_empty(),
        "nobody is paged for a transient refusal"
    );
    assert_eq!(api.password(), OLD);
    r.handle(&ev(Step::Set)).await.unwrap();
    assert_ne!(api.password(), OLD);
}

fn failed_logins(api: &FakeApi) -> u32 {
    api.0.lock().unwrap().failed_logins
}

#[tokio::test]
async fn a_healthy_rotation_makes_no_failed_login() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    r.handle(&ev(Step::Set)).await.unwrap();
    assert!(
        secrets.stages("t1").contains(&CHANGE_ATTEMPTED.to_owned()),
        "the version was marked before the change"
    );
    r.handle(&ev(Step::Test)).await.unwrap();
    r.handle(&ev(Step::Finish)).await.unwrap();
    assert_eq!(failed_logins(&api), 0);
    assert!(
        !secrets.stages("t1").contains(&CHANGE_ATTEMPTED.to_owned()),
        "marker removed at finish"
    );
    // A second rotation moves nothing it should not, and still fails no login.
    secrets
        .0
        .lock()
        .unwrap()
        .versions
        .insert("t2".into(), (None, vec![AWSPENDING.into()]));
    for s in [Step::Create, Step::Set, Step::Test, Step::Finish] {
        r.handle(&RotationEvent {
            token: "t2".into(),
            ..ev(s)
        })
        .await
        .unwrap();
    }
    assert_eq!(failed_logins(&api), 0);
    assert_eq!(api.0.lock().unwrap().changes, 2);
}

#[tokio::test]
async fn a_leftover_marker_of_an_earlier_rotation_is_moved_not_refused() {
    let (r, secrets, api, _) = setup();
    // An earlier rotation's finish could not remove its marker.
    secrets
        .0
        .lock()
        .unwrap()
        .versions
        .get_mut("v0")
        .unwrap()
        .1
        .push(CHANGE_ATTEMPTED.into());
    secrets.start_rotation("t1");
    run_all(&r).await;
    assert_eq!(current_password(&secrets), api.password());
    assert!(!secrets.stages("v0").contains(&CHANGE_ATTEMPTED.to_owned()));
}

#[tokio::test]
async fn no_change_is_attempted_when_the_marker_cannot_be_written() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    secrets.0.lock().unwrap().fail_stage = Some(CHANGE_ATTEMPTED.into());
    let err = r.handle(&ev(Step::Set)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.Retryable");
    assert_eq!(api.password(), OLD, "nothing changed without the marker");
    secrets.0.lock().unwrap().fail_stage = None;
    r.handle(&ev(Step::Set)).await.unwrap();
    assert_ne!(api.password(), OLD);
}

#[tokio::test]
async fn a_change_whose_answer_was_lost_is_found_by_the_marked_probe_on_retry() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    // The function dies after the change, before its own probe: emulate with a lost answer and a
    // Suomi.fi outage for that probe.
    api.0.lock().unwrap().lose_next_change = true;
    let _ = r.handle(&ev(Step::Set)).await;
    assert_eq!(api.0.lock().unwrap().changes, 1);
    // The retry probes the marked pending version first and changes nothing more.
    let out = r.handle(&ev(Step::Set)).await.unwrap();
    assert_eq!(out.outcome, "already_changed");
    assert_eq!(api.0.lock().unwrap().changes, 1);
    r.handle(&ev(Step::Test)).await.unwrap();
    r.handle(&ev(Step::Finish)).await.unwrap();
    assert_eq!(current_password(&secrets), api.password());
}

type Tracked = suomifi_shared::alerts::Tracking<
    suomifi_shared::state::MemoryStateStore,
    RecordingNotifier,
    suomifi_shared::clock::ManualClock,
>;

fn setup_tracked() -> (
    Rotator<FakeSecrets, FakeApi, Tracked>,
    FakeSecrets,
    FakeApi,
    RecordingNotifier,
) {
    let secrets = FakeSecrets::with_current(&secret_json(OLD));
    let api = FakeApi::with_password(OLD);
    let n = RecordingNotifier::default();
    let tracked =
        suomifi_shared::alerts::Tracking::Lifecycle(suomifi_shared::alerts::AlertLifecycle::new(
            suomifi_shared::state::MemoryStateStore::default(),
            n.clone(),
            suomifi_shared::clock::ManualClock::new(time::macros::datetime!(2026-12-01 08:00 UTC)),
            time::Duration::hours(24),
        ));
    let settings = RotationSettings {
        test_backoff: Duration::from_millis(1),
        ..RotationSettings::default()
    };
    (
        Rotator::new(secrets.clone(), api.clone(), tracked, settings),
        secrets,
        api,
        n,
    )
}

#[tokio::test]
async fn a_permanent_refusal_notifies_once_however_often_it_is_retried_and_a_finish_resolves_it() {
    let (r, secrets, api, n) = setup_tracked();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    for _ in 0..3 {
        api.0.lock().unwrap().refuse_next_change = Some("Bad request".into());
        let err = r.handle(&ev(Step::Set)).await.unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.ChangeRefused", "{err}");
    }
    let sent = n.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].key, "rotation/arn:secret");
    assert!(
        sent[0]
            .next_steps
            .iter()
            .any(|s| s.contains("suomifi-ops recover --secret-id arn:secret"))
    );
    assert_eq!(api.password(), OLD);
    // The refusal clears (DVV fixed something): the retry finishes and resolves the alert.
    for s in [Step::Set, Step::Test, Step::Finish] {
        r.handle(&ev(s)).await.unwrap();
    }
    let sent = n.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].severity, Severity::Resolved);
    assert_eq!(sent[1].key, sent[0].key, "same chat thread");
}

#[tokio::test]
async fn a_failed_test_after_the_change_notifies_once_with_recover() {
    let (r, secrets, api, n) = setup_tracked();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    r.handle(&ev(Step::Set)).await.unwrap();
    for _ in 0..2 {
        api.0.lock().unwrap().test_refusals = 100;
        let err = r.handle(&ev(Step::Test)).await.unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.TestFailed");
    }
    let sent = n.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].severity, Severity::Critical);
    assert!(
        sent[0]
            .next_steps
            .iter()
            .any(|s| s.contains("suomifi-ops recover"))
    );
}

#[tokio::test]
async fn test_secret_stops_retrying_before_the_invocation_deadline() {
    let secrets = FakeSecrets::with_current(&secret_json(OLD));
    let api = FakeApi::with_password(OLD);
    let settings = RotationSettings {
        test_attempts: 10,
        test_backoff: Duration::from_secs(60),
        attempt_budget: Duration::from_secs(5),
        ..RotationSettings::default()
    };
    let r = Rotator::new(
        secrets.clone(),
        api.clone(),
        RecordingNotifier::default(),
        settings,
    );
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    r.handle(&ev(Step::Set)).await.unwrap();
    api.0.lock().unwrap().test_refusals = 100;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // A 60 s back-off would run past the deadline: the step answers at once instead.
    let started = std::time::Instant::now();
    let err = r
        .handle_until(&ev(Step::Test), Some(deadline))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "RotatePassword.TestFailed");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered before the deadline"
    );
}

// ---- recovery ----------------------------------------------------------------------------

use crate::recover::{Probe, Recovery};

/// The state a rotation leaves when it stops after setSecret changed the password.
async fn stuck_after_set() -> (FakeSecrets, FakeApi) {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    r.handle(&ev(Step::Set)).await.unwrap();
    (secrets, api)
}

#[tokio::test]
async fn recover_promotes_a_pending_password_that_works() {
    let (secrets, api) = stuck_after_set().await;
    let rec = Recovery::new(secrets.clone(), api.clone());
    let dry = rec.run("arn:secret", true).await.unwrap();
    assert!(!dry.consistent);
    assert_eq!(dry.pending.as_ref().unwrap().probe, Probe::Accepted);
    assert_eq!(dry.current.as_ref().unwrap().probe, Probe::Refused);
    assert!(
        secrets.stages("t1").contains(&AWSPENDING.to_owned()),
        "dry run changes nothing"
    );
    let report = rec.run("arn:secret", false).await.unwrap();
    assert!(report.consistent, "{report:?}");
    assert_eq!(current_password(&secrets), api.password());
    assert_eq!(secrets.stages("t1"), vec![AWSCURRENT.to_owned()]);
    assert!(secrets.stages("v0").contains(&"AWSPREVIOUS".to_owned()));
    // Run again: nothing more to do.
    let again = rec.run("arn:secret", false).await.unwrap();
    assert!(again.consistent && again.actions.is_empty(), "{again:?}");
}

#[tokio::test]
async fn recover_removes_a_stale_pending_only_after_proving_the_current_password() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    let rec = Recovery::new(secrets.clone(), api.clone());
    let report = rec.run("arn:secret", false).await.unwrap();
    assert!(report.consistent, "{report:?}");
    assert_eq!(report.pending.as_ref().unwrap().probe, Probe::Refused);
    assert!(
        secrets.stages("t1").is_empty(),
        "{:?}",
        secrets.stages("t1")
    );
    assert_eq!(current_password(&secrets), OLD);
    assert_eq!(api.password(), OLD);
}

#[tokio::test]
async fn recover_changes_nothing_when_no_password_works_or_suomifi_cannot_be_asked() {
    let (secrets, api) = stuck_after_set().await;
    api.0.lock().unwrap().password = "Changed-by-hand-000000000000000000000000!".into();
    let rec = Recovery::new(secrets.clone(), api.clone());
    let report = rec.run("arn:secret", false).await.unwrap();
    assert!(!report.consistent);
    assert!(report.actions.is_empty(), "{report:?}");
    assert!(report.advice.iter().any(|a| a.contains("import-password")));
    assert!(secrets.stages("t1").contains(&AWSPENDING.to_owned()));
    let (secrets, api) = stuck_after_set().await;
    api.0.lock().unwrap().down = true;
    let report = Recovery::new(secrets.clone(), api.clone())
        .run("arn:secret", false)
        .await
        .unwrap();
    assert!(
        !report.consistent && report.actions.is_empty(),
        "{report:?}"
    );
    assert!(matches!(report.current.unwrap().probe, Probe::Unknown(_)));
    assert!(secrets.stages("t1").contains(&AWSPENDING.to_owned()));
}

#[tokio::test]
async fn recover_tidies_a_pending_label_left_on_the_current_version() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    run_all(&r).await;
    secrets
        .0
        .lock()
        .unwrap()
        .versions
        .get_mut("t1")
        .unwrap()
        .1
        .push(AWSPENDING.into());
    let report = Recovery::new(secrets.clone(), api.clone())
        .run("arn:secret", false)
        .await
        .unwrap();
    assert!(report.consistent, "{report:?}");
    assert_eq!(secrets.stages("t1"), vec![AWSCURRENT.to_owned()]);
}

#[tokio::test]
async fn recover_reports_never_hold_a_password() {
    let (secrets, api) = stuck_after_set().await;
    let new = api.password();
    let report = Recovery::new(secrets, api)
        .run("arn:secret", false)
        .await
        .unwrap();
    let text = format!("{report:?} {}", serde_json::to_string(&report).unwrap());
    assert!(!text.contains(&new) && !text.contains(OLD));
}

/// A person edits AWSCURRENT (adds a key of their own) while the rotation runs.
fn edit_current(secrets: &FakeSecrets) {
    let mut st = secrets.0.lock().unwrap();
    let (value, _) = st.versions.get_mut("v0").unwrap();
    let mut v: serde_json::Value = serde_json::from_str(value.as_deref().unwrap()).unwrap();
    v["owner"] = "city-it@example.fi".into();
    *value = Some(v.to_string());
}

fn current_json(s: &FakeSecrets) -> serde_json::Value {
    serde_json::from_str(&s.value_with(AWSCURRENT).unwrap()).unwrap()
}

#[tokio::test]
async fn an_edit_of_the_current_secret_during_the_rotation_survives_it() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    r.handle(&ev(Step::Set)).await.unwrap();
    edit_current(&secrets);
    r.handle(&ev(Step::Test)).await.unwrap();
    r.handle(&ev(Step::Finish)).await.unwrap();
    let v = current_json(&secrets);
    assert_eq!(
        v["owner"], "city-it@example.fi",
        "the person's edit is kept"
    );
    assert_eq!(v["password"], api.password(), "with the new password");
    assert!(
        secrets
            .stages(&merged_version_id("t1"))
            .contains(&AWSCURRENT.to_owned())
    );
    // Secrets Manager retries finishSecret: nothing more happens.
    assert_eq!(
        r.handle(&ev(Step::Finish)).await.unwrap().outcome,
        "already_current"
    );
    assert_eq!(current_json(&secrets)["owner"], "city-it@example.fi");
}

#[tokio::test]
async fn an_edit_is_kept_even_when_finish_stopped_right_after_promoting() {
    let (r, secrets, api, _) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    r.handle(&ev(Step::Set)).await.unwrap();
    edit_current(&secrets);
    // finishSecret promoted the token and died before keeping the edit.
    {
        let mut st = secrets.0.lock().unwrap();
        st.versions.get_mut("v0").unwrap().1 = vec!["AWSPREVIOUS".into()];
        st.versions.get_mut("t1").unwrap().1 = vec![AWSCURRENT.into()];
    }
    assert_eq!(
        r.handle(&ev(Step::Finish)).await.unwrap().outcome,
        "edit_kept"
    );
    let v = current_json(&secrets);
    assert_eq!(v["owner"], "city-it@example.fi");
    assert_eq!(v["password"], api.password());
}

#[tokio::test]
async fn without_an_edit_no_extra_version_is_written() {
    let (r, secrets, _, _) = setup();
    secrets.start_rotation("t1");
    run_all(&r).await;
    assert!(secrets.stages(&merged_version_id("t1")).is_empty());
    assert_eq!(
        r.handle(&ev(Step::Finish)).await.unwrap().outcome,
        "already_current"
    );
}
