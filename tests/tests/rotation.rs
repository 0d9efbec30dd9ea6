//! `rotate-password` end to end: the real binary through the Lambda Runtime API, moto's Secrets
//! Manager (put into AWS's exact rotation start state) and the Suomi.fi sandbox with faults.
//!
//! After every scenario: once rotation completes, the sandbox's password is the secret's
//! `AWSCURRENT`; while it is unfinished, the working password is `AWSCURRENT` or `AWSPENDING`;
//! and no password appears in the function's captured output.

use aws_sdk_secretsmanager::Client as Sm;
use integration_tests::moto::{Moto, TopicProbe};
use integration_tests::runtime::{InvokeError, LambdaFunction};
use integration_tests::unique;
use serde_json::{Value, json};
use suomifi_sandbox::{Endpoint, Fault, FaultRule, RunningSandbox, Sandbox, SandboxConfig};

const USER: &str = "system-rot";
const OLD: &str = "Old-password-000000000000000000000000000!";
const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

struct Fixture {
    sm: Sm,
    sandbox: RunningSandbox,
    secret_id: String,
    f: LambdaFunction,
    topic: TopicProbe,
    env: Vec<(String, String)>,
}

impl Fixture {
    async fn new() -> Fixture {
        Self::with_secret(None).await
    }

    /// A secret holding the sandbox's credentials (or `raw` as its value).
    async fn with_secret(raw: Option<&str>) -> Fixture {
        let moto = Moto::shared();
        let cfg = moto.sdk_config().await;
        let sm = Sm::new(&cfg);
        let sandbox = Sandbox::start(SandboxConfig::new(USER, OLD)).await.unwrap();
        let secret_id = unique("suomifi-credentials");
        let value = raw.map(str::to_owned).unwrap_or_else(|| {
            json!({"username": USER, "password": OLD, "apiUrl": sandbox.base_url(), "note": "kept"}).to_string()
        });
        sm.create_secret()
            .name(&secret_id)
            .secret_string(value)
            .send()
            .await
            .unwrap();
        let topic = TopicProbe::create(&cfg).await;
        let mut env = moto.env();
        env.push(("ALERT_TOPIC_ARN".into(), topic.topic_arn.clone()));
        env.push(("SUOMIFI_TIMEOUT_SECONDS".into(), "2".into()));
        let f = LambdaFunction::start("rotate-password", env.clone()).await;
        Fixture {
            sm,
            sandbox,
            secret_id,
            f,
            topic,
            env,
        }
    }

    /// What Secrets Manager does before `createSecret`: enable rotation and create the token's
    /// empty `AWSPENDING` version. moto's RotateSecret does exactly that, then fails to invoke the
    /// (not deployed) function.
    async fn start_rotation(&self) -> String {
        integration_tests::moto::start_rotation(&self.sm, &self.secret_id).await
    }

    async fn step(&mut self, step: &str, token: &str) -> Result<Value, InvokeError> {
        self.f
            .invoke(json!({"Step": step, "SecretId": self.secret_id, "ClientRequestToken": token}))
            .await
    }

