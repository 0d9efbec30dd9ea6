//! `suomifi_shared::tlsprobe` against a local tokio-rustls server presenting rcgen chains.

use crate::support::*;
use check_certificates::certs::parse_chain;
use check_certificates::evaluate::Thresholds;
use check_certificates::evaluate::{Status, evaluate_chain};
use std::time::Duration;
use suomifi_shared::tlsprobe::{
    FailureKind, ProbeError, ProbeTarget, TlsProber, TlsVersion, probe,
};

fn target(port: u16, sni: &str) -> ProbeTarget {
    ProbeTarget {
        host: "127.0.0.1".into(),
        port,
        sni: Some(sni.into()),
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn a_valid_chain_verifies_and_is_captured_with_the_tls_version() {
    let t = now();
    let ca = root("Probe Root", t - days(1000), t + days(3000));
    let int = intermediate(&ca, "Probe Issuing CA", t - days(500), t + days(1000));
    let leaf = leaf_expiring(&int, "api.example.test", t, 90);
    let port = serve_tls(vec![leaf.der.clone(), int.der()], leaf.key_der(), false).await;

    let result = probe(&target(port, "api.example.test"), &[ca.der()])
        .await
        .unwrap();
    assert_eq!(result.verification, Ok(()));
    assert_eq!(result.tls_version, TlsVersion::Tls13);
    assert_eq!(result.chain, vec![leaf.der.clone(), int.der()]);

    let tls12 = serve_tls(vec![leaf.der.clone(), int.der()], leaf.key_der(), true).await;
    let result = probe(&target(tls12, "api.example.test"), &[ca.der()])
        .await
        .unwrap();
    assert_eq!(result.tls_version, TlsVersion::Tls12);
    assert_eq!(result.tls_version.as_str(), "TLSv1.2");
}

#[tokio::test]
async fn an_expired_leaf_is_captured_with_the_verdict_instead_of_failing() {
    let t = now();
    let ca = root("Probe Root", t - days(1000), t + days(3000));
    let leaf = leaf(&ca, "api.example.test", t - days(400), t - days(1));
    let port = serve_tls(vec![leaf.der.clone()], leaf.key_der(), false).await;

    let result = probe(&target(port, "api.example.test"), &[ca.der()])
        .await
        .unwrap();
    assert_eq!(
        result.verification.as_ref().unwrap_err().kind,
        FailureKind::Expired
    );
    assert_eq!(result.chain, vec![leaf.der.clone()]);
    let info = parse_chain(&result.chain).unwrap();
    let eval = evaluate_chain(&info, Some(false), t, &Thresholds::default());
    assert_eq!(eval.status(), Status::Expired);
    assert_eq!(eval.governing().days_left(), -1);
}

#[tokio::test]
async fn a_not_yet_valid_leaf_is_reported_as_such() {
    let t = now();
    let ca = root("Probe Root", t - days(1000), t + days(3000));
    let leaf = leaf(&ca, "api.example.test", t + days(2), t + days(300));
    let port = serve_tls(vec![leaf.der.clone()], leaf.key_der(), false).await;
    let result = probe(&target(port, "api.example.test"), &[ca.der()])
        .await
        .unwrap();
    assert_eq!(
        result.verification.unwrap_err().kind,
        FailureKind::NotYetValid
    );
}

#[tokio::test]
async fn an_unknown_issuer_is_captured_with_the_verdict() {
    let t = now();
    let ca = root("Private Root", t - days(1000), t + days(3000));
    let leaf = leaf_expiring(&ca, "api.example.test", t, 90);
    let port = serve_tls(vec![leaf.der.clone()], leaf.key_der(), false).await;

    // Public roots only: the private CA is unknown.
    let result = TlsProber::new()
        .probe(&target(port, "api.example.test"))
        .await
        .unwrap();
    assert_eq!(
        result.verification.as_ref().unwrap_err().kind,
        FailureKind::UnknownIssuer
    );
    assert_eq!(result.chain.len(), 1);
}

#[tokio::test]
async fn a_name_mismatch_is_captured_with_the_verdict() {
    let t = now();
    let ca = root("Probe Root", t - days(1000), t + days(3000));
    let leaf = leaf_expiring(&ca, "other.example.test", t, 90);
    let port = serve_tls(vec![leaf.der.clone()], leaf.key_der(), false).await;

    let result = probe(&target(port, "api.example.test"), &[ca.der()])
        .await
        .unwrap();
    let failure = result.verification.unwrap_err();
    assert_eq!(failure.kind, FailureKind::NameMismatch);
    assert!(!failure.kind.is_time_related());
    assert_eq!(result.chain, vec![leaf.der.clone()]);
}

#[tokio::test]
async fn an_intermediate_expiring_first_sets_the_chain_expiry() {
    let t = now();
    let ca = root("Probe Root", t - days(1000), t + days(3000));
    let int = intermediate(&ca, "Short-lived Issuing CA", t - days(300), t + days(20));
    let leaf = leaf_expiring(&int, "api.example.test", t, 200);
    let port = serve_tls(vec![leaf.der.clone(), int.der()], leaf.key_der(), false).await;

    let result = probe(&target(port, "api.example.test"), &[ca.der()])
        .await
        .unwrap();
    assert_eq!(result.verification, Ok(()));
    let eval = evaluate_chain(
        &parse_chain(&result.chain).unwrap(),
        Some(true),
        t,
        &Thresholds::default(),
    );
    assert_eq!(eval.governing, 1);
    assert_eq!(eval.status(), Status::Warning);
    assert_eq!(eval.governing().days_left(), 20);
}

#[tokio::test]
async fn an_extra_expired_root_sent_by_the_server_is_information_only() {
    let t = now();
    let old_root = root("Old Root", t - days(4000), t - days(30));
    let root_key = rcgen::KeyPair::generate().unwrap();
    let params = ca_params("Probe Root", t - days(1000), t + days(3000));
    let new_root = Ca {
        issuer: rcgen::CertifiedIssuer::self_signed(params, root_key).unwrap(),
    };
    // The new root's name and key, cross-signed by the old root, and expired.
    let cross = cross_sign("Probe Root", new_root.issuer.key(), &old_root, t - days(30));
    let int = intermediate(&new_root, "Probe Issuing CA", t - days(500), t + days(1000));
    let leaf = leaf_expiring(&int, "api.example.test", t, 90);
    let port = serve_tls(
        vec![leaf.der.clone(), int.der(), cross.clone()],
        leaf.key_der(),
        false,
    )
    .await;

    let result = probe(&target(port, "api.example.test"), &[new_root.der()])
        .await
        .unwrap();
    assert_eq!(
        result.verification,
        Ok(()),
        "a valid path exists through the trusted new root"
    );
    assert_eq!(result.chain.len(), 3);
    let eval = evaluate_chain(
        &parse_chain(&result.chain).unwrap(),
        Some(true),
        t,
        &Thresholds::default(),
    );
    assert_eq!(eval.certs[2].status, Status::Expired);
    assert!(eval.certs[2].extra);
    assert_eq!(eval.status(), Status::Ok);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let port = serve_silence().await;
    let mut t = target(port, "api.example.test");
    t.timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = TlsProber::new().probe(&t).await.unwrap_err();
    assert!(matches!(err, ProbeError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}
