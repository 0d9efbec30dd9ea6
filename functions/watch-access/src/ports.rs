//! The function's own ports (Secrets Manager's metadata and rotation, EventBridge Scheduler) and
//! their AWS adapters, which keep the SDK error as a typed `#[source]`; in-memory fakes behind
//! the `testing` feature. (State table, notifier and clock are the shared crate's ports.)
//!
//! This function never reads a secret value: the role has no `GetSecretValue`, and no port here
//! has a call that returns one.

use crate::ledger::SecretState;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use std::future::Future;
use time::OffsetDateTime;

/// An AWS call failed.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on `{target}`: {detail}")]
pub struct AwsError {
    /// The API operation (`RotateSecret`, `CreateSchedule`, ...).
    pub operation: &'static str,
    /// The secret or schedule.
    pub target: String,
    /// The service's error code, if it answered.
    pub code: Option<String>,
    /// Code and message, or the error chain.
    pub detail: String,
    /// The SDK error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl AwsError {
    /// An error of `operation` on `target`.
    pub fn new(
        operation: &'static str,
        target: &str,
        code: Option<String>,
        detail: impl Into<String>,
        source: Box<dyn std::error::Error + Send + Sync>,
    ) -> Self {
        Self {
            operation,
            target: target.to_owned(),
            code,
            detail: detail.into(),
            source,
        }
    }

    fn sdk<E, R>(
        operation: &'static str,
        target: &str,
        e: aws_smithy_runtime_api_error::SdkError<E, R>,
    ) -> Self
    where
        E: aws_sdk_secretsmanager::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_owned);
        let detail = suomifi_shared::aws::sdk_error_detail(&e);
        Self::new(operation, target, code, detail, Box::new(e))
    }
}

// The SDK crates re-export one `SdkError`; name it once.
mod aws_smithy_runtime_api_error {
    pub use aws_sdk_secretsmanager::error::SdkError;
}

/// What `RotateSecret` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateOutcome {
    /// A rotation started.
    Started,
    /// One was running already (Secrets Manager refused a second): it answers the request.
    AlreadyRunning,
}

/// Port: Secrets Manager, metadata and rotation only.
pub trait Secrets: Send + Sync {
    /// `DescribeSecret`: versions, stages, last rotation.
    fn describe(&self, arn: &str) -> impl Future<Output = Result<SecretState, AwsError>> + Send;
    /// `RotateSecret` with the secret's configured rotation.
    fn rotate(&self, arn: &str) -> impl Future<Output = Result<RotateOutcome, AwsError>> + Send;
    /// `GetResourcePolicy`: the policy document, if any.
    fn policy(&self, arn: &str) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
}

/// A one-time schedule that invokes this function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeSchedule {
    /// Deterministic name (see [`crate::ledger::schedule_name`]).
    pub name: String,
    /// Schedule group.
    pub group: String,
    /// When.
    pub at: OffsetDateTime,
    /// This function's ARN.
    pub target_arn: String,
    /// The role Scheduler assumes.
    pub role_arn: String,
    /// The event (`{"rotateSecret": ARN}`).
    pub input: String,
    /// The dead-letter queue for an event Scheduler could not deliver, if any.
    pub dead_letter_arn: Option<String>,
}

/// What creating a schedule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleOutcome {
    /// Created.
    Created,
    /// A schedule of that name exists (`ConflictException`): already scheduled.
    AlreadyScheduled,
}

/// Port: EventBridge Scheduler.
pub trait Scheduler: Send + Sync {
    /// Creates `schedule`, deleted by Scheduler after it runs.
    fn create(
        &self,
        schedule: &OneTimeSchedule,
    ) -> impl Future<Output = Result<ScheduleOutcome, AwsError>> + Send;
}

/// The Secrets Manager adapter: `DescribeSecret` through the shared adapter (one reading of
/// `VersionIdsToStages` and the dates for every function), rotation and policy calls here.
#[derive(Debug, Clone)]
pub struct SecretsManagerAdapter {
    shared: suomifi_shared::secrets::SecretsManager,
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManagerAdapter {
    /// Wraps a client.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            shared: suomifi_shared::secrets::SecretsManager::new(client.clone()),
            client,
        }
    }
}

