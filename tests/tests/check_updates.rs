//! `check-updates` end to end: the real binary through the Lambda Runtime API, against moto's
//! DynamoDB (state table) and SNS (read back through an SQS subscription), and the OSV
//! stand-in. The advisory is for a crate the binary really links, at the version it really
//! links: both are read back from the built binary, and checked against `Cargo.lock`.

use integration_tests::moto::{Delivered, Moto, TopicProbe, create_state_table};
use integration_tests::osv::{Mode, OsvStandIn};
use integration_tests::runtime::LambdaFunction;
use integration_tests::{binary, workspace_root};
use serde_json::{Value, json};
use std::collections::HashMap;
use suomifi_shared::deps::{DependencyList, find_in_binary};

const FUNCTIONS: [&str; 5] = [
    "rotate-password",
    "check-retrieval",
    "check-certificates",
    "check-updates",
    "watch-access",
];

/// `name` → version of every crates.io package in Cargo.lock (several versions: all of them).
fn locked() -> HashMap<String, Vec<String>> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).expect("Cargo.lock");
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                .map(|v| v.trim_end_matches('"').to_owned())
        };
        if field("source").is_some_and(|s| s.starts_with("registry+")) {
            out.entry(field("name").unwrap())
                .or_default()
                .push(field("version").unwrap());
        }
    }
    out
}

fn list_of(function: &str) -> DependencyList {
    let bytes = std::fs::read(binary(function)).expect("read binary");
    find_in_binary(&bytes)
        .unwrap_or_else(|| panic!("no dependency list in {}", binary(function).display()))
}

#[test]
fn every_function_binary_carries_its_dependency_list_at_the_locked_versions() {
    let locked = locked();
    for function in FUNCTIONS {
        let list = list_of(function);
        assert_eq!(list.package, function);
        assert!(
            list.crates.len() > 50,
            "{function}: {} crates",
            list.crates.len()
        );
        for c in &list.crates {
            assert!(
                locked.get(&c.name).is_some_and(|v| v.contains(&c.version)),
                "{function} lists {} {} which Cargo.lock does not",
                c.name,
                c.version
            );
        }
        let names: Vec<&str> = list.crates.iter().map(|c| c.name.as_str()).collect();
        for linked in ["tokio", "rustls", "serde_json", "aws-sdk-sns"] {
            assert!(names.contains(&linked), "{function} lacks {linked}");
        }
        // Dev- and build-only crates and proc-macros are not linked, so not listed.
        for unlinked in ["rcgen", "proptest", "cc", "serde_derive", "syn"] {
            assert!(!names.contains(&unlinked), "{function} lists {unlinked}");
        }
    }
}

fn chat(d: &Delivered) -> Value {
    serde_json::from_str(&d.message).expect("chat JSON body")
}

