//! The function's one error type. An unreachable OSV is no error (it is the `unknown` result,
//! with its own alert); the run fails only when it could not do its alerting.

/// The run could not do all it had to. The report was still produced and logged; the error
/// makes the invocation fail so Lambda's `Errors` metric (and its alarm) sees it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The state table or SNS failed: a notification may be missing. The next run retries.
    #[error("{count} state-table or notification operation(s) failed; first: {first}")]
    Alerting {
        /// How many.
        count: usize,
        /// The first, with the alert it concerned.
        first: String,
    },
}

impl HandlerError {
    /// Stable `errorType` for alarms and log filters (`CheckUpdates.<Kind>`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Alerting { .. } => "CheckUpdates.AlertingFailed",
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
            first: "advisory RUSTSEC-2099-0001: state table down".into(),
        };
        let d = lambda_runtime::Diagnostic::from(e);
        assert_eq!(d.error_type, "CheckUpdates.AlertingFailed");
        assert!(d.error_message.contains("2 state-table"));
    }
}
