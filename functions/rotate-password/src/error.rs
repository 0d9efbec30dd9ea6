//! The function's one error type. Each variant maps to a stable `error_type`
//! (`RotatePassword.<Kind>`) that alarms and log filters select, and the Lambda answer carries it.

use suomifi_shared::secret::SecretError;
use suomifi_shared::secrets::SecretsError;
use suomifi_shared::suomifi::{ApiError, TraceId};

/// Everything that can stop a step. Each maps to a stable `error_type` for alarms.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The event is not a Secrets Manager rotation event.
    #[error("not a Secrets Manager rotation event: {0}")]
    InvalidEvent(String),
    /// `Step` is none of the four.
    #[error(
        "unknown rotation step `{0}`; expected createSecret, setSecret, testSecret or finishSecret"
    )]
    UnknownStep(String),
    /// Rotation is not enabled on the secret.
    #[error(
        "rotation is not enabled on secret `{0}`; enable it (RotateSecret / the template's RotationSchedule) before invoking the rotation function"
    )]
    RotationDisabled(String),
    /// The token is not a version of the secret.
    #[error("ClientRequestToken `{token}` is not a version of secret `{secret}`")]
    TokenNotAVersion {
        /// Secret.
        secret: String,
        /// Token.
        token: String,
    },
    /// The token's version is neither current nor pending.
    #[error(
        "version `{token}` of secret `{secret}` is not staged AWSPENDING; another rotation may have replaced it"
    )]
    NotPending {
        /// Secret.
        secret: String,
        /// Token.
        token: String,
    },
    /// The stored credentials cannot be used.
    #[error("the {stage} value of secret `{secret}` is not usable credentials: {source}")]
    InvalidSecret {
        /// Secret.
        secret: String,
        /// Which version.
        stage: &'static str,
        /// Why.
        #[source]
        source: SecretError,
    },
    /// Current and pending versions disagree on username or API URL.
    #[error(
        "the AWSCURRENT and AWSPENDING values of secret `{0}` name different usernames or apiUrls (one was edited during the rotation); nothing was changed at Suomi.fi by this step; run `suomifi-ops recover --secret-id {0}`, which keeps whichever stored password Suomi.fi accepts"
    )]
    PendingMismatch(String),
    /// `setSecret`/`finishSecret` ran before `createSecret` stored a password.
    #[error(
        "secret `{secret}` has no AWSPENDING value for version `{token}` yet (createSecret has not run)"
    )]
    PendingMissing {
        /// Secret.
        secret: String,
        /// Token.
        token: String,
    },
    /// Secrets Manager failed.
    #[error(transparent)]
    SecretsManager(#[from] SecretsError),
    /// Suomi.fi could not be asked, or answered unclearly; nothing was lost, retry later.
    #[error("{context}: {source}")]
    Suomifi {
        /// What we were doing.
        context: &'static str,
        /// The API error.
        #[source]
        source: ApiError,
    },
    /// Suomi.fi refused the change because the last one was too recent.
    #[error(
        "Suomi.fi refused the change for now (cool-down after the last change: {reason}); the pending password is kept and the change is retried on the next attempt"
    )]
    CoolDown {
        /// Server's reason.
        reason: String,
    },
    /// Suomi.fi refused the change for another reason (a permanent 4xx): a person must look.
    #[error(
        "Suomi.fi refused the password change: {reason} (traceId {trace_id}); the current password still works and nothing was changed"
    )]
    ChangeRefused {
        /// Server's reason.
        reason: String,
        /// traceId.
        trace_id: TraceId,
    },
    /// Neither the current nor the pending password is accepted.
    #[error(
        "Suomi.fi accepts neither the AWSCURRENT nor the AWSPENDING password of secret `{0}`: the password was changed outside this rotation or the secret is out of date; nothing was changed"
    )]
    DriftDetected(String),
    /// The current password was refused once and then accepted: retry later.
    #[error(
        "Suomi.fi refused the AWSCURRENT password of secret `{0}` once and then accepted it; nothing was changed, the change is retried on the next attempt"
    )]
    TransientRefusal(String),
    /// `finishSecret` found that the pending password does not work (setSecret has not succeeded).
    #[error(
        "the AWSPENDING password of secret `{0}` is not accepted by Suomi.fi yet; not promoting it"
    )]
    PendingNotAccepted(String),
    /// The test of DVV's recipe (token + events) failed.
    #[error("testing the {which} password of secret `{secret}` failed: {source}")]
    TestFailed {
        /// Secret.
        secret: String,
        /// Pending or current.
        which: &'static str,
        /// Why.
        #[source]
        source: ApiError,
    },
}

impl RotationError {
    /// The Suomi.fi traceId the error carries, if any.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Suomifi { source, .. } | Self::TestFailed { source, .. } => source.trace_id(),
            Self::ChangeRefused { trace_id, .. } => trace_id.0.as_deref(),
            _ => None,
        }
    }

    /// Stable name for alarms and log filters, `RotatePassword.<kind>` (one scheme for every
    /// function: `<Function>.<kind>`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) => "RotatePassword.InvalidEvent",
            Self::UnknownStep(_) => "RotatePassword.UnknownStep",
            Self::RotationDisabled(_) => "RotatePassword.RotationDisabled",
            Self::TokenNotAVersion { .. } | Self::NotPending { .. } => {
                "RotatePassword.InvalidToken"
            }
            Self::InvalidSecret { .. } | Self::PendingMismatch(_) => "RotatePassword.InvalidSecret",
            Self::PendingMissing { .. }
            | Self::SecretsManager(_)
            | Self::Suomifi { .. }
            | Self::CoolDown { .. }
            | Self::TransientRefusal(_)
            | Self::PendingNotAccepted(_) => "RotatePassword.Retryable",
            Self::ChangeRefused { .. } => "RotatePassword.ChangeRefused",
            Self::DriftDetected(_) => "RotatePassword.DriftDetected",
            Self::TestFailed { .. } => "RotatePassword.TestFailed",
        }
    }
}

suomifi_shared::lambda_diagnostic!(RotationError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lambda_answer_carries_the_error_type_and_the_message() {
        let d = lambda_runtime::Diagnostic::from(RotationError::DriftDetected("arn:s".into()));
        assert_eq!(d.error_type, "RotatePassword.DriftDetected");
        assert!(d.error_message.contains("arn:s"), "{}", d.error_message);
        let d = lambda_runtime::Diagnostic::from(RotationError::PendingMissing {
            secret: "arn:s".into(),
            token: "t1".into(),
        });
        assert_eq!(d.error_type, "RotatePassword.Retryable");
        assert!(d.error_message.contains("t1"), "{}", d.error_message);
    }
}
