//! Ports: the narrow capabilities the check needs from the outside world, one trait each.
//!
//! AWS adapters are in [`crate::adapters`], the fakes in `crate::testing` (feature `testing`).
//! Suomi.fi is the shared [`suomifi_shared::suomifi::SuomifiApi`] port.

use std::future::Future;
use suomifi_shared::secret::{Credentials, SecretError};
use suomifi_shared::secrets::SecretMeta;
use suomifi_shared::suomifi::ApiBase;
use time::OffsetDateTime;

/// What the check needs of the credentials secret's `DescribeSecret`: the dates and whether a
/// rotation has not finished (the shared [`SecretMeta::rotation_unfinished`] rule).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationMetadata {
    /// `LastRotatedDate`: when rotation last moved `AWSCURRENT` (absent without rotation).
    pub last_rotated: Option<OffsetDateTime>,
    /// `LastChangedDate`: the last change of any kind (value, labels, settings).
    pub last_changed: Option<OffsetDateTime>,
    /// `RotationEnabled`.
    pub rotation_enabled: bool,
    /// `NextRotationDate`.
    pub next_rotation: Option<OffsetDateTime>,
    /// An `AWSPENDING` label on a version that is not `AWSCURRENT` (from `VersionIdsToStages`):
    /// a rotation that has not finished — in progress, or failed and left behind.
    pub pending_version: bool,
}

impl From<&SecretMeta> for RotationMetadata {
    fn from(meta: &SecretMeta) -> Self {
        Self {
            last_rotated: meta.last_rotated,
            last_changed: meta.last_changed,
            rotation_enabled: meta.rotation_enabled,
            next_rotation: meta.next_rotation,
            pending_version: meta.rotation_unfinished(),
        }
    }
}

/// The credentials could not be obtained. Never contains the secret's value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Secrets Manager refused or failed (permissions, KMS, missing secret, network).
    #[error("cannot read secret `{secret}` (AWSCURRENT): {detail}")]
    Unreadable {
        /// The secret id.
        secret: String,
        /// The SDK's service error detail.
        detail: String,
    },
    /// The value is not usable credentials.
    #[error("secret `{secret}` (AWSCURRENT) is not usable: {source}")]
    Malformed {
        /// The secret id.
        secret: String,
        /// Why.
        #[source]
        source: SecretError,
    },
}

/// An AWS call failed; the text carries the service's own detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct SourceError {
    /// What was being read.
    pub what: String,
    /// The SDK's service error detail.
    pub detail: String,
}

/// Port: the credentials secret.
pub trait CredentialsSource: Send + Sync {
    /// The `AWSCURRENT` credentials.
    fn current(&self) -> impl Future<Output = Result<Credentials, CredentialsError>> + Send;

    /// The secret's rotation metadata.
    fn metadata(&self) -> impl Future<Output = Result<RotationMetadata, SourceError>> + Send;

    /// The `AWSPENDING` credentials of an unfinished rotation, if there are any (tried only when
    /// Suomi.fi refuses `AWSCURRENT`: a rotation may have changed the password a moment ago).
    /// Sources without rotations have none.
    fn pending(&self) -> impl Future<Output = Option<Credentials>> + Send {
        async { None }
    }
}

/// Port: the retriever's checkpoint parameter.
pub trait CheckpointSource: Send + Sync {
    /// The parameter's name (used in alert keys and messages).
    fn name(&self) -> &str;

    /// The parameter's value as stored; `None` when the parameter does not exist.
    fn read(&self) -> impl Future<Output = Result<Option<String>, SourceError>> + Send;
}

/// Port: which TLS version the API host negotiates.
pub trait TlsInspector: Send + Sync {
    /// The negotiated version (`TLSv1.3`), or why the probe failed.
    fn negotiated_version(
        &self,
        base: &ApiBase,
    ) -> impl Future<Output = Result<String, String>> + Send;
}

/// A [`TlsInspector`] that never probes, for tests against a plain-HTTP sandbox.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTlsInspector;

impl TlsInspector for NoTlsInspector {
    async fn negotiated_version(&self, _base: &ApiBase) -> Result<String, String> {
        Err("TLS probing disabled".into())
    }
}
