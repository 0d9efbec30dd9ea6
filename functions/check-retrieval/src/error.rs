//! The function's one error type: a run fails only when the watcher itself is broken (see the
//! crate docs), with `error_type`s in the project's scheme (`CheckRetrieval.<Kind>`).

use crate::report::Report;
use suomifi_shared::alerts::LifecycleError;
use suomifi_shared::state::StateError;

/// A run failed because the watcher itself is broken (see the crate docs for why only then).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Alert state could not be written or an alert could not be published. The report of the
    /// run is kept (it was logged).
    #[error("{} alert(s) could not be recorded or published: {}", .failures.len(), join(.failures))]
    Alerting {
        /// Each failure.
        failures: Vec<LifecycleError>,
        /// The report the run produced.
        report: Box<Report>,
    },
    /// The state table failed while reading or writing this checker's own cursor.
    #[error(transparent)]
    State(#[from] StateError),
}

fn join(errors: &[LifecycleError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl CheckError {
    /// A stable name for the Lambda error type (alarms and log filters match on it).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Alerting { .. } => "CheckRetrieval.AlertingFailed",
            Self::State(_) => "CheckRetrieval.StateTableFailed",
        }
    }
}
