//! The SNS publisher against moto: subscribe an SQS queue, read the message back, check the bodies.

use integration_tests::moto::{Moto, TopicProbe};
use suomifi_shared::notify::{Alert, Notifier, Severity, SnsNotifier};

#[tokio::test]
async fn one_publish_gives_email_and_chat_bodies() {
    let cfg = Moto::shared().sdk_config().await;
    let probe = TopicProbe::create(&cfg).await;
    let n = SnsNotifier::new(aws_sdk_sns::Client::new(&cfg), &probe.topic_arn);
    let mut alert = Alert::new(
        "retrieval/backlog/sys-1",
        Severity::Critical,
        "12 citizens' messages waiting",
        "check-retrieval",
    )
    .detail("Oldest", "2026-10-01T08:00:00Z");
    alert.what_happened = "Messages from end users have not been retrieved.".into();
    alert.next_steps = vec!["Restart the retrieval job.".into()];
    n.publish(&alert).await.unwrap();

    let got = probe.drain().await;
    assert_eq!(got.len(), 1);
    let subject = got[0].subject.as_deref().unwrap();
    assert!(
        subject.starts_with("[CRITICAL] Suomi.fi: 12 citizens"),
        "{subject}"
    );
    // An SQS subscriber receives the `default` body: the chat JSON, which machines parse too.
    let chat: serde_json::Value = serde_json::from_str(&got[0].message).unwrap();
    assert_eq!(chat["version"], "1.0");
    assert_eq!(chat["source"], "custom");
    assert_eq!(chat["content"]["textType"], "client-markdown");
    assert_eq!(chat["metadata"]["threadId"], "retrieval/backlog/sys-1");
    assert_eq!(
        chat["content"]["nextSteps"][0],
        "Restart the retrieval job."
    );
    // The e-mail body is in the published structure; check what SNS was given for email.
    let structure: serde_json::Value = serde_json::from_str(&alert.sns_message()).unwrap();
    assert!(
        structure["email"]
            .as_str()
            .unwrap()
            .contains("Next steps\n1. Restart the retrieval job.")
    );
}

#[tokio::test]
async fn a_missing_topic_is_a_clear_error() {
    let cfg = Moto::shared().sdk_config().await;
    let n = SnsNotifier::new(
        aws_sdk_sns::Client::new(&cfg),
        format!(
            "arn:aws:sns:eu-north-1:123456789012:{}",
            integration_tests::unique("missing")
        ),
    );
    let err = n
        .publish(&Alert::new("k", Severity::Warning, "t", "test"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NotFound"), "{err}");
}
