//! `watch-access` end to end: the real binary through the Lambda Runtime API, against moto's
//! Secrets Manager, DynamoDB (the ledger), SNS (read back through an SQS subscription) and
//! EventBridge Scheduler, driven with the CloudTrail fixtures of `events/` (moto has no
//! CloudTrail and never fires rules or schedules: the test delivers what EventBridge would).
//!
//! How the rotation request is observed: the secrets here have no rotation function configured,
//! so moto's `RotateSecret` completes a stand-in rotation itself — a new `AWSCURRENT` version and
//! a `LastRotatedDate` — which is exactly what the test reads back. (In AWS the same call starts
//! the configured rotate-password function.)

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::moto::{Moto, TopicProbe, create_state_table};
use integration_tests::runtime::LambdaFunction;
use integration_tests::{unique, workspace_root};
use serde_json::{Value, json};

/// In every secret's value, so that the logs can be searched for it.
const PASSWORD: &str = "Pw-watch-access-must-never-appear-7f3a";
const WORKLOAD_ROLE: &str = "arn:aws:iam::123456789012:role/stack-CheckRetrievalRole-BBB";

struct Setup {
    f: LambdaFunction,
    topic: TopicProbe,
    sm: aws_sdk_secretsmanager::Client,
    ddb: aws_sdk_dynamodb::Client,
    scheduler: aws_sdk_scheduler::Client,
    table: String,
    arn: String,
    name: String,
    group: String,
}

