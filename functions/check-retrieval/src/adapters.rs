//! AWS and TLS adapters of the ports: Secrets Manager, SSM Parameter Store, the TLS probe; and
//! [`wire`], the one place the deployed fleet is assembled.
//!
//! Errors carry the service's own detail (code and message), never a bare "service error", and
//! never the secret's value.

use crate::config::Config;
use crate::fleet::Fleet;
use crate::ports::{
    CheckpointSource, CredentialsError, CredentialsSource, RotationMetadata, SourceError,
    TlsInspector,
};
use crate::{Checker, Ports, Settings};
use std::sync::Arc;
use std::time::Duration;
use suomifi_shared::checkpoint;
use suomifi_shared::clock::SystemClock;
use suomifi_shared::notify::Notifier;
use suomifi_shared::secret::Credentials;
use suomifi_shared::secrets::{AWSCURRENT, AWSPENDING, SecretStore, SecretsManager};
use suomifi_shared::state::StateStore;
use suomifi_shared::suomifi::ApiBase;
use suomifi_shared::suomifi::{ClientConfig, HttpSuomifi};
use suomifi_shared::tlsprobe::{ProbeTarget, TlsProber};

/// The credentials secret, over the shared Secrets Manager port (`GetSecretValue` at
/// `AWSCURRENT`, `DescribeSecret`); in production `S` is the SDK adapter [`SecretsManager`].
#[derive(Debug, Clone)]
pub struct SecretsManagerSource<S = SecretsManager> {
    store: S,
    secret_id: String,
}

impl<S: SecretStore> SecretsManagerSource<S> {
    /// The secret `secret_id` (name or ARN) in `store`.
    pub fn new(store: S, secret_id: impl Into<String>) -> Self {
        Self {
            store,
            secret_id: secret_id.into(),
        }
    }
}

impl<S: SecretStore> CredentialsSource for SecretsManagerSource<S> {
    async fn current(&self) -> Result<Credentials, CredentialsError> {
        let value = self
            .store
            .get_value(&self.secret_id, None, AWSCURRENT)
            .await
            .map_err(|e| CredentialsError::Unreadable {
                secret: self.secret_id.clone(),
                detail: e.detail,
            })?;
        let Some(value) = value else {
            return Err(CredentialsError::Unreadable {
                secret: self.secret_id.clone(),
                detail: "the AWSCURRENT version has no value".into(),
            });
        };
        Credentials::parse(&value).map_err(|source| CredentialsError::Malformed {
            secret: self.secret_id.clone(),
            source,
        })
    }

    async fn pending(&self) -> Option<Credentials> {
        let value = self
            .store
            .get_value(&self.secret_id, None, AWSPENDING)
            .await
            .ok()??;
        Credentials::parse(&value).ok()
    }

    async fn metadata(&self) -> Result<RotationMetadata, SourceError> {
        let meta = self
            .store
            .describe(&self.secret_id)
            .await
            .map_err(|e| SourceError {
                what: format!("DescribeSecret on `{}`", self.secret_id),
                detail: e.detail,
            })?;
        Ok(RotationMetadata::from(&meta))
    }
}

/// The retriever's checkpoint in SSM Parameter Store (`GetParameter`).
#[derive(Debug, Clone)]
pub struct SsmCheckpointSource {
    client: aws_sdk_ssm::Client,
    name: String,
}

impl SsmCheckpointSource {
    /// The parameter `name`.
    pub fn new(client: aws_sdk_ssm::Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }
}

impl CheckpointSource for SsmCheckpointSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn read(&self) -> Result<Option<String>, SourceError> {
        checkpoint::get_checkpoint_value(&self.client, &self.name)
            .await
            .map_err(|e| SourceError {
                what: format!("GetParameter on `{}`", e.parameter),
                detail: e.detail,
            })
    }
}

/// The shared TLS probe: one handshake with the API host, reporting the negotiated version.
#[derive(Debug, Clone)]
pub struct ProbeTlsInspector {
    prober: TlsProber,
    timeout: Duration,
}

impl ProbeTlsInspector {
    /// A probe with the public WebPKI roots and a `timeout` for the whole handshake.
    pub fn new(timeout: Duration) -> Self {
        Self {
            prober: TlsProber::new(),
            timeout,
        }
    }
}

impl TlsInspector for ProbeTlsInspector {
    async fn negotiated_version(&self, base: &ApiBase) -> Result<String, String> {
        let target = ProbeTarget::new(base.host(), base.port(), self.timeout);
        self.prober
            .probe(&target)
            .await
            .map(|p| p.tls_version.as_str().to_owned())
            .map_err(|e| e.to_string())
    }
}

/// The fleet as deployed: every system of `config` over the AWS adapters, one Suomi.fi HTTP
/// adapter (one connection pool per API base) shared by all systems. `main.rs` and
/// `suomifi-ops check retrieval` both build it here, with their own state store and notifier.
pub type AwsFleet<S, N> = Fleet<
    Arc<HttpSuomifi>,
    SecretsManagerSource,
    SsmCheckpointSource,
    S,
    N,
    SystemClock,
    ProbeTlsInspector,
>;

/// How long the TLS version probe of an API host may take.
pub const TLS_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Wires [`AwsFleet`]: `sdk` for Secrets Manager and SSM, `store` for the alert state and the
/// cursors, `notifier` for the alerts.
pub fn wire<S, N>(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    store: S,
    notifier: N,
) -> AwsFleet<S, N>
where
    S: StateStore + Clone,
    N: Notifier + Clone,
{
    let secrets = SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk));
    let ssm = aws_sdk_ssm::Client::new(sdk);
    let suomifi = Arc::new(HttpSuomifi::new(ClientConfig::default()));
    let checkers = config
        .systems
        .iter()
        .map(|system| {
            let ports = Ports {
                suomifi: Arc::clone(&suomifi),
                credentials: SecretsManagerSource::new(secrets.clone(), &system.secret_id),
                checkpoint: system
                    .checkpoint_parameter
                    .as_ref()
                    .map(|name| SsmCheckpointSource::new(ssm.clone(), name)),
                store: store.clone(),
                notifier: notifier.clone(),
                clock: SystemClock,
                tls: ProbeTlsInspector::new(TLS_PROBE_TIMEOUT),
            };
            Checker::new(Settings::for_system(config, system), ports)
        })
        .collect();
    Fleet::new(checkers, SystemClock)
}
