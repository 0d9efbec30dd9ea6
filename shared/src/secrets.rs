//! AWS Secrets Manager: the port the rotation (and the checks) use, and its SDK adapter.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use std::collections::HashMap;
use std::future::Future;
use time::OffsetDateTime;

/// Label of the version in use.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// Label of the version being rotated in.
pub const AWSPENDING: &str = "AWSPENDING";
/// Label of the version used before the last rotation.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
/// Our own staging label, put on the pending version *before* `/v1/change-password` is called
/// for it. Without it the change was never attempted, so the pending password cannot work and
/// need not be probed (a probe would be a failed login at Suomi.fi). Secrets Manager allows
/// custom labels (1–256 characters); a label sits on one version at a time.
pub const CHANGE_ATTEMPTED: &str = "SUOMIFI_CHANGE_ATTEMPTED";

/// What `DescribeSecret` says about a secret (no values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretMeta {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Whether rotation is enabled.
    pub rotation_enabled: bool,
    /// Version id → staging labels.
    pub versions: HashMap<String, Vec<String>>,
    /// Last successful rotation.
    pub last_rotated: Option<OffsetDateTime>,
    /// Last change of the value or metadata.
    pub last_changed: Option<OffsetDateTime>,
    /// Next scheduled rotation.
    pub next_rotation: Option<OffsetDateTime>,
    /// Creation date.
    pub created: Option<OffsetDateTime>,
}

impl SecretMeta {
    /// The version holding `stage`, if any.
    pub fn version_with(&self, stage: &str) -> Option<&str> {
        self.versions
            .iter()
            .find(|(_, stages)| stages.iter().any(|s| s == stage))
            .map(|(v, _)| v.as_str())
    }

    /// The labels of `version`, if it exists.
    pub fn stages_of(&self, version: &str) -> Option<&[String]> {
        self.versions.get(version).map(Vec::as_slice)
    }

    /// A rotation has not finished: `AWSPENDING` sits on a version that is not `AWSCURRENT` (see
    /// [`rotation_unfinished`]).
    pub fn rotation_unfinished(&self) -> bool {
        rotation_unfinished(self.version_with(AWSCURRENT), self.version_with(AWSPENDING))
    }
}

