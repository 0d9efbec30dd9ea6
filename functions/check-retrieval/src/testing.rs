//! In-memory fakes of this function's ports, for its unit tests and other crates' tests (the
//! `testing` feature). Each fake's state is shared by its clones, so a test keeps a clone and
//! changes what the checker sees between runs. The Suomi.fi fake is the shared
//! [`suomifi_shared::testing::FakeSuomifi`].

use crate::ports::{
    CheckpointSource, CredentialsError, CredentialsSource, RotationMetadata, SourceError,
    TlsInspector,
};
use std::sync::{Arc, Mutex};
use suomifi_shared::secret::Credentials;
use suomifi_shared::suomifi::ApiBase;

/// The credentials secret: its `AWSCURRENT` value (or a read error), its metadata, and an
/// optional `AWSPENDING` value.
#[derive(Debug, Clone)]
pub struct FakeCredentials {
    /// The secret's id, as named in errors.
    pub secret_id: String,
    /// `AWSCURRENT`'s value as stored (`Err`: the read fails with that detail).
    pub secret: Arc<Mutex<Result<String, String>>>,
    /// `DescribeSecret`'s answer.
    pub meta: Arc<Mutex<Result<RotationMetadata, SourceError>>>,
    /// The `AWSPENDING` value, if any.
    pub pending: Arc<Mutex<Option<String>>>,
}

impl FakeCredentials {
    /// A secret `secret_id` holding `value` at `AWSCURRENT`, with `meta`, and no pending version.
    pub fn new(secret_id: &str, value: String, meta: RotationMetadata) -> Self {
        Self {
            secret_id: secret_id.to_owned(),
            secret: Arc::new(Mutex::new(Ok(value))),
            meta: Arc::new(Mutex::new(Ok(meta))),
            pending: Arc::new(Mutex::new(None)),
        }
    }
}

impl CredentialsSource for FakeCredentials {
    async fn current(&self) -> Result<Credentials, CredentialsError> {
        let value = self.secret.lock().expect("lock").clone();
        match value {
            Err(detail) => Err(CredentialsError::Unreadable {
                secret: self.secret_id.clone(),
                detail,
            }),
            Ok(v) => Credentials::parse(&v).map_err(|source| CredentialsError::Malformed {
                secret: self.secret_id.clone(),
                source,
            }),
        }
    }

    async fn metadata(&self) -> Result<RotationMetadata, SourceError> {
        self.meta.lock().expect("lock").clone()
    }

    async fn pending(&self) -> Option<Credentials> {
        let value = self.pending.lock().expect("lock").clone()?;
        Credentials::parse(&value).ok()
    }
}

/// The retriever's checkpoint parameter: its stored value (`None`: missing) or a read error.
#[derive(Debug, Clone)]
pub struct FakeCheckpoint {
    /// The parameter's name.
    pub name: String,
    /// The stored value.
    pub value: Arc<Mutex<Result<Option<String>, SourceError>>>,
}

impl FakeCheckpoint {
    /// A parameter `name` that does not exist yet.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: Arc::new(Mutex::new(Ok(None))),
        }
    }
}

impl CheckpointSource for FakeCheckpoint {
    fn name(&self) -> &str {
        &self.name
    }

    async fn read(&self) -> Result<Option<String>, SourceError> {
        self.value.lock().expect("lock").clone()
    }
}

/// A TLS probe that always finds TLS 1.3.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedTls;

impl TlsInspector for FixedTls {
    async fn negotiated_version(&self, _base: &ApiBase) -> Result<String, String> {
        Ok("TLSv1.3".into())
    }
}
