//! The events the function understands (Secrets Manager's rotation event, parsed into types) and
//! the answer it gives for each step. Pure: no AWS SDK, no tokio, no HTTP.

use crate::error::RotationError;
use serde::Serialize;

/// The four rotation steps, as Secrets Manager names them on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// `createSecret`: store a new password as `AWSPENDING`.
    #[serde(rename = "createSecret")]
    Create,
    /// `setSecret`: change the password at Suomi.fi.
    #[serde(rename = "setSecret")]
    Set,
    /// `testSecret`: prove the pending password works.
    #[serde(rename = "testSecret")]
    Test,
    /// `finishSecret`: make the pending version `AWSCURRENT`.
    #[serde(rename = "finishSecret")]
    Finish,
}

impl Step {
    /// Parses the wire name; anything else is [`RotationError::UnknownStep`].
    pub fn parse(s: &str) -> Result<Self, RotationError> {
        match s {
            "createSecret" => Ok(Self::Create),
            "setSecret" => Ok(Self::Set),
            "testSecret" => Ok(Self::Test),
            "finishSecret" => Ok(Self::Finish),
            other => Err(RotationError::UnknownStep(other.chars().take(64).collect())),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "createSecret",
            Self::Set => "setSecret",
            Self::Test => "testSecret",
            Self::Finish => "finishSecret",
        }
    }
}

/// A rotation request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationEvent {
    /// ARN or name of the secret.
    pub secret_id: String,
    /// `ClientRequestToken`: the version being rotated in.
    pub token: String,
    /// Which step.
    pub step: Step,
}

impl RotationEvent {
    /// Parses the event Secrets Manager sends (`RotationToken`, for cross-account rotation, is
    /// accepted and not needed here).
    pub fn from_json(v: serde_json::Value) -> Result<Self, RotationError> {
        let raw: aws_lambda_events::event::secretsmanager::SecretsManagerSecretRotationEvent =
            serde_json::from_value(v).map_err(|e| RotationError::InvalidEvent(e.to_string()))?;
        if raw.secret_id.is_empty() || raw.client_request_token.is_empty() {
            return Err(RotationError::InvalidEvent(
                "SecretId and ClientRequestToken must not be empty".into(),
            ));
        }
        Ok(Self {
            step: Step::parse(&raw.step)?,
            secret_id: raw.secret_id,
            token: raw.client_request_token,
        })
    }
}

/// What a step did, returned to Secrets Manager and logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepOutcome {
    /// The step.
    pub step: Step,
    /// What happened, e.g. `created`, `already_created`, `changed`, `already_changed`.
    pub outcome: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_into_types_and_unknown_steps_are_errors() {
        let ok = RotationEvent::from_json(serde_json::json!({
            "Step": "setSecret", "SecretId": "arn:x", "ClientRequestToken": "t", "RotationToken": "r"
        }))
        .unwrap();
        assert_eq!(ok.step, Step::Set);
        let err = RotationEvent::from_json(serde_json::json!({
            "Step": "set_secret", "SecretId": "arn:x", "ClientRequestToken": "t"
        }))
        .unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.UnknownStep");
        let err = RotationEvent::from_json(serde_json::json!({"SecretId": "arn:x"})).unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.InvalidEvent");
        let err = RotationEvent::from_json(serde_json::json!([1, 2])).unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.InvalidEvent");
    }

    #[test]
    fn the_event_fixtures_parse_into_their_steps() {
        for (json, step) in [
            (
                include_str!("../../../events/rotation-createSecret.json"),
                Step::Create,
            ),
            (
                include_str!("../../../events/rotation-setSecret.json"),
                Step::Set,
            ),
            (
                include_str!("../../../events/rotation-testSecret.json"),
                Step::Test,
            ),
            (
                include_str!("../../../events/rotation-finishSecret.json"),
                Step::Finish,
            ),
        ] {
            let ev = RotationEvent::from_json(serde_json::from_str(json).unwrap()).unwrap();
            assert_eq!(ev.step, step);
            assert!(ev.secret_id.starts_with("arn:aws:secretsmanager:"));
        }
        // A scheduled event is not a rotation event.
        let err = RotationEvent::from_json(
            serde_json::from_str(include_str!("../../../events/scheduled-rule.json")).unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.InvalidEvent");
    }
}
