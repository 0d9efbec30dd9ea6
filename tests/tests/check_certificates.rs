//! `check-certificates` end to end: the real binary through the Lambda Runtime API, against
//! moto's Secrets Manager, Certificate Manager, DynamoDB (state table) and SNS (read back through
//! an SQS subscription). Certificates are made by rcgen at test
//! time. (Decoding, thresholds, the change advisor and the TLS probe are covered in depth by the
//! function crate's own tests; here the wiring is under test.)

use integration_tests::moto::{Delivered, Moto, TopicProbe, create_state_table};
use integration_tests::runtime::{InvokeError, LambdaFunction};
use integration_tests::unique;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let t = now();
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = true;
    p.not_before = t - days(1000);
    p.not_after = t + days(3000);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// A leaf for `cn` expiring in `in_days`, issued 300 days ago: (certificate PEM, key PEM, DER).
fn leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    cn: &str,
    in_days: i64,
) -> (String, String, Vec<u8>) {
    let t = now();
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![cn.to_owned()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p.not_before = t - days(300);
    p.not_after = t + days(in_days);
    let cert = p.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

fn chat(d: &Delivered) -> Value {
    serde_json::from_str(&d.message).expect("chat JSON body")
}

fn find<'a>(got: &'a [Delivered], key: &str) -> Option<&'a Delivered> {
    got.iter().find(|d| chat(d)["metadata"]["threadId"] == key)
}