impl From<suomifi_shared::secrets::SecretMeta> for SecretState {
    fn from(meta: suomifi_shared::secrets::SecretMeta) -> Self {
        // A staging label sits on one version at a time.
        let staged = |label: &str| meta.version_with(label).map(str::to_owned);
        Self {
            current_version: staged("AWSCURRENT"),
            pending_version: staged("AWSPENDING"),
            last_rotated: meta.last_rotated,
            arn: meta.arn,
            name: meta.name,
        }
    }
}

impl Secrets for SecretsManagerAdapter {
    async fn describe(&self, arn: &str) -> Result<SecretState, AwsError> {
        use suomifi_shared::secrets::SecretStore;
        let mut state = SecretState::from(self.shared.describe(arn).await.map_err(|e| {
            let (operation, code, detail) = (e.operation, e.code.clone(), e.detail.clone());
            AwsError::new(operation, arn, code, detail, Box::new(e))
        })?);
        if state.arn.is_empty() {
            arn.clone_into(&mut state.arn);
        }
        Ok(state)
    }

    async fn rotate(&self, arn: &str) -> Result<RotateOutcome, AwsError> {
        match self.client.rotate_secret().secret_id(arn).send().await {
            Ok(_) => Ok(RotateOutcome::Started),
            Err(e) => {
                let invalid = e
                    .as_service_error()
                    .is_some_and(|s| s.is_invalid_request_exception());
                // "A previous rotation isn't complete": the running rotation answers the request.
                // Other InvalidRequestExceptions (no rotation configured, secret deleted) fail.
                if invalid && self.describe(arn).await.is_ok_and(|s| s.rotation_running()) {
                    return Ok(RotateOutcome::AlreadyRunning);
                }
                Err(AwsError::sdk("RotateSecret", arn, e))
            }
        }
    }

    async fn policy(&self, arn: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .get_resource_policy()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("GetResourcePolicy", arn, e))?;
        Ok(out.resource_policy)
    }
}

/// The EventBridge Scheduler adapter.
#[derive(Debug, Clone)]
pub struct SchedulerAdapter(pub aws_sdk_scheduler::Client);

fn build_error(name: &str, e: aws_sdk_scheduler::error::BuildError) -> AwsError {
    AwsError::new("CreateSchedule", name, None, e.to_string(), Box::new(e))
}

impl Scheduler for SchedulerAdapter {
    async fn create(&self, s: &OneTimeSchedule) -> Result<ScheduleOutcome, AwsError> {
        // Delivery retried for an hour, then dead-lettered (the queue's alarm notifies): a
        // rotation that could not be asked for must not vanish silently.
        let target = Target::builder()
            .arn(&s.target_arn)
            .role_arn(&s.role_arn)
            .input(&s.input)
            .retry_policy(
                aws_sdk_scheduler::types::RetryPolicy::builder()
                    .maximum_retry_attempts(10)
                    .maximum_event_age_in_seconds(3600)
                    .build(),
            )
            .set_dead_letter_config(s.dead_letter_arn.as_ref().map(|arn| {
                aws_sdk_scheduler::types::DeadLetterConfig::builder()
                    .arn(arn)
                    .build()
            }))
            .build()
            .map_err(|e| build_error(&s.name, e))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| build_error(&s.name, e))?;
        let res = self
            .0
            .create_schedule()
            .name(&s.name)
            .group_name(&s.group)
            .schedule_expression(crate::ledger::at_expression(s.at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .description("watch-access: rotate the password a person has read")
            .target(target)
            .send()
            .await;
        match res {
            Ok(_) => Ok(ScheduleOutcome::Created),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Ok(ScheduleOutcome::AlreadyScheduled)
            }
            Err(e) => Err(AwsError::sdk("CreateSchedule", &s.name, e)),
        }
    }
}