fn thread(d: &Delivered) -> String {
    chat(d)["metadata"]["threadId"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An advisory for `name` affecting everything from 0 up to (not including) `fixed`.
fn advisory(id: &str, name: &str, fixed: &str) -> Value {
    json!({
        "id": id,
        "modified": "2099-01-01T00:00:00Z",
        "summary": format!("test advisory for {name}"),
        "aliases": ["CVE-2099-0001"],
        "database_specific": {"severity": "HIGH"},
        "affected": [{
            "package": {"name": name, "ecosystem": "crates.io"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }]
    })
}

#[tokio::test]
async fn alerts_once_per_advisory_for_a_linked_version_resolves_it_and_reports_unknown_when_osv_fails()
 {
    let moto = Moto::shared();
    let cfg = moto.sdk_config().await;
    let table = create_state_table(&cfg).await;
    let topic = TopicProbe::create(&cfg).await;
    let osv = OsvStandIn::start().await;

    // The crate and version the binary really links.
    let list = list_of("check-updates");
    let hyper = list
        .crates
        .iter()
        .find(|c| c.name == "hyper")
        .expect("check-updates links hyper");
    let v = semver::Version::parse(&hyper.version).unwrap();
    let fixed = format!("{}.{}.{}", v.major, v.minor, v.patch + 1);
    let below = format!("{}.{}.0-alpha.0", v.major, v.minor);
    osv.publish(advisory("RUSTSEC-2099-0001", "hyper", &fixed));
    // Another advisory for hyper, fixed before the linked version: not linked, nothing to say.
    osv.publish(advisory("RUSTSEC-2099-0002", "hyper", &below));
    // An advisory for a crate nobody links.
    osv.publish(advisory(
        "RUSTSEC-2099-0003",
        "not-linked-anywhere",
        "9.9.9",
    ));

    let mut env = moto.env();
    env.extend(
        [
            ("STATE_TABLE", table.as_str()),
            ("ALERT_TOPIC_ARN", topic.topic_arn.as_str()),
            ("OSV_API_URL", osv.base.as_str()),
            ("UNKNOWN_AFTER_RUNS", "2"),
            (
                "DEADLINES",
                r#"[{"id": "dvv-old-apis-close", "disabled": true},
                    {"id": "lambda-provided-al2023", "disabled": true}]"#,
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut f = LambdaFunction::start("check-updates", env).await;

    // One alert, naming the advisory, the crate and the linked version.
    let report = f.invoke(json!({})).await.expect("report");
    assert_eq!(report["status"], "affected", "{report:#}\n{}", f.logs());
    assert_eq!(
        report["advisories"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    assert!(
        osv.batches().len() > 1,
        "pagination followed: {:?}",
        osv.batches()
    );
    let got = topic.drain().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let body = chat(&got[0]);
    assert_eq!(thread(&got[0]), "updates/advisory/RUSTSEC-2099-0001/hyper");
    let title = body["content"]["title"].as_str().unwrap();
    assert!(
        title.contains(&format!("hyper {}", hyper.version)),
        "{title}"
    );
    let steps = body["content"]["nextSteps"].to_string();
    assert!(
        steps.contains(&format!("cargo update -p hyper --precise {fixed}")),
        "{steps}"
    );
    assert!(
        steps.contains("make package") && steps.contains("sam deploy"),
        "{steps}"
    );
    assert!(got[0].subject.as_deref().unwrap().starts_with("[CRITICAL]"));

    // The same again: no repeat.
    let report = f.invoke(json!({})).await.expect("report");
    assert_eq!(report["status"], "affected");
    assert!(topic.drain().await.is_empty());

    // OSV down: unknown, never ok; the open advisory is not resolved; alerted on the 2nd run.
    osv.set_mode(Mode::ServerError);
    let report = f.invoke(json!({})).await.expect("report");
    assert_eq!(report["status"], "unknown", "{report:#}");
    assert!(report["osvError"].as_str().unwrap().contains("503"));
    assert!(topic.drain().await.is_empty());
    osv.set_mode(Mode::Malformed);
    let report = f.invoke(json!({})).await.expect("report");
    assert_eq!(report["status"], "unknown", "{report:#}");
    let got = topic.drain().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(thread(&got[0]), "updates/osv-unknown");

    // OSV back and the advisory gone: the advisory and the unknown alert resolve.
    osv.set_mode(Mode::Normal);
    osv.remove("RUSTSEC-2099-0001");
    let report = f.invoke(json!({})).await.expect("report");
    assert_eq!(report["status"], "ok", "{report:#}");
    let got = topic.drain().await;
    let mut resolved: Vec<String> = got.iter().map(thread).collect();
    resolved.sort();
    assert_eq!(
        resolved,
        [
            "updates/advisory/RUSTSEC-2099-0001/hyper",
            "updates/osv-unknown"
        ],
        "{got:#?}"
    );
    assert!(
        got.iter()
            .all(|d| d.subject.as_deref().unwrap().starts_with("[RESOLVED]"))
    );
    let report = f.invoke(json!({})).await.expect("report");
    assert_eq!(report["status"], "ok");
    assert!(topic.drain().await.is_empty());
}

#[tokio::test]
async fn a_plain_http_osv_that_is_not_loopback_is_refused_at_start() {
    let moto = Moto::shared();
    let mut env = moto.env();
    env.extend(
        [("STATE_TABLE", "t"), ("OSV_API_URL", "http://api.osv.dev")]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut f = LambdaFunction::start("check-updates", env).await;
    let r = f
        .invoke_within(json!({}), std::time::Duration::from_secs(5))
        .await;
    assert!(r.is_err());
    let logs = f.logs();
    assert!(
        logs.contains("CheckUpdates.Config") && logs.contains("OSV_API_URL"),
        "{logs}"
    );
}
