//! The function's one error type. A broken certificate or an unreachable source is no error (it
//! is a finding, reported and alerted); the invocation fails only when the run could not do all
//! it had to — a state-table write or a notification — so that Lambda's `Errors` metric (and its
//! alarm) sees it. Every target is still checked, reported and measured first.

/// The run could not do all it had to. Every target was still checked, reported and measured;
/// the error makes the invocation fail so Lambda's `Errors` metric (and its alarm) sees it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The state table or SNS failed for some targets: a notification may be missing.
    #[error("{count} state-table or notification operation(s) failed; first: {first}")]
    Alerting {
        /// How many.
        count: usize,
        /// The first, with the target and alert it concerned.
        first: String,
    },
}

impl HandlerError {
    /// Stable `errorType` for alarms and log filters (`CheckCertificates.<Kind>`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Alerting { .. } => "CheckCertificates.AlertingFailed",
        }
    }
}

suomifi_shared::lambda_diagnostic!(HandlerError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_follow_the_project_scheme() {
        let e = HandlerError::Alerting {
            count: 2,
            first: "target `api`, expiry alert: SNS Publish failed".into(),
        };
        assert_eq!(e.error_type(), "CheckCertificates.AlertingFailed");
        let d = lambda_runtime::Diagnostic::from(e);
        assert_eq!(d.error_type, "CheckCertificates.AlertingFailed");
        assert!(
            d.error_message
                .starts_with("2 state-table or notification operation(s) failed"),
            "{}",
            d.error_message
        );
        assert!(
            d.error_message.contains("target `api`"),
            "{}",
            d.error_message
        );
    }
}
