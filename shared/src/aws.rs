//! AWS SDK plumbing shared by the functions.

use crate::suomifi::{ApiBase, InsecureUrl};
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::ConnectorBuilder;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_types::error::display::DisplayErrorContext;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where Linux distributions keep the one-file CA bundle, first match wins: Amazon Linux 2023
/// (Lambda's `provided.al2023`) and Fedora/RHEL, Debian/Ubuntu, Alpine.
const CA_BUNDLES: [&str; 4] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Loads the SDK configuration the standard way (region, credentials, and `AWS_ENDPOINT_URL` /
/// `AWS_ENDPOINT_URL_<SERVICE>` for local stand-ins; no emulator-specific code path).
///
/// Refused before anything is contacted: an `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_<SERVICE>`
/// that is plain `http://` to anything but a loopback address (local stand-ins), so that no
/// configuration mistake sends AWS credentials and secrets over an unencrypted network.
///
/// The HTTPS client is the SDK's own (rustls + aws-lc-rs, the SDK's connector settings, proxy
/// from the environment) with one difference, in where its trusted roots come from and when:
/// - from the system's single CA bundle file (`SSL_CERT_FILE`, else the distribution's), not the bundle *and* every file of
///   the certificate directory (on Debian some 150 more files);
/// - parsed once per process, at the first connection to AWS. The SDK's default client builds
///   a throw-away connector for every service client it constructs, parsing the whole trust
///   store each time, only to have it done before the first request; a function with four
///   service clients paid for that four times at every cold start (BENCHMARKS.md).
///
/// When no usable bundle is found the SDK's default trust store is used (which also honours
/// `SSL_CERT_DIR`).
pub async fn load_config() -> Result<aws_config::SdkConfig, InsecureEndpoint> {
    check_endpoints(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )?;
    let client =
        aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
            let Some(settings) = settings else {
                // The SDK's early-loading call at client construction, whose connector is
                // discarded: nothing to load for it (an empty trust store refuses everything,
                // should it ever be used: fail closed — tests/tests/aws_tls.rs would notice).
                return ConnectorBuilder::default()
                    .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                    .tls_context(untrusting_context())
                    .build();
            };
            let mut conn = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(trust_context().clone());
            conn.set_connector_settings(Some(settings.clone()));
            if let Some(components) = components {
                conn.set_sleep_impl(components.sleep_impl());
            }
            conn.set_proxy_config(Some(ProxyConfig::from_env()));
            conn.build()
        });
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(client)
        .load()
        .await;
    check_resolved(&config)?;
    Ok(config)
}

/// The services this project calls, by the service id the SDK uses to find a per-service
/// endpoint (`AWS_ENDPOINT_URL_<ID>`, or `endpoint_url` under the service's key — e.g.
/// `secrets_manager` — in the config file's `[services]` section).
const SERVICE_IDS: &[&str] = &[
    "Secrets Manager",
    "SNS",
    "DynamoDB",
    "SSM",
    "ACM",
    "SQS",
    "CloudFormation",
];

/// The endpoints the SDK will actually use, wherever they came from: the environment *or* the
/// shared config file (`endpoint_url` in a profile, or in a `[services]` section the profile
/// names). The environment variables are checked before loading; this catches the file.
fn check_resolved(config: &aws_config::SdkConfig) -> Result<(), InsecureEndpoint> {
    let check = |source: String, url: &str| match ApiBase::parse(url.trim()) {
        Ok(_) => Ok(()),
        Err(problem) => Err(InsecureEndpoint {
            variable: source,
            problem,
        }),
    };
    if let Some(url) = config.endpoint_url() {
        check("endpoint_url (environment or AWS config file)".into(), url)?;
    }
    if let Some(services) = config.service_config() {
        for service in SERVICE_IDS {
            // The very key each generated client asks with (its `service_config_key`): the
            // loader derives `AWS_ENDPOINT_URL_<SERVICE>` and the `[services]` key from it.
            let key = aws_types::service_config::ServiceConfigKey::builder()
                .service_id(service)
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .expect("every field is set");
            if let Some(url) = services.load_config(key) {
                check(
                    format!("endpoint_url of {service} (environment or AWS config file)"),
                    &url,
                )?;
            }
        }
    }
    Ok(())
}

/// The trusted roots for AWS, decided once per process: the CA bundle when it is usable, else
/// the SDK's default (native roots). The bundle is parsed twice, here to check that every entry
/// is a usable trust anchor and again by the SDK (which would panic on one that is not): about
/// 1.5 ms a pass for Debian's 144 roots (the cold-start probe in BENCHMARKS.md), done
/// once, at the first AWS request.
fn trust_context() -> &'static TlsContext {
    static CONTEXT: OnceLock<TlsContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let trust = ca_bundle()
            .and_then(|path| bundle_trust_store(&path))
            .unwrap_or_default();
        TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("a TLS context with a trust store builds")
    })
}

fn untrusting_context() -> TlsContext {
    TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_native_roots(false))
        .build()
        .expect("an empty TLS context builds")
}

/// An AWS endpoint override that would send requests unencrypted over a network.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct InsecureEndpoint {
    /// The environment variable.
    pub variable: String,
    /// What is wrong with its value.
    pub problem: InsecureUrl,
}

