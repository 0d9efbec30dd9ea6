//! `check-retrieval` end to end against the stand-ins: moto (Secrets Manager metadata, SSM
//! Parameter Store, DynamoDB conditional writes, SNS → SQS) and the Suomi.fi sandbox over HTTP.
//!
//! Two layers:
//! - the check in-process with the **real AWS adapters** and a manual clock, so reminders and
//!   horizons are tested by moving time, never by sleeping;
//! - the **real binary** through the Lambda Runtime API stand-in, for the wiring: any JSON
//!   payload, the report as the result, the report and metrics in the logs, no password in them.

use aws_config::SdkConfig;
use check_retrieval::adapters::{SecretsManagerSource, SsmCheckpointSource};
use check_retrieval::evaluate::Thresholds;
use check_retrieval::ports::NoTlsInspector;
use check_retrieval::report::{Report, Status};
use check_retrieval::{CheckError, Checker, Ports, Settings};
use integration_tests::moto::{Delivered, Moto, TopicProbe, create_state_table};
use integration_tests::runtime::LambdaFunction;
use integration_tests::suomifi::{quick_retries, read_all};
use integration_tests::unique;
use serde_json::{Value, json};
use suomifi_sandbox::{
    Endpoint, Event, Fault, FaultRule, RunningSandbox, Sandbox, SandboxConfig, event_types,
};
use suomifi_shared::checkpoint::put_checkpoint;
use suomifi_shared::clock::{Clock, ManualClock};
use suomifi_shared::notify::SnsNotifier;
use suomifi_shared::secrets::SecretsManager;
use suomifi_shared::sensitive::Password;
use suomifi_shared::state::DynamoStateStore;
use suomifi_shared::suomifi::{ApiBase, ClientConfig, HttpSuomifi, SuomifiClient};
use time::{Duration, OffsetDateTime};

const USER: &str = "system-check";
const PASSWORD: &str = "Check-Retrieval-Password-0123456789-abc!";

type RealChecker = Checker<
    HttpSuomifi,
    SecretsManagerSource<SecretsManager>,
    SsmCheckpointSource,
    DynamoStateStore,
    SnsNotifier,
    ManualClock,
    NoTlsInspector,
>;

struct Fixture {
    cfg: SdkConfig,
    sandbox: RunningSandbox,
    secret_id: String,
    parameter: String,
    table: String,
    topic: TopicProbe,
    clock: ManualClock,
    reminder: Duration,
}

