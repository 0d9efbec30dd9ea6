//! Unit tests of the rotation decisions with in-memory fakes of Secrets Manager and Suomi.fi.
//! (End-to-end tests through the Lambda Runtime API against moto and the sandbox live in `tests/`.)

use super::*;
use std::sync::{Arc, Mutex as StdMutex};
use suomifi_shared::fakes::RecordingNotifier;
use suomifi_shared::suomifi::ApiBase;

#[derive(Default)]
struct SecretsState {
    enabled: bool,
    versions: HashMap<String, (Option<String>, Vec<String>)>,
}

/// Secrets Manager semantics that matter here: stages, empty pending version, ResourceExists.
#[derive(Clone, Default)]
struct FakeSecrets(Arc<StdMutex<SecretsState>>);

impl FakeSecrets {
    fn with_current(value: &str) -> Self {
        let s = Self::default();
        {
            let mut st = s.0.lock().unwrap();
            st.enabled = true;
            st.versions
                .insert("v0".into(), (Some(value.into()), vec![AWSCURRENT.into()]));
        }
        s
    }
    /// What Secrets Manager does before calling createSecret.
    fn start_rotation(&self, token: &str) {
        self.0
            .lock()
            .unwrap()
            .versions
            .insert(token.into(), (None, vec![AWSPENDING.into()]));
    }
    fn value_with(&self, stage: &str) -> Option<String> {
        let st = self.0.lock().unwrap();
        st.versions
            .values()
            .find(|(_, s)| s.iter().any(|x| x == stage))
            .and_then(|(v, _)| v.clone())
    }
    fn stages(&self, version: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .versions
            .get(version)
            .map(|v| v.1.clone())
            .unwrap_or_default()
    }
}

impl SecretStore for FakeSecrets {
    async fn describe(&self, _id: &str) -> Result<SecretMeta, SecretsError> {
        let st = self.0.lock().unwrap();
        Ok(SecretMeta {
            arn: "arn:secret".into(),
            name: "sys".into(),
            rotation_enabled: st.enabled,
            versions: st
                .versions
                .iter()
                .map(|(k, v)| (k.clone(), v.1.clone()))
                .collect(),
            ..SecretMeta::default()
        })
    }
    async fn get_value(
        &self,
        _id: &str,
        version: Option<&str>,
        stage: &str,
    ) -> Result<Option<String>, SecretsError> {
        let st = self.0.lock().unwrap();
        Ok(st
            .versions
            .iter()
            .find(|(k, (_, s))| {
                version.is_none_or(|v| v == k.as_str()) && s.iter().any(|x| x == stage)
            })
            .and_then(|(_, (v, _))| v.clone()))
    }
    async fn put_pending(&self, id: &str, token: &str, value: &str) -> Result<(), SecretsError> {
        let mut st = self.0.lock().unwrap();
        let entry = st
            .versions
            .entry(token.into())
            .or_insert((None, vec![AWSPENDING.into()]));
        match &entry.0 {
            Some(v) if v != value => Err(SecretsError {
                operation: "PutSecretValue",
                secret_id: id.into(),
                code: Some("ResourceExistsException".into()),
                detail: "exists".into(),
            }),
            _ => {
                entry.0 = Some(value.into());
                Ok(())
            }
        }
    }
    async fn update_stage(
        &self,
        _id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), SecretsError> {
        let mut st = self.0.lock().unwrap();
        if let Some(v) = from.and_then(|f| st.versions.get_mut(f)) {
            v.1.retain(|s| s != stage);
            if stage == AWSCURRENT {
                v.1.push("AWSPREVIOUS".into());
            }
        }
        if let Some(t) = to {
            st.versions.get_mut(t).unwrap().1.push(stage.into());
        }
        Ok(())
    }
}

#[derive(Default)]
struct ApiState {
    password: String,
    /// Apply the change but lose the answer.
    lose_next_change: bool,
    refuse_next_change: Option<String>,
    /// Refuse the next N logins even with the right password (a transient refusal).
    refuse_logins: u32,
    down: bool,
    changes: u32,
}

#[derive(Clone, Default)]
struct FakeApi(Arc<StdMutex<ApiState>>);

impl FakeApi {
    fn with_password(p: &str) -> Self {
        let a = Self::default();
        a.0.lock().unwrap().password = p.into();
        a
    }
    fn password(&self) -> String {
        self.0.lock().unwrap().password.clone()
    }
}

fn server_error() -> ApiError {
    ApiError::Server {
        endpoint: "/v1/token",
        status: 503,
        attempts: 3,
        trace_id: TraceId::default(),
    }
}