/// The one rule on the two labels, given the versions they sit on: a rotation has not finished
/// (it is running, or failed and left its pending version behind) when `AWSPENDING` is on a
/// version that is not `AWSCURRENT`. `AWSPENDING` left on the current version (a `finishSecret`
/// that did not remove it) is harmless and does not count. While it holds, Secrets Manager
/// refuses a new `RotateSecret`.
pub fn rotation_unfinished(current: Option<&str>, pending: Option<&str>) -> bool {
    match (pending, current) {
        (Some(p), Some(c)) => p != c,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// A Secrets Manager call failed.
#[derive(Debug, thiserror::Error)]
#[error("Secrets Manager {operation} on `{secret_id}` failed: {detail}")]
pub struct SecretsError {
    /// The API operation.
    pub operation: &'static str,
    /// The secret.
    pub secret_id: String,
    /// The service's error code, e.g. `ResourceExistsException`.
    pub code: Option<String>,
    /// Code and message as the service gave them.
    pub detail: String,
    /// The SDK's error itself (`None` for errors that fakes make).
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SecretsError {
    /// `PutSecretValue` refused a different value for an existing version id.
    pub fn is_resource_exists(&self) -> bool {
        self.code.as_deref() == Some("ResourceExistsException")
    }
}

/// Port: the Secrets Manager operations this project needs.
pub trait SecretStore: Send + Sync {
    /// `DescribeSecret`.
    fn describe(
        &self,
        secret_id: &str,
    ) -> impl Future<Output = Result<SecretMeta, SecretsError>> + Send;

    /// `GetSecretValue` by stage and optionally version; `Ok(None)` when that version has no
    /// value (as the empty `AWSPENDING` version Secrets Manager creates before `createSecret`).
    fn get_value(
        &self,
        secret_id: &str,
        version_id: Option<&str>,
        stage: &str,
    ) -> impl Future<Output = Result<Option<String>, SecretsError>> + Send;

    /// `PutSecretValue(ClientRequestToken = token, VersionStages = [AWSPENDING])`.
    fn put_pending(
        &self,
        secret_id: &str,
        token: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), SecretsError>> + Send;

    /// `UpdateSecretVersionStage`: move `stage` to `to_version` (and/or remove it from `from_version`).
    fn update_stage(
        &self,
        secret_id: &str,
        stage: &str,
        to_version: Option<&str>,
        from_version: Option<&str>,
    ) -> impl Future<Output = Result<(), SecretsError>> + Send;
}

/// The SDK adapter.
#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    /// Wraps a client.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

fn to_time(d: Option<&aws_sdk_secretsmanager::primitives::DateTime>) -> Option<OffsetDateTime> {
    d.and_then(|d| OffsetDateTime::from_unix_timestamp_nanos(d.as_nanos()).ok())
}

fn sm_err<E, R>(
    operation: &'static str,
    secret_id: &str,
    e: aws_sdk_secretsmanager::error::SdkError<E, R>,
) -> SecretsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    SecretsError {
        operation,
        secret_id: secret_id.to_owned(),
        code: e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_owned),
        detail: crate::aws::sdk_error_detail(&e),
        source: Some(Box::new(e)),
    }
}

impl SecretStore for SecretsManager {
    async fn describe(&self, secret_id: &str) -> Result<SecretMeta, SecretsError> {
        let out = self
            .client
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| sm_err("DescribeSecret", secret_id, e))?;
        Ok(SecretMeta {
            arn: out.arn().unwrap_or_default().to_owned(),
            name: out.name().unwrap_or_default().to_owned(),
            rotation_enabled: out.rotation_enabled().unwrap_or(false),
            versions: out.version_ids_to_stages().cloned().unwrap_or_default(),
            last_rotated: to_time(out.last_rotated_date()),
            last_changed: to_time(out.last_changed_date()),
            next_rotation: to_time(out.next_rotation_date()),
            created: to_time(out.created_date()),
        })
    }

    async fn get_value(
        &self,
        secret_id: &str,
        version_id: Option<&str>,
        stage: &str,
    ) -> Result<Option<String>, SecretsError> {
        let res = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .set_version_id(version_id.map(str::to_owned))
            .version_stage(stage)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.secret_string().map(str::to_owned)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sm_err("GetSecretValue", secret_id, e)),
        }
    }

    async fn put_pending(
        &self,
        secret_id: &str,
        token: &str,
        value: &str,
    ) -> Result<(), SecretsError> {
        self.client
            .put_secret_value()
            .secret_id(secret_id)
            .client_request_token(token)
            .secret_string(value)
            .version_stages(AWSPENDING)
            .send()
            .await
            .map_err(|e| sm_err("PutSecretValue", secret_id, e))?;
        Ok(())
    }

    async fn update_stage(
        &self,
        secret_id: &str,
        stage: &str,
        to_version: Option<&str>,
        from_version: Option<&str>,
    ) -> Result<(), SecretsError> {
        self.client
            .update_secret_version_stage()
            .secret_id(secret_id)
            .version_stage(stage)
            .set_move_to_version_id(to_version.map(str::to_owned))
            .set_remove_from_version_id(from_version.map(str::to_owned))
            .send()
            .await
            .map_err(|e| sm_err("UpdateSecretVersionStage", secret_id, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_label_counts_only_when_it_is_not_on_the_current_version() {
        let meta = |pairs: &[(&str, &[&str])]| SecretMeta {
            versions: pairs
                .iter()
                .map(|(v, st)| {
                    (
                        (*v).to_owned(),
                        st.iter().map(|s| (*s).to_owned()).collect(),
                    )
                })
                .collect(),
            ..SecretMeta::default()
        };
        assert!(!meta(&[("a", &["AWSCURRENT"]), ("b", &["AWSPREVIOUS"])]).rotation_unfinished());
        // AWSPENDING on the current version: finishSecret did not remove it; harmless.
        assert!(!meta(&[("a", &["AWSCURRENT", "AWSPENDING"])]).rotation_unfinished());
        assert!(meta(&[("a", &["AWSCURRENT"]), ("b", &["AWSPENDING"])]).rotation_unfinished());
        assert!(meta(&[("b", &["AWSPENDING"])]).rotation_unfinished());
        assert!(!rotation_unfinished(None, None));
    }
}