impl Fixture {
    async fn new() -> Fixture {
        let moto = Moto::shared();
        let cfg = moto.sdk_config().await;
        let sandbox = Sandbox::start(SandboxConfig::new(USER, PASSWORD))
            .await
            .unwrap();
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        sandbox.set_clock(suomifi_sandbox::Clock::Fixed(now));
        let secret_id = unique("suomifi-api");
        aws_sdk_secretsmanager::Client::new(&cfg)
            .create_secret()
            .name(&secret_id)
            .secret_string(
                json!({"username": USER, "password": PASSWORD, "apiUrl": sandbox.base_url()})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        let table = create_state_table(&cfg).await;
        let topic = TopicProbe::create(&cfg).await;
        Fixture {
            sandbox,
            secret_id,
            parameter: format!("/{}/checkpoint", unique("retriever")),
            table,
            topic,
            clock: ManualClock::new(now),
            reminder: Duration::hours(24),
            cfg,
        }
    }

    fn settings(&self) -> Settings {
        Settings {
            system: "check".into(),
            name_in_titles: false,
            secret_id: self.secret_id.clone(),
            thresholds: Thresholds::default(),
            reminder: self.reminder,
            max_pages: 5_000,
        }
    }

    fn checker_with(&self, table: &str, topic_arn: &str) -> RealChecker {
        Checker::new(
            self.settings(),
            Ports {
                suomifi: HttpSuomifi::new(quick_retries()),
                credentials: SecretsManagerSource::new(
                    SecretsManager::new(aws_sdk_secretsmanager::Client::new(&self.cfg)),
                    &self.secret_id,
                ),
                checkpoint: Some(SsmCheckpointSource::new(
                    aws_sdk_ssm::Client::new(&self.cfg),
                    &self.parameter,
                )),
                store: DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&self.cfg), table),
                notifier: SnsNotifier::new(aws_sdk_sns::Client::new(&self.cfg), topic_arn),
                clock: self.clock.clone(),
                tls: NoTlsInspector,
            },
        )
    }

    fn checker(&self) -> RealChecker {
        self.checker_with(&self.table, &self.topic.topic_arn)
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sandbox.advance_clock(by);
    }

    /// What a retriever does after a successful poll, with the shared helper.
    async fn retriever_polls(&self, at: OffsetDateTime) {
        let token = self.read_to_end().await;
        put_checkpoint(
            &aws_sdk_ssm::Client::new(&self.cfg),
            &self.parameter,
            &token,
            at,
        )
        .await
        .unwrap();
    }

    /// The token a retriever that has read everything resumes from.
    async fn read_to_end(&self) -> String {
        read_all(&self.sandbox.base_url(), USER, PASSWORD).await
    }

    async fn put_raw_parameter(&self, value: &str) {
        aws_sdk_ssm::Client::new(&self.cfg)
            .put_parameter()
            .name(&self.parameter)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }

    fn key(&self, kind: &str) -> String {
        match kind {
            "heartbeat" | "checkpoint" => {
                format!(
                    "retrieval/{kind}/{}",
                    self.parameter.trim_start_matches('/')
                )
            }
            _ => format!("retrieval/{kind}/{}", self.secret_id),
        }
    }

    async fn delivered(&self) -> Vec<Delivered> {
        self.topic.drain().await
    }
}

fn outcome<'a>(r: &'a Report, key: &str) -> &'a str {
    r.alerts
        .iter()
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("no {key} in {:?}", r.alerts))
        .outcome
}

/// The chat JSON SNS delivered to the SQS subscriber (the `default` body).
fn chat(d: &Delivered) -> Value {
    serde_json::from_str(&d.message).expect("chat JSON")
}

#[tokio::test]
async fn a_healthy_retriever_writing_with_the_shared_helper_gets_no_notification() {
    let fx = Fixture::new().await;
    fx.sandbox
        .add_event(Event::end_user_message(1, "svc").at(fx.now() - Duration::days(1)));
    fx.retriever_polls(fx.now() - Duration::minutes(2)).await;

    // The helper wrote the documented contract: a String parameter holding the JSON.
    let stored = aws_sdk_ssm::Client::new(&fx.cfg)
        .get_parameter()
        .name(&fx.parameter)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(
        stored.r#type,
        Some(aws_sdk_ssm::types::ParameterType::String)
    );
    let value: Value = serde_json::from_str(stored.value().unwrap()).unwrap();
    assert!(
        value["continuationToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(value["updatedAt"].as_str().unwrap().ends_with('Z'));

    let report = fx.checker().run(None).await.unwrap();

    assert_eq!(report.status, Status::Ok, "{report:#?}");
    assert_eq!(report.heartbeat.as_ref().unwrap().age_minutes, 2.0);
    assert_eq!(report.backlog.as_ref().unwrap().count, 0);
    assert_eq!(report.password_age.age_days, Some(0.0));
    assert_eq!(report.password_age.basis, Some("LastChangedDate"));
    assert!(fx.delivered().await.is_empty());
}

#[tokio::test]
async fn a_stopped_retriever_opens_reminds_and_resolves_through_dynamodb_and_sns() {
    let mut fx = Fixture::new().await;
    fx.reminder = Duration::hours(6);
    let checker = fx.checker();
    fx.retriever_polls(fx.now() - Duration::minutes(50)).await;
    let key = fx.key("heartbeat");

    let r1 = checker.run(None).await.unwrap();
    assert_eq!(outcome(&r1, &key), "opened");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].subject
            .as_deref()
            .unwrap()
            .starts_with("[WARNING] Suomi.fi: retrieval has stalled"),
        "{:?}",
        d[0].subject
    );
    assert_eq!(chat(&d[0])["metadata"]["threadId"], key.as_str());

    fx.advance(Duration::minutes(15));
    assert_eq!(
        outcome(&checker.run(None).await.unwrap(), &key),
        "unchanged"
    );
    assert!(fx.delivered().await.is_empty());

    fx.advance(Duration::hours(6));
    assert_eq!(outcome(&checker.run(None).await.unwrap(), &key), "reminded");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1);
    assert!(
        d[0].subject
            .as_deref()
            .unwrap()
            .contains("still open after")
    );

    fx.retriever_polls(fx.now()).await;
    let r4 = checker.run(None).await.unwrap();
    assert_eq!(outcome(&r4, &key), "resolved");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1);
    assert!(d[0].subject.as_deref().unwrap().starts_with("[RESOLVED]"));
    assert_eq!(chat(&d[0])["metadata"]["threadId"], key.as_str());
}