    async fn rotate(&mut self) -> String {
        let token = self.start_rotation().await;
        for s in STEPS {
            self.step(s, &token)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e:?}"));
        }
        token
    }

    async fn stages(&self) -> std::collections::HashMap<String, Vec<String>> {
        self.sm
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .unwrap()
            .version_ids_to_stages
            .unwrap_or_default()
    }

    async fn value(&self, stage: &str) -> Option<Value> {
        let out = self
            .sm
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(stage)
            .send()
            .await
            .ok()?;
        out.secret_string()
            .map(|s| serde_json::from_str(s).unwrap())
    }

    async fn password(&self, stage: &str) -> Option<String> {
        self.value(stage)
            .await
            .map(|v| v["password"].as_str().unwrap().to_owned())
    }

    /// The invariant: the sandbox's password is stored as AWSCURRENT or AWSPENDING.
    async fn assert_recoverable(&self) {
        let accepted = self.sandbox.password();
        let current = self.password("AWSCURRENT").await;
        let pending = self.password("AWSPENDING").await;
        assert!(
            current.as_deref() == Some(&accepted) || pending.as_deref() == Some(&accepted),
            "the accepted password is neither AWSCURRENT nor AWSPENDING"
        );
    }

    async fn assert_completed(&self) {
        assert_eq!(
            self.password("AWSCURRENT").await.as_deref(),
            Some(self.sandbox.password().as_str())
        );
        assert!(
            self.stages()
                .await
                .values()
                .all(|s| !s.contains(&"AWSPENDING".to_owned())),
            "no AWSPENDING label left behind"
        );
    }

    /// No password ever written to the sandbox appears in the function's output.
    fn assert_no_secret_in_logs(&self, extra: &[&str]) {
        let logs = self.f.logs();
        assert!(!logs.is_empty(), "the function logged something");
        for p in [OLD, self.sandbox.password().as_str()].iter().chain(extra) {
            assert!(!logs.contains(p), "a password leaked into the logs");
        }
    }
}

#[tokio::test]
async fn a_full_rotation_changes_the_password_keeps_the_old_one_as_previous() {
    let mut fx = Fixture::new().await;
    fx.rotate().await;
    fx.assert_completed().await;
    let new = fx.sandbox.password();
    assert_ne!(new, OLD);
    assert!(new.len() >= 32);
    assert_eq!(fx.password("AWSPREVIOUS").await.as_deref(), Some(OLD));
    let current = fx.value("AWSCURRENT").await.unwrap();
    assert_eq!(current["note"], "kept", "unknown keys preserved");
    assert_eq!(current["apiUrl"], fx.sandbox.base_url());
    assert_eq!(fx.sandbox.state().password_changes, 1);
    fx.assert_no_secret_in_logs(&[]);
    // The decisions are logged as structured lines, and the success is a metric (EMF).
    let logs = fx.f.logs();
    assert!(logs.contains("\"outcome\":\"changed\""), "{logs}");
    assert!(logs.contains("\"RotationSucceeded\":1.0"), "{logs}");
}

#[tokio::test]
async fn two_rotations_in_a_row() {
    let mut fx = Fixture::new().await;
    fx.rotate().await;
    let first = fx.sandbox.password();
    fx.rotate().await;
    fx.assert_completed().await;
    assert_ne!(fx.sandbox.password(), first);
    assert_eq!(
        fx.password("AWSPREVIOUS").await.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(fx.sandbox.state().password_changes, 2);
    fx.assert_no_secret_in_logs(&[&first]);
}

#[tokio::test]
async fn every_step_invoked_twice_changes_the_password_once() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    for s in STEPS {
        fx.step(s, &token).await.unwrap();
        fx.step(s, &token).await.unwrap();
        fx.assert_recoverable().await;
    }
    fx.assert_completed().await;
    assert_eq!(fx.sandbox.state().password_changes, 1);
}

#[tokio::test]
async fn a_lost_change_password_response_is_recovered() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    fx.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::LoseResponse,
        ))
        .unwrap();
    let out = fx.step("setSecret", &token).await.unwrap();
    assert_eq!(out["outcome"], "changed_response_lost");
    fx.step("testSecret", &token).await.unwrap();
    fx.step("finishSecret", &token).await.unwrap();
    fx.assert_completed().await;
    assert_eq!(fx.sandbox.state().password_changes, 1);
    fx.assert_no_secret_in_logs(&[]);
}

#[tokio::test]
async fn a_change_answered_slower_than_the_timeout_is_recovered() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    fx.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::Delay { millis: 4_000 },
        ))
        .unwrap();
    let out = fx.step("setSecret", &token).await.unwrap();
    assert_eq!(out["outcome"], "changed_response_lost");
    fx.step("testSecret", &token).await.unwrap();
    fx.step("finishSecret", &token).await.unwrap();
    fx.assert_completed().await;
}

