//! Ports to where certificates live — one small trait per kind of source — and their adapters:
//! the TLS probe, Secrets Manager and Certificate Manager. The checker is generic over the
//! traits, so unit tests use in-memory sources and a local TLS server.

use crate::targets::TlsEndpoint;
use std::future::Future;
use std::time::Duration;
use suomifi_shared::tlsprobe::{ProbeError, ProbeTarget, TlsProbe, TlsProber};

pub use crate::certs::SecretPayload;

/// A source did not answer. The text has the service's own detail (error code and message)
/// and never any secret content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

/// Port: probe a TLS endpoint.
pub trait TlsSource: Send + Sync {
    /// Handshakes with `endpoint` within `timeout`.
    fn probe(
        &self,
        endpoint: &TlsEndpoint,
        timeout: Duration,
    ) -> impl Future<Output = Result<TlsProbe, ProbeError>> + Send;
}

/// Port: read a secret's current value.
pub trait SecretSource: Send + Sync {
    /// The `AWSCURRENT` value of `secret_id`.
    fn read_secret(
        &self,
        secret_id: &str,
    ) -> impl Future<Output = Result<SecretPayload, FetchError>> + Send;
}

/// A certificate as Certificate Manager returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmCertificate {
    /// The certificate (PEM).
    pub certificate_pem: String,
    /// Its chain (PEM bundle), when ACM has one.
    pub chain_pem: Option<String>,
}

/// Port: read a certificate from Certificate Manager.
pub trait AcmSource: Send + Sync {
    /// The certificate and chain of `arn`.
    fn read_certificate(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<AcmCertificate, FetchError>> + Send;
}

impl TlsSource for TlsProber {
    async fn probe(
        &self,
        endpoint: &TlsEndpoint,
        timeout: Duration,
    ) -> Result<TlsProbe, ProbeError> {
        let target = ProbeTarget {
            host: endpoint.host.clone(),
            port: endpoint.port,
            sni: endpoint.sni.clone(),
            timeout,
        };
        TlsProber::probe(self, &target).await
    }
}

/// Secrets Manager adapter.
#[derive(Debug, Clone)]
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManagerSource {
    /// Reads through `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

impl SecretSource for SecretsManagerSource {
    async fn read_secret(&self, secret_id: &str) -> Result<SecretPayload, FetchError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                FetchError(format!(
                    "GetSecretValue `{secret_id}`: {}",
                    suomifi_shared::aws::sdk_error_detail(&e)
                ))
            })?;
        if let Some(s) = out.secret_string() {
            Ok(SecretPayload::Text(s.to_owned()))
        } else if let Some(b) = out.secret_binary() {
            Ok(SecretPayload::Binary(b.as_ref().to_vec()))
        } else {
            Err(FetchError(format!(
                "secret `{secret_id}` has neither SecretString nor SecretBinary"
            )))
        }
    }
}

/// Certificate Manager adapter (`GetCertificate`: works for imported and Amazon-issued
/// certificates once issued; it returns only public material).
#[derive(Debug, Clone)]
pub struct AcmClientSource {
    client: aws_sdk_acm::Client,
}

impl AcmClientSource {
    /// Reads through `client`.
    pub fn new(client: aws_sdk_acm::Client) -> Self {
        Self { client }
    }
}

impl AcmSource for AcmClientSource {
    async fn read_certificate(&self, arn: &str) -> Result<AcmCertificate, FetchError> {
        let out = self
            .client
            .get_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(|e| {
                FetchError(format!(
                    "GetCertificate `{arn}`: {}",
                    suomifi_shared::aws::sdk_error_detail(&e)
                ))
            })?;
        let certificate_pem = out
            .certificate()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| FetchError(format!("GetCertificate `{arn}` returned no certificate")))?
            .to_owned();
        Ok(AcmCertificate {
            certificate_pem,
            chain_pem: out.certificate_chain().map(str::to_owned),
        })
    }
}