#[tokio::test]
async fn a_backlog_over_several_pages_and_services_near_the_horizon_is_critical() {
    let fx = Fixture::new().await;
    fx.sandbox.set_page_size(2).unwrap();
    fx.retriever_polls(fx.now() - Duration::minutes(5)).await;
    let now = fx.now();
    for (id, svc, age) in [
        (1, "svc-a", Duration::days(57)),
        (2, "svc-b", Duration::hours(2)),
        (3, "svc-a", Duration::days(1)),
        (4, "svc-c", Duration::minutes(10)),
    ] {
        fx.sandbox
            .add_event(Event::end_user_message(id, svc).at(now - age));
        fx.sandbox
            .add_event(Event::for_message(event_types::MESSAGE_READ, 100 + id, svc).at(now - age));
    }
    fx.sandbox
        .add_event(Event::new("A type nobody has heard of").at(now - Duration::days(59)));

    let report = fx.checker().run(None).await.unwrap();

    let b = report.backlog.as_ref().unwrap();
    assert_eq!((b.count, b.over_grace_count, b.events_read), (4, 3, 9));
    assert_eq!(b.pages_read, 6);
    assert_eq!(b.days_until_deletion, Some(3.0));
    assert_eq!(b.by_service["svc-a"].count, 2);
    assert_eq!(b.by_service["svc-b"].count, 1);
    assert_eq!(b.by_service["svc-c"].count, 1);
    assert_eq!(report.status, Status::Critical);
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1, "{d:?}");
    let subject = d[0].subject.as_deref().unwrap();
    assert!(subject.starts_with("[CRITICAL]"), "{subject}");
    assert!(subject.contains("4 citizens' messages"), "{subject}");
    let details = &chat(&d[0])["metadata"]["additionalContext"];
    assert_eq!(details["Days until deletion"], "3.0");
    assert!(
        details["Service svc-a"]
            .as_str()
            .unwrap()
            .starts_with("2 waiting")
    );
}

#[tokio::test]
async fn refused_credentials_and_a_failing_api_are_critical_alerts_not_failed_runs() {
    let fx = Fixture::new().await;
    fx.retriever_polls(fx.now()).await;
    let key = fx.key("credentials");

    fx.sandbox
        .set_password("Rotated-Elsewhere-0123456789-abcdefghij!");
    let refused = fx.checker().run(None).await.unwrap();
    assert_eq!(refused.credentials.status, "refused");
    assert_eq!(outcome(&refused, &key), "opened");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1);
    assert!(d[0].subject.as_deref().unwrap().starts_with("[CRITICAL]"));

    fx.sandbox.set_password(PASSWORD);
    fx.sandbox
        .add_fault(FaultRule::always(
            Endpoint::Events,
            Fault::ServerError { status: 500 },
        ))
        .unwrap();
    let down = fx.checker().run(None).await.unwrap();
    assert_eq!(down.credentials.status, "unreachable");
    assert_eq!(down.status, Status::Critical);
    // Same key, same severity: no second notice while it stays open.
    assert_eq!(outcome(&down, &key), "unchanged");

    fx.sandbox.clear_faults();
    let healed = fx.checker().run(None).await.unwrap();
    assert_eq!(outcome(&healed, &key), "resolved");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1);
    assert!(d[0].subject.as_deref().unwrap().starts_with("[RESOLVED]"));
}