#[tokio::test]
async fn server_errors_fail_the_step_retryably_and_a_retry_completes() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    // 5xx on every token request: nothing can be decided, nothing changes.
    fx.sandbox
        .add_fault(FaultRule::always(
            Endpoint::Token,
            Fault::ServerError { status: 503 },
        ))
        .unwrap();
    let err = fx.step("setSecret", &token).await.unwrap_err().function();
    assert_eq!(err.error_type, "RotatePassword.Retryable");
    assert!(err.error_message.contains("503"), "{}", err.error_message);
    fx.sandbox.clear_faults();
    fx.assert_recoverable().await;
    // 5xx on the change itself: probed, still unchanged, retryable.
    fx.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::ServerError { status: 500 },
        ))
        .unwrap();
    let err = fx.step("setSecret", &token).await.unwrap_err().function();
    assert_eq!(err.error_type, "RotatePassword.Retryable");
    assert_eq!(fx.sandbox.password(), OLD);
    // Secrets Manager retries the whole rotation.
    for s in STEPS {
        fx.step(s, &token).await.unwrap();
    }
    fx.assert_completed().await;
    assert!(
        fx.topic.drain().await.is_empty(),
        "transient failures notify nobody"
    );
}

#[tokio::test]
async fn a_cool_down_refusal_is_retryable_and_keeps_the_pending_password() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    let pending = fx.password("AWSPENDING").await.unwrap();
    fx.sandbox
        .add_fault(FaultRule::once(Endpoint::ChangePassword, Fault::CoolDown))
        .unwrap();
    let err = fx.step("setSecret", &token).await.unwrap_err().function();
    assert_eq!(err.error_type, "RotatePassword.Retryable");
    assert!(
        err.error_message.contains("cool-down"),
        "{}",
        err.error_message
    );
    fx.step("createSecret", &token).await.unwrap();
    assert_eq!(
        fx.password("AWSPENDING").await.unwrap(),
        pending,
        "no new password generated"
    );
    for s in STEPS {
        fx.step(s, &token).await.unwrap();
    }
    fx.assert_completed().await;
    assert_eq!(fx.sandbox.password(), pending);
}

#[tokio::test]
async fn a_policy_refusal_changes_nothing_and_notifies() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    // A pending value someone else stored that breaks DVV's policy.
    let bad = json!({"username": USER, "password": "short-Aa1!", "apiUrl": fx.sandbox.base_url()})
        .to_string();
    fx.sm
        .put_secret_value()
        .secret_id(&fx.secret_id)
        .client_request_token(&token)
        .secret_string(bad)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let err = fx.step("setSecret", &token).await.unwrap_err().function();
    assert_eq!(err.error_type, "RotatePassword.ChangeRefused");
    assert_eq!(fx.sandbox.password(), OLD);
    assert_eq!(fx.password("AWSCURRENT").await.as_deref(), Some(OLD));
    let sent = fx.topic.drain().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].subject.as_deref().unwrap().starts_with("[WARNING]"));
    assert!(
        !sent[0].message.contains("short-Aa1!"),
        "no password in notifications"
    );
    fx.assert_no_secret_in_logs(&["short-Aa1!"]);
}

#[tokio::test]
async fn drift_is_detected_notified_and_nothing_changes() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    let by_hand = "Changed-by-hand-00000000000000000000000000!";
    fx.sandbox.set_password(by_hand);
    let err = fx.step("setSecret", &token).await.unwrap_err().function();
    assert_eq!(err.error_type, "RotatePassword.DriftDetected");
    assert_eq!(fx.sandbox.password(), by_hand);
    assert_eq!(fx.sandbox.state().password_changes, 0);
    let err = fx
        .step("finishSecret", &token)
        .await
        .unwrap_err()
        .function();
    assert_eq!(
        err.error_type, "RotatePassword.Retryable",
        "never promote a password Suomi.fi refuses"
    );
    assert_eq!(fx.password("AWSCURRENT").await.as_deref(), Some(OLD));
    let sent = fx.topic.drain().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0]
            .subject
            .as_deref()
            .unwrap()
            .starts_with("[CRITICAL]")
    );
    let chat: Value = serde_json::from_str(&sent[0].message).unwrap();
    let steps = chat["content"]["nextSteps"].to_string();
    assert!(steps.contains("import-password"), "{steps}");
    assert!(!sent[0].message.contains(by_hand) && !sent[0].message.contains(OLD));
    fx.assert_no_secret_in_logs(&[by_hand]);
}