/// Checks every `AWS_ENDPOINT_URL*` variable among `vars` (an empty value is ignored, as the SDK
/// ignores it): `https://` anywhere, `http://` only to a loopback address.
fn check_endpoints(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<(), InsecureEndpoint> {
    for (variable, value) in vars {
        if !variable.starts_with("AWS_ENDPOINT_URL") || value.trim().is_empty() {
            continue;
        }
        if let Err(problem) = ApiBase::parse(value.trim()) {
            return Err(InsecureEndpoint { variable, problem });
        }
    }
    Ok(())
}

/// The CA bundle file to trust: `SSL_CERT_FILE` when set (as OpenSSL and rustls-native-certs
/// honour it), else the first of the usual distribution paths that exists. `None` when
/// `SSL_CERT_DIR` is set without `SSL_CERT_FILE` (the operator chose a directory: the SDK's
/// default loader honours that) or when no bundle is found.
fn ca_bundle() -> Option<PathBuf> {
    ca_bundle_from(
        |k| std::env::var_os(k).filter(|v| !v.is_empty()),
        |p| p.is_file(),
    )
}

fn ca_bundle_from(
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if let Some(file) = env("SSL_CERT_FILE") {
        return Some(PathBuf::from(file));
    }
    if env("SSL_CERT_DIR").is_some() {
        return None;
    }
    CA_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| exists(p.as_path()))
}

/// A trust store of the bundle's certificates, or `None` (the caller falls back to the SDK's
/// default) when the file cannot be read, holds no certificate, or holds one that rustls cannot
/// take as a trust anchor — the SDK's client would refuse such a store at its first connection,
/// where the default loader skips the odd certificate instead.
fn bundle_trust_store(path: &Path) -> Option<TrustStore> {
    let pem = std::fs::read(path).ok()?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.ok()?).ok()?;
    }
    (!roots.is_empty()).then(|| {
        TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(pem)
    })
}

/// What went wrong in an SDK call, for a person at 3 a.m.: for a service error the service's own
/// code and message (`ResourceNotFoundException: Secrets Manager can't find ...`), not a bare
/// "service error" — and not the whole raw HTTP response either, which the error's full context
/// would print; for anything else (no connection, timeout, credentials) the error chain.
pub fn sdk_error_detail<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(s) => match (s.code(), s.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(s).to_string(),
        },
        None => DisplayErrorContext(e).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn aws_endpoints_must_be_https_unless_on_loopback() {
        assert_eq!(
            check_endpoints(vars(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
                (
                    "AWS_ENDPOINT_URL_SNS",
                    "https://sns.eu-north-1.amazonaws.com"
                ),
                ("AWS_ENDPOINT_URL_SSM", "http://[::1]:4566"),
                ("AWS_ENDPOINT_URL_DYNAMODB", ""),
                ("HTTP_PROXY", "http://proxy.example:3128"),
            ])),
            Ok(())
        );
        let err = check_endpoints(vars(&[(
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            "http://secrets.example.org",
        )]))
        .unwrap_err();
        assert_eq!(err.variable, "AWS_ENDPOINT_URL_SECRETS_MANAGER");
        assert!(matches!(err.problem, InsecureUrl::NotHttps(_)), "{err}");
        assert!(err.to_string().contains("use https://"), "{err}");
        let err = check_endpoints(vars(&[("AWS_ENDPOINT_URL", "not a url")])).unwrap_err();
        assert!(matches!(err.problem, InsecureUrl::Invalid(_)), "{err}");
    }

    fn pick(env: &[(&str, &str)], existing: &[&str]) -> Option<PathBuf> {
        let env: HashMap<String, OsString> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        ca_bundle_from(
            |k| env.get(k).cloned(),
            |p| existing.iter().any(|e| Path::new(e) == p),
        )
    }

    #[test]
    fn the_bundle_is_ssl_cert_file_then_the_distributions_paths() {
        assert_eq!(
            pick(&[("SSL_CERT_FILE", "/opt/ca.pem")], &[CA_BUNDLES[0]]),
            Some(PathBuf::from("/opt/ca.pem"))
        );
        assert_eq!(
            pick(&[], &[CA_BUNDLES[1], CA_BUNDLES[3]]),
            Some(PathBuf::from(CA_BUNDLES[1]))
        );
        assert_eq!(
            pick(&[], &[CA_BUNDLES[0], CA_BUNDLES[1]]),
            Some(PathBuf::from("/etc/pki/tls/certs/ca-bundle.crt")),
            "Amazon Linux 2023's path first"
        );
        assert_eq!(pick(&[], &[]), None);
        assert_eq!(
            pick(&[("SSL_CERT_DIR", "/opt/certs")], &[CA_BUNDLES[1]]),
            None,
            "an operator's certificate directory is left to the SDK's loader"
        );
    }

    fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "suomifi-aws-{}-{}-{name}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_bundle_with_anything_rustls_would_refuse_falls_back_to_the_default() {
        let missing = std::env::temp_dir().join("suomifi-aws-no-such-bundle.pem");
        assert!(bundle_trust_store(&missing).is_none());
        let empty = temp_file("empty.pem", b"");
        assert!(bundle_trust_store(&empty).is_none());
        let broken = temp_file(
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        );
        assert!(bundle_trust_store(&broken).is_none());
        for p in [empty, broken] {
            let _ = std::fs::remove_file(p);
        }
    }

    fn ca_pem(cn: &str) -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn a_bundle_of_roots_is_used_and_one_bad_entry_rejects_it_whole() {
        let good = format!("{}{}", ca_pem("Root A"), ca_pem("Root B"));
        let path = temp_file("good.pem", good.as_bytes());
        assert!(bundle_trust_store(&path).is_some());
        let mixed = format!(
            "{good}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
        );
        let mixed_path = temp_file("mixed.pem", mixed.as_bytes());
        assert!(bundle_trust_store(&mixed_path).is_none());
        for p in [path, mixed_path] {
            let _ = std::fs::remove_file(p);
        }
    }
}
