//! `suomifi-ops` end to end: the built binary against moto and the Suomi.fi sandbox, asserting on
//! its output and exit codes — and on what it left (or did not leave) in AWS.
//!
//! `rotate` is tested only as far as moto goes: moto's RotateSecret cannot invoke a Rust
//! function. These tests cover the preflight refusals and, with moto's own stand-in rotation
//! (RotateSecret naming no function copies the value to a new version and moves the labels),
//! that the CLI follows the stages to the end. The rotation itself is tested in `rotation.rs`
//! and shown by the demo.
//!
//! Finally the demo itself runs here (on the debug binaries), so CI runs `make demo`'s program.

use aws_sdk_secretsmanager::Client as Sm;
use integration_tests::moto::{Moto, TopicProbe, create_state_table};
use integration_tests::unique;
use serde_json::{Value, json};
use suomifi_sandbox::{Event, RunningSandbox, Sandbox, SandboxConfig};
use suomifi_shared::checkpoint::Checkpoint;
use time::OffsetDateTime;

const USER: &str = "system-cli";
const PASSWORD: &str = "Cli-test-password-00000000000000000000000!";

type Run = integration_tests::CliRun;

/// Runs `suomifi-ops` with only the moto environment, and `stdin` on its standard input.
async fn ops(args: &[&str], stdin: Option<&str>) -> Run {
    integration_tests::suomifi_ops(args, stdin).await
}

struct Fixture {
    sm: Sm,
    cfg: aws_config::SdkConfig,
    sandbox: RunningSandbox,
    secret_id: String,
}

impl Fixture {
    /// A sandbox and a secret holding `value` (the sandbox URL is filled in for `{api}`).
    async fn new(value: Option<Value>) -> Fixture {
        let cfg = Moto::shared().sdk_config().await;
        let sm = Sm::new(&cfg);
        let sandbox = Sandbox::start(SandboxConfig::new(USER, PASSWORD))
            .await
            .unwrap();
        let secret_id = unique("cli-credentials");
        let value = value.unwrap_or_else(|| {
            json!({"username": USER, "password": PASSWORD, "apiUrl": sandbox.base_url(), "note": "kept"})
        });
        let text = value.to_string().replace("{api}", &sandbox.base_url());
        sm.create_secret()
            .name(&secret_id)
            .secret_string(text)
            .send()
            .await
            .unwrap();
        Fixture {
            sm,
            cfg,
            sandbox,
            secret_id,
        }
    }

    async fn current(&self) -> Value {
        let v = self
            .sm
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .unwrap();
        serde_json::from_str(v.secret_string().unwrap()).unwrap()
    }

    async fn versions(&self) -> usize {
        self.sm
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .unwrap()
            .version_ids_to_stages
            .unwrap_or_default()
            .len()
    }
}

fn assert_no_secret(run: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!run.all().contains(s), "a password appeared in the output");
    }
}