#[tokio::test]
async fn the_process_killed_between_any_two_steps_never_loses_the_password() {
    for killed_after in 0..STEPS.len() {
        let mut fx = Fixture::new().await;
        let token = fx.start_rotation().await;
        for s in &STEPS[..=killed_after] {
            fx.step(s, &token).await.unwrap();
        }
        fx.f.restart().await;
        fx.assert_recoverable().await;
        // Secrets Manager retries the whole rotation from the start.
        for s in STEPS {
            fx.step(s, &token)
                .await
                .unwrap_or_else(|e| panic!("after kill at {killed_after}, {s}: {e:?}"));
        }
        fx.assert_completed().await;
        assert_eq!(fx.sandbox.state().password_changes, 1);
    }
}

#[tokio::test]
async fn the_process_killed_during_set_secret_never_loses_the_password() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    // The change is applied, the answer is slow, the process dies while waiting for it.
    fx.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::Delay { millis: 1_500 },
        ))
        .unwrap();
    let event = json!({"Step": "setSecret", "SecretId": fx.secret_id, "ClientRequestToken": token});
    let res =
        fx.f.invoke_within(event, std::time::Duration::from_millis(700))
            .await;
    assert!(matches!(res, Err(InvokeError::NoAnswer(_))), "{res:?}");
    fx.f.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    fx.assert_recoverable().await;
    for s in STEPS {
        fx.step(s, &token).await.unwrap();
    }
    fx.assert_completed().await;
}

#[tokio::test]
async fn two_set_secret_invocations_at_once_change_the_password_once() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    let mut other = LambdaFunction::start("rotate-password", fx.env.clone()).await;
    let event = json!({"Step": "setSecret", "SecretId": fx.secret_id, "ClientRequestToken": token});
    let (a, b) = tokio::join!(fx.f.invoke(event.clone()), other.invoke(event));
    // Both succeed, or one reports a retryable error; never a lost password.
    for r in [&a, &b] {
        if let Err(e) = r {
            assert_eq!(
                e.clone().function().error_type,
                "RotatePassword.Retryable",
                "{e:?}"
            );
        }
    }
    assert!(a.is_ok() || b.is_ok());
    fx.assert_recoverable().await;
    fx.step("testSecret", &token).await.unwrap();
    fx.step("finishSecret", &token).await.unwrap();
    fx.assert_completed().await;
    assert_eq!(fx.sandbox.state().password_changes, 1);
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_changes_nothing() {
    // Unknown step, malformed event.
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    let err = fx
        .f
        .invoke(json!({"Step": "rotateEverything", "SecretId": fx.secret_id, "ClientRequestToken": token}))
        .await
        .unwrap_err()
        .function();
    assert_eq!(err.error_type, "RotatePassword.UnknownStep");
    assert!(err.error_message.contains("rotateEverything"));
    let err =
        fx.f.invoke(json!({"hello": "world"}))
            .await
            .unwrap_err()
            .function();
    assert_eq!(err.error_type, "RotatePassword.InvalidEvent");
    // A token that is not a version of the secret.
    let err = fx
        .step("createSecret", "not-a-version-of-this-secret")
        .await
        .unwrap_err()
        .function();
    assert_eq!(err.error_type, "RotatePassword.InvalidToken");
    assert!(fx.password("AWSPENDING").await.is_none());
    assert_eq!(fx.sandbox.state().requests.change_password, 0);
}

