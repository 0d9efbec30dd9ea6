//! The function's one error type. Events it cannot act on are no error (logged and ignored);
//! the invocation fails only when it could not do what an event asked (record, notify, rotate,
//! schedule), so that Lambda retries the event and, after its retries, the on-failure
//! destination keeps it with the error.

use crate::ports::AwsError;
use suomifi_shared::alerts::LifecycleError;
use suomifi_shared::notify::NotifyError;
use suomifi_shared::state::StateError;

/// What failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The state table failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A notification could not be published (the ledger claim was rolled back).
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// The alert lifecycle failed (policy alerts).
    #[error(transparent)]
    Alerting(#[from] LifecycleError),
    /// Secrets Manager or EventBridge Scheduler failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Another invocation kept changing the same ledger.
    #[error("the ledger of `{0}` kept changing under concurrent invocations")]
    Contended(String),
}

impl HandlerError {
    /// Stable `errorType` for alarms and log filters (`WatchAccess.<Kind>`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::State(_) | Self::Contended(_) => "WatchAccess.StateFailed",
            Self::Notify(_) | Self::Alerting(_) => "WatchAccess.AlertingFailed",
            Self::Aws(e) if e.operation == "CreateSchedule" => "WatchAccess.ScheduleFailed",
            Self::Aws(e) if e.operation == "RotateSecret" => "WatchAccess.RotateFailed",
            Self::Aws(_) => "WatchAccess.SecretsManagerFailed",
        }
    }
}

suomifi_shared::lambda_diagnostic!(HandlerError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_follow_the_project_scheme() {
        let e = HandlerError::Aws(AwsError::new(
            "RotateSecret",
            "arn:s",
            Some("InvalidRequestException".into()),
            "no rotation function",
            "x".into(),
        ));
        assert_eq!(e.error_type(), "WatchAccess.RotateFailed");
        let d = lambda_runtime::Diagnostic::from(e);
        assert!(
            d.error_message.contains("RotateSecret"),
            "{}",
            d.error_message
        );
        assert!(d.error_message.contains("arn:s"), "{}", d.error_message);
        assert_eq!(
            HandlerError::Contended("s".into()).error_type(),
            "WatchAccess.StateFailed"
        );
    }
}