#[tokio::test]
async fn help_lists_every_command_and_explains_exit_codes() {
    let run = ops(&["--help"], None).await;
    assert_eq!(run.code, 0, "{run:?}");
    for command in ["status", "rotate", "check", "checkpoint", "import-password"] {
        assert!(
            run.stdout.contains(command),
            "{command} missing:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("Exit codes"), "{}", run.stdout);
    let run = ops(&["check", "--help"], None).await;
    assert!(run.stdout.contains("retrieval") && run.stdout.contains("certificates"));
    let run = ops(&["check", "retrieval", "--help"], None).await;
    for flag in [
        "--dry-run",
        "--json",
        "SUOMIFI_SECRET_ID",
        "CHECKPOINT_PARAMETER",
    ] {
        assert!(run.stdout.contains(flag), "{flag} missing:\n{}", run.stdout);
    }
    let run = ops(&["import-password", "--help"], None).await;
    assert!(run.stdout.contains("standard input"), "{}", run.stdout);
}

#[tokio::test]
async fn bad_arguments_fail_with_usage_code_and_say_what_is_missing() {
    let run = ops(&["rotate"], None).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--secret-id"), "{}", run.stderr);
    let run = ops(&["frobnicate"], None).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("unrecognized subcommand"),
        "{}",
        run.stderr
    );
    let run = ops(
        &[
            "checkpoint",
            "put",
            "--parameter",
            "/p",
            "--token",
            "t",
            "--updated-at",
            "yesterday",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("RFC 3339") && run.stderr.contains("hint:"),
        "{}",
        run.stderr
    );
    let run = ops(&["status"], None).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--secret-id"), "{}", run.stderr);
    // A real check run needs its table and topic; the error offers --dry-run.
    let run = ops(&["check", "retrieval", "--secret-id", "x"], None).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--dry-run"), "{}", run.stderr);
}

#[tokio::test]
async fn import_password_verifies_then_stores_keeping_other_keys() {
    // The stack's placeholder, pointed at the sandbox.
    let fx = Fixture::new(Some(json!({
        "username": "REPLACE_WITH_SYSTEM_ID",
        "password": "REPLACE_WITH_CURRENT_PASSWORD",
        "apiUrl": "{api}",
        "owner": "team-a",
    })))
    .await;
    // Without --username the placeholder is refused before anything is read.
    let run = ops(
        &["import-password", "--secret-id", &fx.secret_id],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--username"), "{}", run.stderr);

    let run = ops(
        &[
            "import-password",
            "--secret-id",
            &fx.secret_id,
            "--username",
            USER,
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("verified") && run.stdout.contains("AWSCURRENT"),
        "{}",
        run.stdout
    );
    assert_no_secret(&run, &[PASSWORD]);
    let stored = fx.current().await;
    assert_eq!(stored["password"], PASSWORD);
    assert_eq!(stored["username"], USER);
    assert_eq!(stored["apiUrl"], fx.sandbox.base_url());
    assert_eq!(stored["owner"], "team-a", "unknown keys kept");
    assert!(
        fx.sandbox.state().tokens_issued >= 1,
        "verified against Suomi.fi"
    );

    // The same again: nothing new is stored.
    let versions = fx.versions().await;
    let run = ops(
        &["import-password", "--secret-id", &fx.secret_id],
        Some(PASSWORD),
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("nothing stored"), "{}", run.stdout);
    assert_eq!(fx.versions().await, versions);
}

#[tokio::test]
async fn import_password_refuses_what_suomifi_refuses_and_stores_nothing() {
    let fx = Fixture::new(None).await;
    let versions = fx.versions().await;
    let wrong = "Wrong-password-0000000000000000000000000!";
    let run = ops(
        &["import-password", "--secret-id", &fx.secret_id],
        Some(&format!("{wrong}\n")),
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was stored"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert_no_secret(&run, &[wrong, PASSWORD]);
    assert_eq!(fx.versions().await, versions, "no version added");
    assert_eq!(fx.current().await["password"], PASSWORD);

    // No password at all, or more than one line, is refused before Suomi.fi is asked.
    let asked = fx.sandbox.state().requests;
    let run = ops(&["import-password", "--secret-id", &fx.secret_id], Some("")).await;
    assert_eq!(run.code, 2, "{run:?}");
    let run = ops(
        &["import-password", "--secret-id", &fx.secret_id],
        Some("one\ntwo\n"),
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("more than one line"), "{}", run.stderr);
    assert_eq!(fx.sandbox.state().requests, asked);

    // A secret that does not exist is named, with where to find the right one.
    let run = ops(
        &["import-password", "--secret-id", "no-such-secret-xyz"],
        Some(PASSWORD),
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("does not exist") && run.stderr.contains("CredentialsSecretArn"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn checkpoint_put_writes_the_contract_json() {
    let cfg = Moto::shared().sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let name = format!("/{}", unique("checkpoint"));
    let token = "abc+/==token";
    let run = ops(
        &[
            "checkpoint",
            "put",
            "--parameter",
            &name,
            "--token",
            token,
            "--updated-at",
            "2026-11-25T14:00:01+02:00",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let value = ssm
        .get_parameter()
        .name(&name)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    let raw = value.value.unwrap();
    let json: Value = serde_json::from_str(&raw).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["continuationToken", "updatedAt"]);
    assert_eq!(json["continuationToken"], token);
    assert_eq!(json["updatedAt"], "2026-11-25T12:00:01Z");
    assert_eq!(Checkpoint::parse(&raw).unwrap().continuation_token, token);

    // Without --updated-at: now. Overwrites.
    let before = OffsetDateTime::now_utc() - time::Duration::seconds(2);
    let run = ops(
        &["checkpoint", "put", "--parameter", &name, "--token", "next"],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let raw = ssm
        .get_parameter()
        .name(&name)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap()
        .value
        .unwrap();
    let cp = Checkpoint::parse(&raw).unwrap();
    assert_eq!(cp.continuation_token, "next");
    assert!(cp.updated_at >= before);
}

#[tokio::test]
async fn status_shows_each_secret_and_the_retrieval_health() {
    let fx = Fixture::new(None).await;
    let table = create_state_table(&fx.cfg).await;
    let run = ops(
        &[
            "status",
            "--secret-id",
            &fx.secret_id,
            "--state-table",
            &table,
            "--no-color",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "Credentials",
        "PASSWORD AGE",
        "DVV GUIDANCE",
        fx.secret_id.as_str(),
        "ok (under 180 d)",
        "OFF",
        "Retrieval",
        "credentials   ok",
        "Open alerts",
        "none",
    ] {
        assert!(
            run.stdout.contains(expected),
            "`{expected}` missing:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains('\x1b'), "no colour when piped");
    assert_no_secret(&run, &[PASSWORD]);

    // For scripts.
    let run = ops(&["status", "--secret-id", &fx.secret_id, "--json"], None).await;
    assert_eq!(run.code, 0, "{run:?}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["secrets"][0]["name"], fx.secret_id.as_str());
    assert_eq!(doc["secrets"][0]["rotationEnabled"], false);
    assert_eq!(
        doc["retrieval"]["systems"][0]["credentials"]["status"],
        "ok"
    );

    // A leftover AWSPENDING is a failed rotation: critical.
    integration_tests::moto::start_rotation(&fx.sm, &fx.secret_id).await;
    let run = ops(&["status", "--secret-id", &fx.secret_id, "--json"], None).await;
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let rotation = doc["secrets"][0]["rotation"].as_str().unwrap();
    assert!(
        rotation.contains("running now") || rotation.contains("FAILED"),
        "{rotation}"
    );
}

#[tokio::test]
async fn check_retrieval_dry_run_shows_the_alerts_and_changes_nothing_then_a_real_run_notifies() {
    let fx = Fixture::new(None).await;
    let table = create_state_table(&fx.cfg).await;
    let topic = TopicProbe::create(&fx.cfg).await;
    let parameter = format!("/{}", unique("retriever"));
    let now = OffsetDateTime::now_utc();
    // The retriever polled 3 h ago and found nothing; it has stalled since. A citizen wrote 2 h ago.
    let client = suomifi_shared::suomifi::SuomifiClient::new(
        suomifi_shared::suomifi::ApiBase::parse(&fx.sandbox.base_url()).unwrap(),
        Default::default(),
    )
    .unwrap();
    let token = client
        .token(USER, &suomifi_shared::sensitive::Password::new(PASSWORD))
        .await
        .unwrap();
    let empty = client.events_page(&token.access_token, None).await.unwrap();
    assert!(empty.events.is_empty());
    fx.sandbox
        .add_event(Event::end_user_message(1, "svc").at(now - time::Duration::hours(2)));
    let stale = suomifi_shared::alerts::format_time(now - time::Duration::hours(3));
    let run = ops(
        &[
            "checkpoint",
            "put",
            "--parameter",
            &parameter,
            "--token",
            &empty.continuation_token,
            "--updated-at",
            &stale,
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");

    let common = [
        "check",
        "retrieval",
        "--secret-id",
        &fx.secret_id,
        "--checkpoint-parameter",
        &parameter,
        "--state-table",
        &table,
        "--alert-topic-arn",
        &topic.topic_arn,
    ];
    let mut dry = common.to_vec();
    dry.extend(["--dry-run", "--json"]);
    let run = ops(&dry, None).await;
    assert!(run.code == 3 || run.code == 4, "{run:?}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["dryRun"], true);
    assert_eq!(doc["report"]["systems"][0]["backlog"]["count"], 1);
    let notes = doc["notifications"].as_array().unwrap();
    assert!(notes.len() >= 2, "{notes:?}");
    assert!(notes.iter().all(|n| n["published"] == false));
    assert!(
        topic.drain().await.is_empty(),
        "a dry run publishes nothing"
    );
    let ddb = aws_sdk_dynamodb::Client::new(&fx.cfg);
    let items = ddb.scan().table_name(&table).send().await.unwrap().count;
    assert_eq!(items, 0, "a dry run writes no alert state");
    assert_no_secret(&run, &[PASSWORD]);

    // Human output of a dry run shows the e-mails that would go out.
    let mut human = common.to_vec();
    human.extend(["--dry-run", "--no-color"]);
    let run = ops(&human, None).await;
    assert!(run.stdout.contains("Retrieval check: "), "{}", run.stdout);
    assert!(
        run.stdout.contains("heartbeat") && run.stdout.contains("stale"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("would be sent") && run.stdout.contains("Subject: [WARNING]"),
        "{}",
        run.stdout
    );

    // A real run: exactly the scheduled function's effect.
    let run = ops(&common, None).await;
    assert!(run.code == 3 || run.code == 4, "{run:?}");
    assert!(
        run.stdout.contains("Notifications published"),
        "{}",
        run.stdout
    );
    let sent = topic.drain().await;
    assert_eq!(sent.len(), notes.len(), "{sent:?}");
    let items = ddb.scan().table_name(&table).send().await.unwrap().count;
    assert!(items >= 2, "alert state recorded");
    // And `status` now lists the open alerts, exiting with the warning code.
    let run = ops(
        &[
            "status",
            "--secret-id",
            &fx.secret_id,
            "--checkpoint-parameter",
            &parameter,
            "--state-table",
            &table,
        ],
        None,
    )
    .await;
    assert!(run.code == 3 || run.code == 4, "{run:?}");
    assert!(
        run.stdout.contains("retrieval has stalled"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn check_certificates_dry_run_reports_days_left() {
    let cfg = Moto::shared().sdk_config().await;
    let sm = Sm::new(&cfg);
    let secret = unique("cert");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["signing.example.fi".to_owned()]).unwrap();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(300);
    params.not_after = now + time::Duration::days(10) + time::Duration::hours(1);
    let cert = params.self_signed(&key).unwrap();
    sm.create_secret()
        .name(&secret)
        .secret_string(cert.pem())
        .send()
        .await
        .unwrap();
    let targets = json!([{"name": "via-signing", "secret": secret, "role": "signing"}]).to_string();
    let run = ops(
        &[
            "check",
            "certificates",
            "--cert-targets",
            &targets,
            "--dry-run",
            "--no-color",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("via-signing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("warning") && run.stdout.contains(" 10 "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Subject: [WARNING]"), "{}", run.stdout);
    // A malformed CERT_TARGETS is a usage error naming the problem.
    let run = ops(
        &[
            "check",
            "certificates",
            "--cert-targets",
            "[{\"name\":1}]",
            "--dry-run",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[tokio::test]
async fn rotate_refuses_clearly_and_reports_what_secrets_manager_said() {
    let fx = Fixture::new(None).await;
    let run = ops(&["rotate", "--secret-id", &fx.secret_id], None).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("rotation is not turned on"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("RotationEnabled"), "{}", run.stderr);

    // Rotation enabled, and a rotation left unfinished (AWSPENDING on another version).
    integration_tests::moto::start_rotation(&fx.sm, &fx.secret_id).await;
    let run = ops(&["rotate", "--secret-id", &fx.secret_id], None).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not finished"), "{}", run.stderr);
    assert!(
        run.stderr.contains("suomifi-ops recover --secret-id"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("--remove-from-version-id"),
        "never advise removing AWSPENDING without the probe: {}",
        run.stderr
    );

    // Clear the leftover (here by hand: this secret points at no real API to probe).
    let stages = fx
        .sm
        .describe_secret()
        .secret_id(&fx.secret_id)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages
        .unwrap_or_default();
    let (pending, _) = stages
        .iter()
        .find(|(_, s)| {
            s.contains(&"AWSPENDING".to_owned()) && !s.contains(&"AWSCURRENT".to_owned())
        })
        .unwrap();
    fx.sm
        .update_secret_version_stage()
        .secret_id(&fx.secret_id)
        .version_stage("AWSPENDING")
        .remove_from_version_id(pending)
        .send()
        .await
        .unwrap();
    // RotateSecret without a function ARN makes moto rotate by itself (a new version with a
    // copy of the value, labels moved as finishSecret would): enough to see the CLI follow the
    // stages to the end. In AWS the deployed rotate-password function does these steps.
    let run = ops(
        &[
            "rotate",
            "--secret-id",
            &fx.secret_id,
            "--timeout",
            "20",
            "--poll-seconds",
            "1",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let order = [
        "RotateSecret accepted",
        "createSecret",
        "finishSecret made",
        "rotation complete",
        "Rotation complete in",
    ];
    let mut at = 0;
    for step in order {
        let found = run.stdout[at..]
            .find(step)
            .unwrap_or_else(|| panic!("`{step}` missing or out of order:\n{}", run.stdout));
        at += found;
    }
    assert_no_secret(&run, &[PASSWORD]);
}

#[tokio::test]
async fn the_demo_runs_end_to_end() {
    let out = tokio::process::Command::new(integration_tests::binary("demo"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Every step behaved as expected"),
        "{stdout}"
    );
    for subject in ["[WARNING]", "[RESOLVED]", "Certificate change"] {
        assert!(stdout.contains(subject), "{subject} missing");
    }
}

#[tokio::test]
async fn status_and_check_retrieval_show_every_system_worst_first() {
    let fx = Fixture::new(None).await;
    // A second system whose secret holds a password Suomi.fi refuses.
    let other_user = unique("system-cli-b");
    let other_password = "Cli-other-password-0000000000000000000000!";
    fx.sandbox.add_system(&other_user, other_password).unwrap();
    let other_secret = unique("cli-credentials-b");
    fx.sm
        .create_secret()
        .name(&other_secret)
        .secret_string(
            json!({"username": other_user, "password": "Not-the-password-00000000000000000000000!", "apiUrl": fx.sandbox.base_url()})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let systems = json!([
        {"name": "early-education", "secret": fx.secret_id},
        {"name": "social-services", "secret": other_secret},
    ])
    .to_string();

    let run = ops(&["status", "--systems", &systems, "--no-color"], None).await;
    assert_eq!(run.code, 4, "a refused password is critical: {run:?}");
    let out = &run.stdout;
    for expected in [
        "Retrieval (2 systems, worst first)",
        "SYSTEM",
        "DAYS TO DELETION",
    ] {
        assert!(out.contains(expected), "`{expected}` missing:\n{out}");
    }
    let (worst, fine) = (
        out.find("social-services").expect("row"),
        out.find("early-education").expect("row"),
    );
    assert!(worst < fine, "the worst first:\n{out}");
    assert!(
        out.contains(&other_secret),
        "both secrets in the credentials table:\n{out}"
    );
    assert_no_secret(&run, &[PASSWORD, other_password]);

    let run = ops(
        &[
            "check",
            "retrieval",
            "--systems",
            &systems,
            "--dry-run",
            "--json",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 4, "{run:?}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["report"]["status"], "critical");
    assert_eq!(doc["report"]["summary"]["systems"], 2);
    assert_eq!(doc["report"]["systems"][0]["system"], "early-education");
    assert_eq!(
        doc["report"]["systems"][1]["credentials"]["status"],
        "refused"
    );
    let notes = doc["notifications"].as_array().unwrap();
    assert!(
        notes.iter().all(|n| n["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("[social-services]")),
        "only the refused system would alert: {notes:?}"
    );

    // A malformed list is a usage error naming the entry and the field.
    let run = ops(
        &[
            "check",
            "retrieval",
            "--systems",
            r#"[{"name":"a"}]"#,
            "--dry-run",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("entry #1 (`a`): has no `secret`"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn check_updates_dry_run_reads_a_built_binary_alerts_on_a_linked_version_and_publishes_nothing()
 {
    let osv = integration_tests::osv::OsvStandIn::start().await;
    let binary = integration_tests::binary("check-updates");
    let list = suomifi_shared::deps::find_in_binary(&std::fs::read(&binary).unwrap())
        .expect("check-updates carries its dependency list");
    let tokio_crate = list.crates.iter().find(|c| c.name == "tokio").unwrap();
    let v = semver::Version::parse(&tokio_crate.version).unwrap();
    osv.publish(json!({
        "id": "RUSTSEC-2099-0777",
        "summary": "test advisory for tokio",
        "affected": [{
            "package": {"name": "tokio", "ecosystem": "crates.io"},
            "ranges": [{"type": "SEMVER", "events": [
                {"introduced": "0"}, {"fixed": format!("{}.{}.{}", v.major, v.minor, v.patch + 1)}
            ]}]
        }]
    }));
    let run = ops(
        &[
            "check",
            "updates",
            "--dry-run",
            "--json",
            "--binary",
            binary.to_str().unwrap(),
            "--osv-api-url",
            &osv.base,
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 4, "{}", run.all());
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["report"]["status"], "affected");
    assert_eq!(doc["report"]["dependencyList"]["package"], "check-updates");
    let notes = doc["notifications"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["key"] == "updates/advisory/RUSTSEC-2099-0777/tokio"
                && n["published"] == false),
        "{notes:#?}"
    );
    // Plain http to anything but loopback is refused, naming the option.
    let run = ops(
        &[
            "check",
            "updates",
            "--dry-run",
            "--osv-api-url",
            "http://api.osv.dev",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.all().contains("--osv-api-url"), "{}", run.all());
}
