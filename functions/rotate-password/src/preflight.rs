//! The state check every step starts with, as AWS's rotation template does, decided on the
//! secret's metadata alone, and the version naming it relies on. Pure: no AWS SDK, no tokio, no
//! HTTP (the rotation reads the metadata and hands it here).

use crate::error::RotationError;
use crate::event::RotationEvent;
use suomifi_shared::secrets::{AWSCURRENT, AWSPENDING, SecretMeta};

/// Result of preflight.
#[derive(Debug)]
pub enum Preflight {
    /// The token is already `AWSCURRENT`.
    AlreadyCurrent(SecretMeta),
    /// The token is `AWSPENDING`: go on.
    Pending(SecretMeta),
}

/// The version id under which `finishSecret` stores the promoted password merged with a
/// person's edit of `AWSCURRENT` made during the rotation (see [`crate::Rotator`]'s `finish`):
/// derived from the token, so a retry writes the same version (a no-op) and never a second one.
pub fn merged_version_id(token: &str) -> String {
    let keep: String = token.chars().take(62).collect();
    format!("{keep}-m")
}

/// Decides whether the step may go on, from the secret's metadata (`DescribeSecret`): rotation
/// must be enabled, the token must be a version of the secret, and that version (or the merged
/// version derived from it) `AWSCURRENT` — the rotation already finished — or `AWSPENDING`.
pub fn preflight(meta: SecretMeta, ev: &RotationEvent) -> Result<Preflight, RotationError> {
    if !meta.rotation_enabled {
        return Err(RotationError::RotationDisabled(ev.secret_id.clone()));
    }
    let Some(stages) = meta.stages_of(&ev.token) else {
        return Err(RotationError::TokenNotAVersion {
            secret: ev.secret_id.clone(),
            token: ev.token.clone(),
        });
    };
    if stages.iter().any(|s| s == AWSCURRENT)
        || meta
            .stages_of(&merged_version_id(&ev.token))
            .is_some_and(|s| s.iter().any(|l| l == AWSCURRENT))
    {
        return Ok(Preflight::AlreadyCurrent(meta));
    }
    if !stages.iter().any(|s| s == AWSPENDING) {
        return Err(RotationError::NotPending {
            secret: ev.secret_id.clone(),
            token: ev.token.clone(),
        });
    }
    Ok(Preflight::Pending(meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Step;

    fn meta(enabled: bool, versions: &[(&str, &[&str])]) -> SecretMeta {
        SecretMeta {
            rotation_enabled: enabled,
            versions: versions
                .iter()
                .map(|(v, labels)| {
                    (
                        (*v).to_owned(),
                        labels.iter().map(|l| (*l).to_owned()).collect(),
                    )
                })
                .collect(),
            ..SecretMeta::default()
        }
    }

    fn ev(token: &str) -> RotationEvent {
        RotationEvent {
            secret_id: "arn:secret".into(),
            token: token.into(),
            step: Step::Set,
        }
    }

    #[test]
    fn a_pending_token_goes_on_and_a_current_one_is_done() {
        let m = meta(true, &[("v0", &[AWSCURRENT]), ("t1", &[AWSPENDING])]);
        assert!(matches!(preflight(m, &ev("t1")), Ok(Preflight::Pending(_))));
        let m = meta(true, &[("v0", &["AWSPREVIOUS"]), ("t1", &[AWSCURRENT])]);
        assert!(matches!(
            preflight(m, &ev("t1")),
            Ok(Preflight::AlreadyCurrent(_))
        ));
    }

    #[test]
    fn a_current_merged_version_means_the_rotation_finished() {
        let merged = merged_version_id("t1");
        let m = meta(
            true,
            &[("t1", &["AWSPREVIOUS"]), (merged.as_str(), &[AWSCURRENT])],
        );
        assert!(matches!(
            preflight(m, &ev("t1")),
            Ok(Preflight::AlreadyCurrent(_))
        ));
    }

    #[test]
    fn bad_states_are_typed_errors() {
        let m = meta(false, &[("t1", &[AWSPENDING])]);
        let err = preflight(m, &ev("t1")).unwrap_err();
        assert_eq!(err.error_type(), "RotatePassword.RotationDisabled");
        let m = meta(true, &[("v0", &[AWSCURRENT])]);
        let err = preflight(m, &ev("t1")).unwrap_err();
        assert!(
            matches!(err, RotationError::TokenNotAVersion { .. }),
            "{err:?}"
        );
        assert_eq!(err.error_type(), "RotatePassword.InvalidToken");
        let m = meta(true, &[("v0", &[AWSCURRENT]), ("t1", &["AWSPREVIOUS"])]);
        let err = preflight(m, &ev("t1")).unwrap_err();
        assert!(matches!(err, RotationError::NotPending { .. }), "{err:?}");
        assert_eq!(err.error_type(), "RotatePassword.InvalidToken");
    }

    #[test]
    fn the_merged_version_id_is_derived_from_the_token_and_bounded() {
        assert_eq!(merged_version_id("t1"), "t1-m");
        assert_eq!(merged_version_id("t1"), merged_version_id("t1"));
        let long = "x".repeat(100);
        assert_eq!(merged_version_id(&long).chars().count(), 64);
    }
}