impl Setup {
    async fn start(minutes: &str) -> Setup {
        let moto = Moto::shared();
        let cfg = moto.sdk_config().await;
        let table = create_state_table(&cfg).await;
        let topic = TopicProbe::create(&cfg).await;
        let sm = aws_sdk_secretsmanager::Client::new(&cfg);
        let name = unique("suomifi/watched");
        let arn = sm
            .create_secret()
            .name(&name)
            .secret_string(
                json!({"username": "system-1", "password": PASSWORD, "apiUrl": "https://api.example"})
                    .to_string(),
            )
            .send()
            .await
            .expect("create secret")
            .arn
            .expect("arn");
        let scheduler = aws_sdk_scheduler::Client::new(&cfg);
        let group = unique("watch");
        scheduler
            .create_schedule_group()
            .name(&group)
            .send()
            .await
            .expect("create schedule group");
        let mut env = moto.env();
        env.extend(
            [
                ("STATE_TABLE", table.as_str()),
                ("ALERT_TOPIC_ARN", topic.topic_arn.as_str()),
                ("WATCHED_SECRET_ARNS", arn.as_str()),
                ("WORKLOAD_ROLE_ARNS", WORKLOAD_ROLE),
                ("EXPOSURE_ROTATE_AFTER_MINUTES", minutes),
                (
                    "SCHEDULER_ROLE_ARN",
                    "arn:aws:iam::123456789012:role/scheduler",
                ),
                ("SCHEDULE_GROUP", group.as_str()),
                (
                    "SCHEDULE_DEAD_LETTER_ARN",
                    "arn:aws:sqs:eu-north-1:123456789012:dead-letters",
                ),
                (
                    "BREAK_GLASS_ROLE_ARN",
                    "arn:aws:iam::123456789012:role/break-glass",
                ),
                ("STACK_NAME", "watch-test"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let f = LambdaFunction::start("watch-access", env).await;
        Setup {
            f,
            topic,
            sm,
            ddb: aws_sdk_dynamodb::Client::new(&cfg),
            scheduler,
            table,
            arn,
            name,
            group,
        }
    }

    /// A fixture, naming this test's secret (as its ARN, or `by_name`), with a fresh event id
    /// and the given event time.
    fn event(&self, fixture: &str, by_name: bool, at: time::OffsetDateTime) -> Value {
        let path = workspace_root().join("events").join(fixture);
        let mut e: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture"))
            .expect("fixture JSON");
        let id = if by_name {
            self.name.clone()
        } else {
            self.arn.clone()
        };
        let params = &mut e["detail"]["requestParameters"];
        if params.get("secretId").is_some() {
            params["secretId"] = json!(id);
        }
        if params.get("secretIdList").is_some() {
            params["secretIdList"] = json!([id, "someone/else"]);
        }
        let t = at
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        e["detail"]["eventTime"] = json!(t);
        e["time"] = json!(t);
        e["detail"]["eventID"] = json!(unique("event"));
        e
    }

    async fn current_version(&self) -> (String, Option<i64>) {
        let d = self
            .sm
            .describe_secret()
            .secret_id(&self.arn)
            .send()
            .await
            .expect("describe");
        let current = d
            .version_ids_to_stages()
            .unwrap()
            .iter()
            .find(|(_, s)| s.iter().any(|x| x == "AWSCURRENT"))
            .map(|(v, _)| v.clone())
            .expect("AWSCURRENT");
        (current, d.last_rotated_date().map(|t| t.secs()))
    }

    async fn ledger(&self) -> Option<Value> {
        let item = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("access#{}", self.arn)))
            .send()
            .await
            .expect("get item")
            .item?;
        let ttl: i64 = item
            .get("ttl")
            .and_then(|t| t.as_n().ok())
            .expect("a ttl")
            .parse()
            .unwrap();
        let days = (ttl - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
        assert!((399..=400).contains(&days), "ttl {days} days ahead");
        Some(serde_json::from_str(item.get("data").unwrap().as_s().unwrap()).unwrap())
    }

    async fn schedules(&self) -> Vec<String> {
        self.scheduler
            .list_schedules()
            .group_name(&self.group)
            .send()
            .await
            .expect("list schedules")
            .schedules()
            .iter()
            .filter_map(|s| s.name().map(str::to_owned))
            .collect()
    }

    fn assert_no_secret_in_logs(&self) {
        let logs = self.f.logs();
        assert!(!logs.is_empty());
        assert!(
            !logs.contains(PASSWORD),
            "the password appeared in the logs:\n{logs}"
        );
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[tokio::test]
async fn a_persons_read_is_recorded_notified_once_and_rotated_at_once_and_only_once() {
    let mut s = Setup::start("0").await;
    let (before, rotated_before) = s.current_version().await;
    assert!(rotated_before.is_none());
    let read_at = now() - time::Duration::seconds(5);
    let out =
        s.f.invoke(s.event("cloudtrail-GetSecretValue-sso.json", false, read_at))
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", s.f.logs()));
    assert_eq!(out["outcome"], "exposure", "{out}");

    // The ledger names the person, with the retention TTL.
    let ledger = s.ledger().await.expect("a ledger entry");
    assert_eq!(ledger["readers"].as_array().unwrap().len(), 1, "{ledger}");
    assert!(
        ledger["readers"][0]["person"]["display"]
            .as_str()
            .unwrap()
            .starts_with("anna.virtanen@city.fi")
    );
    assert!(ledger["rotation"]["requestedAt"].is_string(), "{ledger}");

    // Exactly one notification, in the secret's thread, naming person and rotation.
    let got = s.topic.drain().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let chat: Value = serde_json::from_str(&got[0].message).unwrap();
    assert_eq!(
        chat["metadata"]["threadId"],
        format!("access/read/{}", s.name)
    );
    let text = chat["content"]["description"].as_str().unwrap();
    assert!(text.contains("read by anna.virtanen@city.fi"), "{text}");
    assert!(text.contains("rotated now"), "{text}");
    assert!(got[0].subject.as_deref().unwrap().is_ascii());

    // Rotation requested: moto's stand-in rotation moved AWSCURRENT and set LastRotatedDate.
    let (after, rotated) = s.current_version().await;
    assert_ne!(after, before, "RotateSecret was not called");
    assert!(rotated.is_some());

    // The same event delivered again, and another read by the same person in the same window
    // (CloudTrail delivers minutes late): no second notification, no second rotation.
    let again = s.event("cloudtrail-GetSecretValue-sso.json", false, read_at);
    s.f.invoke(again.clone()).await.expect("redelivery");
    s.f.invoke(again).await.expect("redelivery");
    s.f.invoke(s.event(
        "cloudtrail-GetSecretValue-sso.json",
        true,
        read_at + time::Duration::seconds(1),
    ))
    .await
    .expect("second read");
    assert!(s.topic.drain().await.is_empty());
    assert_eq!(s.current_version().await.0, after, "rotated twice");
    s.assert_no_secret_in_logs();
}

#[tokio::test]
async fn with_a_delay_one_schedule_is_created_and_a_second_read_adds_none() {
    let mut s = Setup::start("30").await;
    let (before, _) = s.current_version().await;
    s.f.invoke(s.event("cloudtrail-GetSecretValue-sso.json", false, now()))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", s.f.logs()));
    let names = s.schedules().await;
    assert_eq!(names.len(), 1, "{names:?}");
    let sched = s
        .scheduler
        .get_schedule()
        .group_name(&s.group)
        .name(&names[0])
        .send()
        .await
        .expect("get schedule");
    let expr = sched.schedule_expression().unwrap();
    assert!(expr.starts_with("at(") && expr.ends_with(')'), "{expr}");
    let target = sched.target().unwrap();
    assert_eq!(
        target.arn(),
        "arn:aws:lambda:eu-north-1:123456789012:function:test"
    );
    assert_eq!(
        target.role_arn(),
        "arn:aws:iam::123456789012:role/scheduler"
    );
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some("arn:aws:sqs:eu-north-1:123456789012:dead-letters")
    );
    let input: Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(input, json!({"rotateSecret": s.arn}));
    assert_eq!(
        sched.action_after_completion().map(|a| a.as_str()),
        Some("DELETE")
    );
    assert_eq!(s.current_version().await.0, before, "not rotated yet");

    // Another person reads (BatchGetSecretValue by name) in the window: told, no new schedule.
    s.f.invoke(s.event("cloudtrail-BatchGetSecretValue.json", true, now()))
        .await
        .expect("batch read");
    assert_eq!(s.schedules().await.len(), 1);
    assert_eq!(s.topic.drain().await.len(), 2);
    let ledger = s.ledger().await.unwrap();
    assert_eq!(ledger["readers"].as_array().unwrap().len(), 2, "{ledger}");

    // `suomifi-ops status` lists both readers and when the rotation is due.
    let run =
        integration_tests::suomifi_ops(&["status", "--state-table", &s.table, "--json"], None)
            .await;
    let doc: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.all()));
    let readers = doc["readers"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(readers.len(), 2, "{doc:#}");
    assert!(
        readers
            .iter()
            .all(|r| r["secret"] == s.arn.as_str() && r["rotationDueAt"].is_string()),
        "{doc:#}"
    );
    assert!(
        readers.iter().any(|r| r["readBy"] == "IAM user matti"),
        "{doc:#}"
    );
    let run = integration_tests::suomifi_ops(&["status", "--state-table", &s.table], None).await;
    assert!(
        run.stdout.contains("Who has read the password") && run.stdout.contains("IAM user matti"),
        "{}",
        run.all()
    );

    // The schedule fires (the test delivers its input): rotated; fired again: not twice.
    let fire = s.f.invoke(input.clone()).await.expect("fire");
    assert_eq!(fire["outcome"], "rotation-requested", "{fire}");
    let (after, _) = s.current_version().await;
    assert_ne!(after, before);
    let again = s.f.invoke(input).await.expect("fire again");
    assert_eq!(again["outcome"], "rotation-skipped", "{again}");
    assert_eq!(s.current_version().await.0, after);
    s.assert_no_secret_in_logs();
}

#[tokio::test]
async fn the_workloads_own_read_and_unknown_events_do_nothing_and_succeed() {
    let mut s = Setup::start("0").await;
    let (before, _) = s.current_version().await;
    for event in [
        s.event("cloudtrail-GetSecretValue-workload.json", false, now()),
        json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "ListSecrets"}}),
        json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
        json!({"rotateSecret": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:other-AbCdEf"}),
        json!([]),
    ] {
        let out =
            s.f.invoke(event.clone())
                .await
                .unwrap_or_else(|e| panic!("{event}: {e:?}\n{}", s.f.logs()));
        assert_eq!(out["outcome"], "ignored", "{event}: {out}");
    }
    assert!(s.ledger().await.is_none());
    assert!(s.topic.drain().await.is_empty());
    assert_eq!(s.current_version().await.0, before);
    s.assert_no_secret_in_logs();
}

#[tokio::test]
async fn deleting_a_user_who_read_the_password_rotates_it_at_once() {
    let mut s = Setup::start("60").await;
    let (before, _) = s.current_version().await;
    s.f.invoke(s.event("cloudtrail-GetSecretValue-iam-user.json", true, now()))
        .await
        .expect("read");
    assert_eq!(s.topic.drain().await.len(), 1);
    assert_eq!(s.current_version().await.0, before, "delayed: not yet");
    let out =
        s.f.invoke(s.event("cloudtrail-iam-DeleteUser.json", false, now()))
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", s.f.logs()));
    assert_eq!(out["rotated"], json!([s.arn]), "{out}");
    assert_ne!(
        s.current_version().await.0,
        before,
        "the leaver's password was not rotated"
    );
    let got = s.topic.drain().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let chat: Value = serde_json::from_str(&got[0].message).unwrap();
    let text = chat["content"]["description"].as_str().unwrap();
    assert!(text.contains("IAM user matti was deleted"), "{text}");
    s.assert_no_secret_in_logs();
}

#[tokio::test]
async fn a_policy_change_alerts_and_the_daily_comparison_resolves_it() {
    let mut s = Setup::start("60").await;
    let out =
        s.f.invoke(s.event("cloudtrail-PutResourcePolicy.json", false, now()))
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", s.f.logs()));
    assert_eq!(out["outcome"], "policy-changed", "{out}");
    let got = s.topic.drain().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].subject.as_deref().unwrap().starts_with("[CRITICAL]"),
        "{:?}",
        got[0].subject
    );

    // The stack's policy put back (as the template writes it): the daily run resolves the alert.
    let allowed = [
        WORKLOAD_ROLE.to_owned(),
        "arn:aws:iam::123456789012:role/break-glass".to_owned(),
    ];
    s.sm.put_resource_policy()
        .secret_id(&s.arn)
        .resource_policy(watch_access::policy::expected(&allowed).to_string())
        .send()
        .await
        .expect("put policy");
    let out =
        s.f.invoke(json!({"source": "suomifi-ops.scheduler", "check": "access-policies"}))
            .await
            .unwrap_or_else(|e| panic!("{e:?}\n{}", s.f.logs()));
    assert_eq!(out["secrets"][0]["same"], true, "{out}");
    let got = s.topic.drain().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].subject.as_deref().unwrap().starts_with("[RESOLVED]"),
        "{:?}",
        got[0].subject
    );
    s.assert_no_secret_in_logs();
}