impl PasswordApi for FakeApi {
    async fn login(&self, creds: &Credentials) -> Result<AccessToken, ApiError> {
        let mut st = self.0.lock().unwrap();
        if st.down {
            return Err(server_error());
        }
        if st.refuse_logins > 0 {
            st.refuse_logins -= 1;
            return Err(ApiError::AuthenticationFailed {
                reason: "refused".into(),
                trace_id: TraceId::default(),
            });
        }
        if creds.password.expose() == st.password {
            Ok(AccessToken::new(format!("tok-{}", st.changes)))
        } else {
            Err(ApiError::AuthenticationFailed {
                reason: "bad credentials".into(),
                trace_id: TraceId::default(),
            })
        }
    }
    async fn change_password(
        &self,
        creds: &Credentials,
        _t: &AccessToken,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        let mut st = self.0.lock().unwrap();
        if st.down {
            return Err(server_error());
        }
        if let Some(reason) = st.refuse_next_change.take() {
            return Err(ApiError::PasswordChangeRefused {
                reason,
                trace_id: TraceId(Some("trace-1".into())),
            });
        }
        if creds.password.expose() != st.password {
            return Err(ApiError::PasswordChangeRefused {
                reason: "current password is wrong".into(),
                trace_id: TraceId::default(),
            });
        }
        st.password = new.expose().into();
        st.changes += 1;
        if std::mem::take(&mut st.lose_next_change) {
            return Err(ApiError::Timeout {
                endpoint: "/v1/change-password",
                attempts: 1,
                timeout_ms: 10,
            });
        }
        Ok(TraceId(Some("trace-ok".into())))
    }
    async fn read_events(&self, _c: &Credentials, _t: &AccessToken) -> Result<(), ApiError> {
        Ok(())
    }
}

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
    assert!(n.sent().is_empty());
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
    assert_eq!(err.error_type(), "Retryable");
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
    assert_eq!(err.error_type(), "DriftDetected");
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
    assert_eq!(err.error_type(), "Retryable");
    assert_eq!(api.password(), OLD);
    assert!(n.sent().is_empty());
}

#[tokio::test]
async fn preflight_refuses_bad_states_with_typed_errors() {
    let (r, secrets, _, _) = setup();
    // Token not a version of the secret.
    let err = r.handle(&ev(Step::Create)).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidToken");
    // Rotation disabled.
    secrets.start_rotation("t1");
    secrets.0.lock().unwrap().enabled = false;
    let err = r.handle(&ev(Step::Create)).await.unwrap_err();
    assert_eq!(err.error_type(), "RotationDisabled");
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
    assert_eq!(err.error_type(), "InvalidSecret");
    assert!(secrets.value_with(AWSPENDING).is_none());
}

#[tokio::test]
async fn test_secret_without_a_pending_value_tests_the_current_password() {
    let (r, secrets, _, _) = setup();
    secrets.start_rotation("t1");
    let out = r.handle(&ev(Step::Test)).await.unwrap();
    assert_eq!(out.outcome, "current_works");
}

#[test]
fn events_parse_into_types_and_unknown_steps_are_errors() {
    let ok = RotationEvent::from_json(serde_json::json!({
        "Step": "setSecret", "SecretId": "arn:x", "ClientRequestToken": "t", "RotationToken": "r"
    }))
    .unwrap();
    assert_eq!(ok.step, Step::Set);
    let err = RotationEvent::from_json(serde_json::json!({
        "Step": "set_secret", "SecretId": "arn:x", "ClientRequestToken": "t"
    }))
    .unwrap_err();
    assert_eq!(err.error_type(), "UnknownStep");
    let err = RotationEvent::from_json(serde_json::json!({"SecretId": "arn:x"})).unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    let err = RotationEvent::from_json(serde_json::json!([1, 2])).unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
}

#[test]
fn cool_down_wording_is_recognised() {
    assert!(is_cool_down("Password was changed too recently"));
    assert!(is_cool_down(
        "Please wait before changing the password again"
    ));
    assert!(!is_cool_down(
        "Password does not meet the policy: no symbol"
    ));
}

#[test]
fn the_event_fixtures_parse_into_their_steps() {
    for (json, step) in [
        (
            include_str!("../../../events/rotation-createSecret.json"),
            Step::Create,
        ),
        (
            include_str!("../../../events/rotation-setSecret.json"),
            Step::Set,
        ),
        (
            include_str!("../../../events/rotation-testSecret.json"),
            Step::Test,
        ),
        (
            include_str!("../../../events/rotation-finishSecret.json"),
            Step::Finish,
        ),
    ] {
        let ev = RotationEvent::from_json(serde_json::from_str(json).unwrap()).unwrap();
        assert_eq!(ev.step, step);
        assert!(ev.secret_id.starts_with("arn:aws:secretsmanager:"));
    }
    // A scheduled event is not a rotation event.
    let err = RotationEvent::from_json(
        serde_json::from_str(include_str!("../../../events/scheduled-rule.json")).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
}

#[tokio::test]
async fn a_refusal_of_the_current_password_that_does_not_repeat_is_not_drift() {
    let (r, secrets, api, n) = setup();
    secrets.start_rotation("t1");
    r.handle(&ev(Step::Create)).await.unwrap();
    // The pending probe is refused (rightly), then the current login once (transiently), then
    // the pending re-probe (rightly): only the second current login tells it was transient.
    api.0.lock().unwrap().refuse_logins = 2;
    let err = r.handle(&ev(Step::Set)).await.unwrap_err();
    assert!(matches!(err, RotationError::TransientRefusal(_)), "{err:?}");
    assert_eq!(err.error_type(), "Retryable");
    assert!(
        n.sent().is_empty(),
        "nobody is paged for a transient refusal"
    );
    assert_eq!(api.password(), OLD);
    r.handle(&ev(Step::Set)).await.unwrap();
    assert_ne!(api.password(), OLD);
}