#[tokio::test]
async fn a_malformed_or_incomplete_secret_is_invalid_and_nothing_is_created() {
    for raw in [
        r#"{"username": "system-rot", "password": "#,
        r#"{"username": "system-rot"}"#,
        r#"["not", "an", "object"]"#,
    ] {
        let mut fx = Fixture::with_secret(Some(raw)).await;
        let token = fx.start_rotation().await;
        let err = fx
            .step("createSecret", &token)
            .await
            .unwrap_err()
            .function();
        assert_eq!(err.error_type, "RotatePassword.InvalidSecret", "{raw}");
        assert!(fx.password("AWSPENDING").await.is_none());
        let sent = fx.topic.drain().await;
        assert_eq!(sent.len(), 1, "a malformed secret needs a person");
        assert!(!fx.f.logs().contains("system-rot\", \"password"));
    }
}

#[tokio::test]
async fn rotation_disabled_is_refused() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.sm
        .cancel_rotate_secret()
        .secret_id(&fx.secret_id)
        .send()
        .await
        .unwrap();
    let err = fx
        .step("createSecret", &token)
        .await
        .unwrap_err()
        .function();
    assert!(
        err.error_type == "RotatePassword.RotationDisabled"
            || err.error_type == "RotatePassword.InvalidToken",
        "{err:?}"
    );
    assert_eq!(fx.password("AWSCURRENT").await.as_deref(), Some(OLD));
}

#[tokio::test]
async fn test_secret_alone_checks_the_current_credentials() {
    // RotateImmediately=false: Secrets Manager runs only testSecret on an empty pending version.
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    let out = fx.step("testSecret", &token).await.unwrap();
    assert_eq!(out["outcome"], "current_works");
    assert_eq!(fx.sandbox.state().password_changes, 0);
}

#[tokio::test]
async fn a_healthy_rotation_makes_no_failed_login_at_suomifi_and_logs_lambda_json() {
    let mut fx = Fixture::new().await;
    fx.rotate().await;
    fx.rotate().await;
    fx.assert_completed().await;
    let state = fx.sandbox.state();
    assert_eq!(state.password_changes, 2);
    assert_eq!(
        state.failed_logins, 0,
        "a healthy rotation never tries a password Suomi.fi does not know"
    );
    // Every line the function printed is one Lambda's log controls can read: JSON with an RFC 3339
    // timestamp and a level (EMF metric documents aside), and the requestId at the top inside an
    // invocation. The function ran at TRACE (the harness's level): no password anywhere.
    let logs = fx.f.logs();
    let mut with_request_id = 0;
    for line in logs.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v.get("_aws").is_some() {
            continue;
        }
        let ts = v["timestamp"]
            .as_str()
            .unwrap_or_else(|| panic!("no timestamp: {line}"));
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{e}: {ts}"));
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&v["level"].as_str().unwrap_or("")),
            "{line}"
        );
        if v.get("requestId").is_some() {
            with_request_id += 1;
        }
    }
    assert!(with_request_id >= 8, "{logs}");
    assert!(
        logs.contains("\"level\":\"TRACE\"")
            || logs.contains("\"level\":\"DEBUG\"")
            || logs.contains("\"level\":\"INFO\"")
    );
    fx.assert_no_secret_in_logs(&[]);
}

/// A rotation that stopped after setSecret changed the password: only AWSPENDING works.
async fn stuck_after_set(fx: &mut Fixture) -> String {
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    fx.step("setSecret", &token).await.unwrap();
    assert_eq!(fx.password("AWSPENDING").await, Some(fx.sandbox.password()));
    assert_ne!(fx.password("AWSCURRENT").await, Some(fx.sandbox.password()));
    token
}