#[tokio::test]
async fn checks_secret_acm_and_tls_targets_notifies_once_and_advises_on_a_changed_signing_certificate()
 {
    let moto = Moto::shared();
    let cfg = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let acm = aws_sdk_acm::Client::new(&cfg);
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let table = create_state_table(&cfg).await;
    let topic = TopicProbe::create(&cfg).await;

    let root = ca("E2E Root");
    // Signing certificate in Secrets Manager, beside its private key, expiring in 20 days.
    let (sign_pem, sign_key, _) = leaf(&root, "signing.org.example", 20);
    let signing_secret = unique("via-signing");
    sm.create_secret()
        .name(&signing_secret)
        .secret_string(json!({"pem": format!("{sign_pem}{sign_key}")}).to_string())
        .send()
        .await
        .unwrap();
    // A secret holding something that is not a certificate.
    let broken_secret = unique("broken");
    sm.create_secret()
        .name(&broken_secret)
        .secret_string("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
        .send()
        .await
        .unwrap();
    // An imported ACM certificate, valid for 200 days, with its chain.
    let (web_pem, web_key, _) = leaf(&root, "www.org.example", 200);
    let web_arn = acm
        .import_certificate()
        .certificate(aws_sdk_acm::primitives::Blob::new(web_pem.as_bytes()))
        .private_key(aws_sdk_acm::primitives::Blob::new(web_key.as_bytes()))
        .certificate_chain(aws_sdk_acm::primitives::Blob::new(root.pem().as_bytes()))
        .send()
        .await
        .unwrap()
        .certificate_arn
        .unwrap();
    // A TLS endpoint where nothing listens (the TLS probe against live servers is tested in
    // the function crate, which has a TLS server stack).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let targets = json!([
        {"name": "via-signing", "secret": signing_secret, "jsonKey": "pem", "role": "signing"},
        {"name": "broken", "secret": broken_secret},
        {"name": "web", "acm": web_arn},
        {"name": "api", "tls": format!("127.0.0.1:{port}"), "sni": "api.example.test"},
    ]);
    let mut env = moto.env();
    env.extend([
        ("CERT_TARGETS".to_owned(), targets.to_string()),
        ("STATE_TABLE".to_owned(), table.clone()),
        ("ALERT_TOPIC_ARN".to_owned(), topic.topic_arn.clone()),
        ("PROBE_TIMEOUT_SECONDS".to_owned(), "5".to_owned()),
    ]);
    let mut f = LambdaFunction::start("check-certificates", env).await;

    // An EventBridge Scheduler input, passed verbatim.
    let report = f
        .invoke(json!({"source": "suomifi-ops.scheduler", "check": "certificates"}))
        .await
        .expect("report");
    let status = |name: &str| {
        report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == name)
            .map(|t| t["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status("via-signing"), "warning");
    assert_eq!(status("broken"), "unreadable");
    assert_eq!(status("web"), "ok");
    assert_eq!(status("api"), "unreachable");
    // ACM returns the imported chain (moto appends an Amazon CA, as AWS may).
    let web_findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "web")
        .count();
    assert!(web_findings >= 2, "{report}");

    let got = topic.drain().await;
    assert_eq!(
        got.len(),
        3,
        "{:#?}",
        got.iter().map(|d| &d.subject).collect::<Vec<_>>()
    );
    let expiry = find(&got, "certificates/via-signing/expiry").expect("expiry alert");
    assert!(
        expiry
            .subject
            .as_deref()
            .unwrap()
            // 20 days from its creation, some seconds ago: 19 whole days left.
            .starts_with("[WARNING] Suomi.fi: certificate `via-signing` expires in 19 days")
    );
    let steps = chat(expiry)["content"]["nextSteps"].to_string();
    assert!(
        steps.contains("organisaatiopalvelut@dvv.fi"),
        "DVV's rule ahead of time: {steps}"
    );
    assert!(find(&got, "certificates/broken/source").is_some());
    let api = find(&got, "certificates/api/source").expect("unreachable alert");
    assert!(api.subject.as_deref().unwrap().starts_with("[WARNING]"));

    // Metrics and the summary line went to the log; the private key did not.
    let logs = f.logs();
    assert!(logs.contains("\"DaysToExpiry\""), "{logs}");
    assert!(logs.contains("certificate check finished"), "{logs}");
    let key_body: String = sign_key.lines().nth(1).unwrap().to_owned();
    assert!(!logs.contains(&key_body));
    assert!(!report.to_string().contains(&key_body));

    // The state table remembers the signing certificate.
    let item = ddb
        .get_item()
        .table_name(&table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("certificate#via-signing".into()),
        )
        .send()
        .await
        .unwrap();
    assert!(item.item.is_some());

    // A second run notifies nothing new.
    f.invoke(json!({})).await.expect("second report");
    assert!(topic.drain().await.is_empty());

    // A new signing certificate from another CA with another name: the old expiry alert is
    // resolved, and DVV's instruction comes with the certificate's public part.
    let other_ca = ca("E2E Other CA");
    let (new_pem, new_key, new_der) = leaf(&other_ca, "signing2.org.example", 400);
    sm.put_secret_value()
        .secret_id(&signing_secret)
        .secret_string(json!({"pem": format!("{new_pem}{new_key}")}).to_string())
        .send()
        .await
        .unwrap();
    let report = f.invoke(json!({})).await.expect("third report");
    let got = topic.drain().await;
    assert_eq!(
        got.len(),
        2,
        "{:#?}",
        got.iter().map(|d| &d.subject).collect::<Vec<_>>()
    );
    let resolved = find(&got, "certificates/via-signing/expiry").expect("resolved");
    assert!(
        resolved
            .subject
            .as_deref()
            .unwrap()
            .starts_with("[RESOLVED]")
    );
    let notice = got
        .iter()
        .find(|d| {
            chat(d)["metadata"]["threadId"]
                .as_str()
                .unwrap()
                .starts_with("certificates/via-signing/change/")
        })
        .expect("change notice");
    let details = &chat(notice)["metadata"]["additionalContext"];
    assert_eq!(details["To"], "organisaatiopalvelut@dvv.fi");
    assert_eq!(details["Subject"], "Certificate change");
    let pem = details["Certificate (Base64, public part only)"]
        .as_str()
        .unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && !pem.contains("PRIVATE KEY"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert_eq!(body, b64(&new_der));
    let via = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "via-signing")
        .unwrap();
    assert_eq!(via["change"]["verdict"], "changed");
    assert_eq!(
        via["change"]["dvvSubmission"]["subject"],
        "Certificate change"
    );
}

#[tokio::test]
async fn malformed_cert_targets_fail_at_start_with_a_clear_message() {
    let moto = Moto::shared();
    let mut env = moto.env();
    env.extend([
        (
            "CERT_TARGETS".to_owned(),
            r#"[{"name": "api", "tls": "api.messages.suomi.fi", "acm": "arn"}]"#.to_owned(),
        ),
        ("STATE_TABLE".to_owned(), "unused".to_owned()),
    ]);
    let mut f = LambdaFunction::start("check-certificates", env).await;
    let err = f
        .invoke_within(json!({}), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::NoAnswer(_)), "{err:?}");
    let logs = f.logs();
    assert!(logs.contains("CheckCertificates.Config"), "{logs}");
    assert!(
        logs.contains("has tls and acm sources: give exactly one of `tls`, `secret`, `acm`"),
        "{logs}"
    );
}

/// Standard Base64 (the crate under test does its own; this keeps the test independent).
fn b64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