#[tokio::test]
async fn a_malformed_or_missing_checkpoint_parameter_is_its_own_alert() {
    let fx = Fixture::new().await;
    let key = fx.key("checkpoint");

    let missing = fx.checker().run(None).await.unwrap();
    assert_eq!(missing.checkpoint.as_ref().unwrap().status, "missing");
    assert_eq!(outcome(&missing, &key), "opened");

    fx.put_raw_parameter("retriever was here").await;
    let malformed = fx.checker().run(None).await.unwrap();
    assert_eq!(malformed.checkpoint.as_ref().unwrap().status, "malformed");
    assert_eq!(
        malformed.credentials.status, "ok",
        "the API is still proven"
    );

    let d = fx.delivered().await;
    assert_eq!(d.len(), 1, "one alert for the checkpoint: {d:?}");
    assert!(d[0].subject.as_deref().unwrap().contains("checkpoint"));
}

#[tokio::test]
async fn two_concurrent_runs_publish_one_notification() {
    let fx = Fixture::new().await;
    fx.retriever_polls(fx.now() - Duration::hours(3)).await;
    let (a, b) = (fx.checker(), fx.checker());

    let (ra, rb) = tokio::join!(a.run(None), b.run(None));

    let key = fx.key("heartbeat");
    let outcomes = [
        outcome(ra.as_ref().unwrap(), &key),
        outcome(rb.as_ref().unwrap(), &key),
    ];
    assert!(outcomes.contains(&"opened"), "{outcomes:?}");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1, "{d:?}");
}

#[tokio::test]
async fn a_rotation_left_unfinished_makes_the_password_alert_critical() {
    let fx = Fixture::new().await;
    fx.retriever_polls(fx.now()).await;
    // moto's RotateSecret with an undeployed function leaves rotation enabled and an empty
    // AWSPENDING version behind: a rotation that failed.
    integration_tests::moto::start_rotation(
        &aws_sdk_secretsmanager::Client::new(&fx.cfg),
        &fx.secret_id,
    )
    .await;

    let fresh = fx.checker().run(None).await.unwrap();
    assert!(
        fresh.password_age.rotation_in_progress,
        "{:#?}",
        fresh.password_age
    );
    assert_eq!(fresh.password_age.rotation_failing, None);
    assert_eq!(fresh.password_age.rotation_enabled, Some(true));

    fx.advance(Duration::hours(2));
    fx.retriever_polls(fx.now()).await;
    let later = fx.checker().run(None).await.unwrap();
    assert_eq!(later.password_age.rotation_failing, Some("leftoverPending"));
    assert_eq!(outcome(&later, &fx.key("password-age")), "opened");
    let d = fx.delivered().await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].subject
            .as_deref()
            .unwrap()
            .starts_with("[CRITICAL] Suomi.fi: password rotation is failing"),
        "{:?}",
        d[0].subject
    );
}