#[tokio::test]
async fn recover_keeps_the_only_working_password_of_a_stuck_rotation() {
    let mut fx = Fixture::new().await;
    let token = stuck_after_set(&mut fx).await;
    let new = fx.sandbox.password();

    let dry = integration_tests::suomifi_ops(
        &["recover", "--secret-id", &fx.secret_id, "--dry-run"],
        None,
    )
    .await;
    assert_eq!(dry.code, 1, "not consistent yet: {}", dry.all());
    assert!(dry.stdout.contains("would make version"), "{}", dry.all());
    assert!(
        fx.stages().await[&token].contains(&"AWSPENDING".to_owned()),
        "dry run changed nothing"
    );

    let run =
        integration_tests::suomifi_ops(&["recover", "--secret-id", &fx.secret_id], None).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("consistent:"), "{}", run.all());
    assert_eq!(
        fx.password("AWSCURRENT").await.as_deref(),
        Some(new.as_str())
    );
    assert_eq!(fx.password("AWSPREVIOUS").await.as_deref(), Some(OLD));
    fx.assert_completed().await;
    for p in [OLD, new.as_str()] {
        assert!(
            !run.all().contains(p) && !dry.all().contains(p),
            "a password was printed"
        );
    }
    // The value kept the operator's own keys, and a new rotation works from here.
    assert_eq!(fx.value("AWSCURRENT").await.unwrap()["note"], "kept");
    fx.rotate().await;
    fx.assert_completed().await;
}

#[tokio::test]
async fn recover_removes_a_stale_pending_only_when_the_current_password_works() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    let json =
        integration_tests::suomifi_ops(&["recover", "--secret-id", &fx.secret_id, "--json"], None)
            .await;
    assert_eq!(json.code, 0, "{}", json.all());
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["pending"]["probe"]["result"], "refused");
    assert_eq!(report["current"]["probe"]["result"], "accepted");
    assert_eq!(report["consistent"], true);
    assert!(
        !fx.stages()
            .await
            .values()
            .any(|s| s.contains(&"AWSPENDING".to_owned()))
    );
    assert_eq!(fx.password("AWSCURRENT").await.as_deref(), Some(OLD));
    assert_eq!(fx.sandbox.password(), OLD);
}

#[tokio::test]
async fn recover_changes_nothing_when_neither_password_works() {
    let mut fx = Fixture::new().await;
    let token = stuck_after_set(&mut fx).await;
    fx.sandbox
        .set_password("Changed-by-hand-00000000000000000000000000!");
    let before = fx.stages().await;
    let run =
        integration_tests::suomifi_ops(&["recover", "--secret-id", &fx.secret_id], None).await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("import-password"), "{}", run.all());
    assert_eq!(fx.stages().await, before, "nothing moved");
    assert!(before[&token].contains(&"AWSPENDING".to_owned()));
}

#[tokio::test]
async fn an_operators_edit_of_the_secret_during_a_rotation_survives_it() {
    let mut fx = Fixture::new().await;
    let token = fx.start_rotation().await;
    fx.step("createSecret", &token).await.unwrap();
    fx.step("setSecret", &token).await.unwrap();
    // Someone adds a key of their own meanwhile (a new AWSCURRENT version, as the console does).
    let mut edited = fx.value("AWSCURRENT").await.unwrap();
    edited["owner"] = json!("city-it@example.fi");
    fx.sm
        .put_secret_value()
        .secret_id(&fx.secret_id)
        .secret_string(edited.to_string())
        .send()
        .await
        .unwrap();
    fx.step("testSecret", &token).await.unwrap();
    fx.step("finishSecret", &token).await.unwrap();
    fx.assert_completed().await;
    let current = fx.value("AWSCURRENT").await.unwrap();
    assert_eq!(current["owner"], "city-it@example.fi");
    assert_eq!(current["note"], "kept");
    assert_eq!(
        current["password"].as_str(),
        Some(fx.sandbox.password().as_str())
    );
    // A retried finishSecret changes nothing more.
    fx.step("finishSecret", &token).await.unwrap();
    assert_eq!(fx.value("AWSCURRENT").await.unwrap(), current);
}
