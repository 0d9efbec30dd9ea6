//! The functions' connection to AWS: HTTPS, trusting the system's CA bundle (`SSL_CERT_FILE` or
//! the distribution's one bundle file), and refusing plain HTTP to anything but loopback.
//!
//! moto speaks plain HTTP, so a TLS terminator in front of it (rustls, with a certificate from a
//! CA made here) plays the AWS endpoint; the real `check-certificates` binary reads a secret and
//! the state table through it.

use integration_tests::moto::{Moto, create_state_table};
use integration_tests::runtime::{InvokeError, LambdaFunction};
use integration_tests::unique;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

fn write_pem(name: &str, pem: &str) -> PathBuf {
    let path = std::env::temp_dir().join(unique(name));
    std::fs::write(&path, pem).unwrap();
    path
}

/// A TLS endpoint for `localhost` (certificate issued by `issuer`) that forwards each connection
/// to moto. Returns its port.
async fn tls_in_front_of_moto(issuer: &CertifiedIssuer<'static, KeyPair>, moto: &str) -> u16 {
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = moto.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return; // the client refused our certificate
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    port
}

struct Setup {
    env: Vec<(String, String)>,
    trusted: PathBuf,
    untrusted: PathBuf,
}

async fn setup() -> Setup {
    let moto = Moto::shared();
    let cfg = moto.sdk_config().await;
    let table = create_state_table(&cfg).await;
    let endpoint_ca = ca("Test AWS Endpoint CA");
    let port = tls_in_front_of_moto(&endpoint_ca, &moto.endpoint).await;

    // What the check reads through the TLS endpoint: a certificate kept in Secrets Manager.
    let site_ca = ca("Site CA");
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["site.example".to_owned()])
        .unwrap()
        .signed_by(&key, &site_ca)
        .unwrap();
    let secret = unique("tls-path-cert");
    aws_sdk_secretsmanager::Client::new(&cfg)
        .create_secret()
        .name(&secret)
        .secret_string(leaf.pem())
        .send()
        .await
        .unwrap();

    let env = moto_env_but(
        moto,
        &[
            ("AWS_ENDPOINT_URL", &format!("https://localhost:{port}")),
            (
                "CERT_TARGETS",
                &json!([{"name": "site", "secret": secret}]).to_string(),
            ),
            ("STATE_TABLE", &table),
        ],
    );
    Setup {
        env,
        trusted: write_pem("endpoint-ca.pem", &endpoint_ca.pem()),
        untrusted: write_pem("other-ca.pem", &ca("Some Other CA").pem()),
    }
}

/// moto's variables without its `AWS_ENDPOINT_URL` (each test names its own endpoint), plus
/// `vars`.
fn moto_env_but(moto: &Moto, vars: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = moto
        .env()
        .into_iter()
        .filter(|(k, _)| k != "AWS_ENDPOINT_URL")
        .collect();
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn with(env: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

#[tokio::test]
async fn functions_reach_aws_over_https_trusting_the_ca_bundle_and_nothing_else() {
    let s = setup().await;

    // Trusting the endpoint's CA through SSL_CERT_FILE: the secret and the state table are read
    // over TLS.
    let trusted = s.trusted.to_string_lossy().into_owned();
    let mut f = LambdaFunction::start(
        "check-certificates",
        with(&s.env, &[("SSL_CERT_FILE", &trusted)]),
    )
    .await;
    let report: Value = f
        .invoke(json!({}))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", f.logs()));
    assert_eq!(report["targets"][0]["status"], "ok", "{report:#}");
    assert_eq!(report["targets"][0]["target"], "site");
    assert!(
        !f.logs().contains("invalid peer certificate"),
        "{}",
        f.logs()
    );
    f.kill().await;

    // A bundle that does not hold the endpoint's CA: nothing is read, and the run fails.
    let untrusted = s.untrusted.to_string_lossy().into_owned();
    let mut f = LambdaFunction::start(
        "check-certificates",
        with(&s.env, &[("SSL_CERT_FILE", &untrusted)]),
    )
    .await;
    let err = f.invoke(json!({})).await.unwrap_err();
    assert!(matches!(err, InvokeError::Function(_)), "{err:?}");
    let logs = f.logs();
    assert!(
        logs.contains("invalid peer certificate: UnknownIssuer"),
        "the refusal names the certificate problem: {logs}"
    );
    f.kill().await;
    for p in [s.trusted, s.untrusted] {
        let _ = std::fs::remove_file(p);
    }
}

#[tokio::test]
async fn plain_http_to_a_remote_aws_endpoint_is_refused_before_anything_is_sent() {
    let moto = Moto::shared();
    for function in ["check-certificates", "check-retrieval", "rotate-password"] {
        let env = moto_env_but(
            moto,
            &[
                (
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                    "http://secretsmanager.example.org",
                ),
                (
                    "CERT_TARGETS",
                    &json!([{"name": "a", "secret": "s"}]).to_string(),
                ),
                ("STATE_TABLE", "unused"),
                ("SUOMIFI_SECRET_ID", "unused"),
            ],
        );
        let mut f = LambdaFunction::start(function, env).await;
        let err = f
            .invoke_within(json!({}), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(err, InvokeError::NoAnswer(_)),
            "{function}: {err:?}"
        );
        let logs = f.logs();
        assert!(
            logs.contains("AWS_ENDPOINT_URL_SECRETS_MANAGER") && logs.contains("use https://"),
            "{function}: {logs}"
        );
        f.kill().await;
    }
}

/// An AWS config file whose `[services]` section sends Secrets Manager over plain HTTP to a
/// (`secrets-manager`: the key the Rust SDK reads, its service id lower-cased with hyphens)
/// remote host (a reserved name that never resolves), and whose profile names it.
fn insecure_config_file() -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("{}.ini", integration_tests::unique("aws-config")));
    std::fs::write(
        &path,
        "[profile insecure]\nregion = eu-north-1\nservices = remote\n\n\
         [services remote]\nsecrets-manager =\n  endpoint_url = http://secretsmanager.example.invalid\n",
    )
    .expect("write config file");
    path
}

#[tokio::test]
async fn plain_http_from_the_aws_config_file_is_refused_too() {
    let moto = Moto::shared();
    let config = insecure_config_file();
    let config_var = config.to_string_lossy().into_owned();
    for function in ["check-certificates", "check-retrieval", "rotate-password"] {
        let env = moto_env_but(
            moto,
            &[
                ("AWS_CONFIG_FILE", &config_var),
                ("AWS_PROFILE", "insecure"),
                (
                    "CERT_TARGETS",
                    &json!([{"name": "a", "secret": "s"}]).to_string(),
                ),
                ("STATE_TABLE", "unused"),
                ("SUOMIFI_SECRET_ID", "unused"),
            ],
        );
        let mut f = LambdaFunction::start(function, env).await;
        let err = f
            .invoke_within(json!({}), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(err, InvokeError::NoAnswer(_)),
            "{function}: {err:?}"
        );
        let logs = f.logs();
        assert!(
            logs.contains("endpoint_url of Secrets Manager") && logs.contains("use https://"),
            "{function}: {logs}"
        );
        f.kill().await;
    }
    // The operator's CLI: import-password must not send the password in clear text.
    let out = tokio::process::Command::new(integration_tests::binary("suomifi-ops"))
        .args(["import-password", "--secret-id", "any"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(moto_env_but(moto, &[]))
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "insecure")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run suomifi-ops");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("endpoint_url of Secrets Manager"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&config);
}