#[tokio::test]
async fn when_sns_or_dynamodb_fail_the_run_fails_loudly() {
    let fx = Fixture::new().await;
    fx.retriever_polls(fx.now() - Duration::hours(2)).await;

    let no_topic = fx.checker_with(
        &fx.table,
        "arn:aws:sns:eu-north-1:123456789012:no-such-topic",
    );
    let err = no_topic.run(None).await.unwrap_err();
    assert_eq!(err.error_type(), "CheckRetrieval.AlertingFailed");
    assert!(err.to_string().contains("SNS"), "{err}");
    let CheckError::Alerting { report, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(report.status, Status::Warning);

    // The claim was rolled back: a working run publishes the alert.
    let r = fx.checker().run(None).await.unwrap();
    assert_eq!(outcome(&r, &fx.key("heartbeat")), "opened");
    assert_eq!(fx.delivered().await.len(), 1);

    let no_table = fx.checker_with("no-such-table", &fx.topic.topic_arn);
    let err = no_table.run(None).await.unwrap_err();
    assert_eq!(err.error_type(), "CheckRetrieval.AlertingFailed");
    assert!(err.to_string().contains("no-such-table"), "{err}");
}

// ---- The real binary --------------------------------------------------------------------------

#[tokio::test]
async fn the_binary_accepts_any_schedule_payload_and_returns_the_report() {
    let moto = Moto::shared();
    let cfg = moto.sdk_config().await;
    // Real clocks here: the binary uses the system clock.
    let sandbox = Sandbox::start(SandboxConfig::new(USER, PASSWORD))
        .await
        .unwrap();
    let secret_id = unique("suomifi-api-bin");
    aws_sdk_secretsmanager::Client::new(&cfg)
        .create_secret()
        .name(&secret_id)
        .secret_string(
            json!({"username": USER, "password": PASSWORD, "apiUrl": sandbox.base_url()})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let table = create_state_table(&cfg).await;
    let topic = TopicProbe::create(&cfg).await;
    let parameter = format!("/{}/checkpoint", unique("retriever-bin"));
    let now = OffsetDateTime::now_utc();
    sandbox.add_event(Event::new(event_types::MESSAGE_CREATED).at(now - Duration::hours(4)));
    sandbox.add_event(Event::end_user_message(7, "svc-bin").at(now - Duration::hours(3)));
    // The retriever read the first event, wrote its checkpoint three hours ago, and stopped.
    sandbox.set_page_size(1).unwrap();
    let client = SuomifiClient::new(
        ApiBase::parse(&sandbox.base_url()).unwrap(),
        ClientConfig::default(),
    )
    .unwrap();
    let token = client.token(USER, &Password::new(PASSWORD)).await.unwrap();
    let page = client.events_page(&token.access_token, None).await.unwrap();
    assert_eq!(page.events.len(), 1);
    put_checkpoint(
        &aws_sdk_ssm::Client::new(&cfg),
        &parameter,
        &page.continuation_token,
        now - Duration::hours(3),
    )
    .await
    .unwrap();

    let mut env = moto.env();
    env.extend(
        [
            ("SUOMIFI_SECRET_ID", secret_id.as_str()),
            ("CHECKPOINT_PARAMETER", parameter.as_str()),
            ("STATE_TABLE", table.as_str()),
            ("ALERT_TOPIC_ARN", topic.topic_arn.as_str()),
            ("HEARTBEAT_MAX_AGE_MINUTES", "30"),
            ("BACKLOG_GRACE_MINUTES", "60"),
            ("PASSWORD_MAX_AGE_DAYS", "180"),
            ("REMINDER_HOURS", "24"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut f = LambdaFunction::start("check-retrieval", env).await;

    let eventbridge_rule = json!({
        "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-25T12:00:00Z", "region": "eu-north-1",
        "resources": ["arn:aws:events:eu-north-1:123456789012:rule/check-retrieval"], "detail": {}
    });
    let run = f.invoke(eventbridge_rule).await.expect("report");
    assert_eq!(run["status"], "warning", "{run:#}");
    assert_eq!(run["summary"]["systems"], 1);
    let first = &run["systems"][0];
    assert_eq!(
        first["system"],
        secret_id.as_str(),
        "named after the secret"
    );
    assert_eq!(first["status"], "warning", "{first:#}");
    assert_eq!(first["retrievalWatched"], true);
    assert_eq!(first["credentials"]["status"], "ok");
    assert_eq!(first["tlsVersion"], "none");
    assert_eq!(first["backlog"]["count"], 1);
    assert_eq!(first["backlog"]["byService"]["svc-bin"]["count"], 1);
    assert!(first["heartbeat"]["ageMinutes"].as_f64().unwrap() >= 179.0);
    let d = topic.drain().await;
    assert_eq!(d.len(), 2, "heartbeat and backlog: {d:?}");

    // EventBridge Scheduler's verbatim input, and a bare {}: same check, nothing new to say.
    for payload in [
        json!({"source": "scheduler", "anything": [1, 2]}),
        json!({}),
    ] {
        let run = f.invoke(payload).await.expect("report");
        assert_eq!(run["status"], "warning");
        let r = &run["systems"][0];
        assert!(
            r["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["outcome"] != "opened"),
            "{r:#}"
        );
    }
    assert!(topic.drain().await.is_empty());

    let logs = f.logs();
    assert!(logs.contains("retrieval check report"), "{logs}");
    assert!(
        logs.contains("\"Namespace\":\"SuomifiOps\""),
        "EMF metrics: {logs}"
    );
    assert!(logs.contains("\"BacklogCount\":1"), "{logs}");
    assert!(
        logs.contains(&format!("\"System\":\"{secret_id}\"")),
        "the metrics carry the System dimension: {logs}"
    );
    assert!(!logs.contains(PASSWORD), "the password reached the logs");
}

// ---- Every system in one run --------------------------------------------------------------------

fn system<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["system"] == name)
        .unwrap_or_else(|| panic!("no system {name} in {run:#}"))
}

#[tokio::test]
async fn three_systems_in_one_run_a_stalled_one_alerts_alone_and_a_refused_one_hides_nothing() {
    let moto = Moto::shared();
    let cfg = moto.sdk_config().await;
    let names = ["early-education", "social-services", "case-management"];
    let users: Vec<String> = names.iter().map(|n| unique(n)).collect();
    let passwords: Vec<String> = names
        .iter()
        .map(|n| format!("{n}-Password-0123456789-abcdefgh!"))
        .collect();
    let sandbox = Sandbox::start(
        SandboxConfig::new(&users[0], &passwords[0])
            .with_system(&users[1], &passwords[1])
            .with_system(&users[2], &passwords[2]),
    )
    .await
    .unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let now = OffsetDateTime::now_utc();
    let mut entries = Vec::new();
    let mut secrets = Vec::new();
    let mut parameters = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let secret = unique(&format!("suomifi-{name}"));
        // case-management's secret holds a password Suomi.fi no longer accepts.
        let stored = if i == 2 {
            "Stale-Password-0123456789-abcdefghijk!".to_owned()
        } else {
            passwords[i].clone()
        };
        sm.create_secret()
            .name(&secret)
            .secret_string(
                json!({"username": users[i], "password": stored, "apiUrl": sandbox.base_url()})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        let parameter = format!("/{}/checkpoint", unique(name));
        let handle = sandbox.system(&users[i]).unwrap();
        handle.add_event(Event::new(event_types::MESSAGE_CREATED).at(now - Duration::hours(5)));
        let token = read_all(&sandbox.base_url(), &users[i], &passwords[i]).await;
        // social-services' retriever stopped three hours ago, before a citizen wrote; the
        // stale one's retriever (with its own, working password) is fine.
        let at = if i == 1 {
            now - Duration::hours(3)
        } else {
            now
        };
        put_checkpoint(&ssm, &parameter, &token, at).await.unwrap();
        entries.push(json!({"name": name, "secret": secret, "checkpoint": parameter}));
        secrets.push(secret);
        parameters.push(parameter);
    }
    let social = sandbox.system(&users[1]).unwrap();
    social.add_event(Event::end_user_message(71, "daycare").at(now - Duration::hours(2)));
    let case = sandbox.system(&users[2]).unwrap();
    case.add_event(Event::end_user_message(72, "permits").at(now - Duration::hours(2)));

    let table = create_state_table(&cfg).await;
    let topic = TopicProbe::create(&cfg).await;
    let mut env = moto.env();
    env.extend(
        [
            ("SYSTEMS", json!(entries).to_string()),
            ("STATE_TABLE", table.clone()),
            ("ALERT_TOPIC_ARN", topic.topic_arn.clone()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let mut f = LambdaFunction::start("check-retrieval", env).await;

    let run = f.invoke(json!({})).await.expect("report");
    assert_eq!(run["status"], "critical", "{run:#}");
    assert_eq!(run["summary"]["systems"], 3);
    assert_eq!(run["summary"]["ok"], 1);
    let edu = system(&run, "early-education");
    assert_eq!(edu["status"], "ok", "{edu:#}");
    assert_eq!(edu["backlog"]["count"], 0);
    let stalled = system(&run, "social-services");
    assert_eq!(stalled["status"], "warning", "{stalled:#}");
    assert_eq!(stalled["heartbeat"]["stale"], true);
    assert_eq!(stalled["backlog"]["count"], 1);
    assert_eq!(stalled["backlog"]["byService"]["daycare"]["count"], 1);
    let refused = system(&run, "case-management");
    assert_eq!(refused["status"], "critical", "{refused:#}");
    assert_eq!(refused["credentials"]["status"], "refused");
    // Configured order, whatever finished first.
    let order: Vec<&str> = run["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["system"].as_str().unwrap())
        .collect();
    assert_eq!(order, names);

    let opened = topic.drain().await;
    let subjects: Vec<String> = opened.iter().filter_map(|d| d.subject.clone()).collect();
    assert_eq!(
        opened.len(),
        3,
        "heartbeat + backlog of one, credentials of another: {subjects:?}"
    );
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.contains("[social-services]"))
            .count(),
        2,
        "{subjects:?}"
    );
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.contains("[case-management]"))
            .count(),
        1,
        "{subjects:?}"
    );
    assert!(
        !subjects.iter().any(|s| s.contains("early-education")),
        "{subjects:?}"
    );

    // The same state again: nothing new to say.
    let again = f.invoke(json!({})).await.expect("report");
    assert_eq!(again["status"], "critical");
    assert!(topic.drain().await.is_empty());

    // social-services' retriever catches up; case-management's secret gets the right password.
    let token = read_all(&sandbox.base_url(), &users[1], &passwords[1]).await;
    put_checkpoint(&ssm, &parameters[1], &token, OffsetDateTime::now_utc())
        .await
        .unwrap();
    sm.put_secret_value()
        .secret_id(&secrets[2])
        .secret_string(
            json!({"username": users[2], "password": passwords[2], "apiUrl": sandbox.base_url()})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let healed = f.invoke(json!({})).await.expect("report");
    assert_eq!(
        system(&healed, "social-services")["status"],
        "ok",
        "{healed:#}"
    );
    // With working credentials case-management's own backlog is looked at again: the permit
    // message has waited two hours, past the 60-minute grace.
    let case_now = system(&healed, "case-management");
    assert_eq!(case_now["credentials"]["status"], "ok", "{case_now:#}");
    assert_eq!(case_now["backlog"]["count"], 1);
    let after = topic.drain().await;
    let resolved: Vec<String> = after
        .iter()
        .filter_map(|d| d.subject.clone())
        .filter(|s| s.contains("RESOLVED"))
        .collect();
    assert_eq!(
        resolved
            .iter()
            .filter(|s| s.contains("[social-services]"))
            .count(),
        2,
        "{after:?}"
    );
    assert_eq!(
        resolved
            .iter()
            .filter(|s| s.contains("[case-management]"))
            .count(),
        1,
        "{after:?}"
    );
    let logs = f.logs();
    for name in names {
        assert!(
            logs.contains(&format!("\"System\":\"{name}\"")),
            "{name}'s metrics carry its dimension"
        );
    }
    for p in &passwords {
        assert!(!logs.contains(p.as_str()), "a password reached the logs");
    }
}
