//! Ports: the narrow capabilities the check needs from the outside world, one trait each.
//!
//! AWS adapters are in [`crate::adapters`]; tests use small fakes. The Suomi.fi API is not a port:
//! the shared client is used directly, and tests point it at the sandbox (a real HTTP server).

use std::future::Future;
use suomifi_shared::secret::{Credentials, SecretError};
use suomifi_shared::suomifi::ApiBase;
use time::OffsetDateTime;

/// The rotation metadata of the credentials secret (Secrets Manager `DescribeSecret`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretMetadata {
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

impl SecretMetadata {
    /// Whether `VersionIdsToStages` shows an `AWSPENDING` that is not also `AWSCURRENT`.
    pub fn pending_in<'a, I, S>(versions: I) -> bool
    where
        I: IntoIterator<Item = &'a [S]>,
        S: AsRef<str> + 'a,
    {
        versions.into_iter().any(|stages| {
            let has = |label: &str| stages.iter().any(|s| s.as_ref() == label);
            has("AWSPENDING") && !has("AWSCURRENT")
        })
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
    fn metadata(&self) -> impl Future<Output = Result<SecretMetadata, SourceError>> + Send;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_label_counts_only_when_it_is_not_current() {
        let done: [&[&str]; 2] = [&["AWSCURRENT"], &["AWSPREVIOUS"]];
        assert!(!SecretMetadata::pending_in(done));
        // AWSPENDING on the current version: finishSecret did not remove it; harmless here.
        let on_current: [&[&str]; 1] = [&["AWSCURRENT", "AWSPENDING"]];
        assert!(!SecretMetadata::pending_in(on_current));
        let left: [&[&str]; 2] = [&["AWSCURRENT"], &["AWSPENDING"]];
        assert!(SecretMetadata::pending_in(left));
    }
}
