//! Pure rules of the rotation: how a failed change is classified, and what a person is told.
//! No I/O here; every text is advice someone may follow at the worst moment, so none of them
//! tells anyone to remove an `AWSPENDING` label or cancel a rotation without proof: they name
//! `suomifi-ops recover`, which first probes both stored passwords at Suomi.fi.

use crate::{RotationError, RotationEvent};
use suomifi_shared::notify::{Alert, Severity};
use suomifi_shared::suomifi::ApiError;
use time::Duration;

/// The alert key of a secret's rotation: one chat thread per secret, failures and successes.
pub fn alert_key(secret_id: &str) -> String {
    format!("rotation/{secret_id}")
}

/// How long after a successful change a refusal is taken for DVV's cool-down ("there can be a
/// delay before allowing password updates again"; its length is undocumented). A day covers any
/// plausible delay and still pages within a day of a real refusal.
pub const COOL_DOWN_WINDOW: Duration = Duration::hours(24);

/// The error for a change-password call that failed while the pending password is still refused
/// (so the change did not happen). `since_last_change` is the time since the secret's last
/// successful rotation, if known.
///
/// A refusal is DVV's cool-down — retried silently, the pending password kept — when it comes
/// within [`COOL_DOWN_WINDOW`] of the last change, or when its reason speaks of waiting and not of
/// the password policy. Anything else is permanent: another attempt would be refused the same way,
/// so a person is told (once). DVV does not document the cool-down's wording, so the timing is the
/// stronger evidence and the words only a second one.
pub fn classify_change_failure(
    error: ApiError,
    since_last_change: Option<Duration>,
) -> RotationError {
    let recent = since_last_change.is_some_and(|d| d < COOL_DOWN_WINDOW);
    match error {
        ApiError::PasswordChangeRefused { reason, trace_id } => {
            if recent || (is_cool_down(&reason) && !mentions_policy(&reason)) {
                RotationError::CoolDown { reason }
            } else {
                RotationError::ChangeRefused { reason, trace_id }
            }
        }
        // 429 (and 408) ask for a later try; other 4xx say the request itself is refused.
        ApiError::Client {
            status,
            reason,
            trace_id,
            ..
        } if status != 429 && status != 408 => RotationError::ChangeRefused {
            reason: format!("HTTP {status}: {reason}"),
            trace_id,
        },
        source => RotationError::Suomifi {
            context: "changing the password",
            source,
        },
    }
}

/// Words a "wait before changing again" refusal is likely to use.
pub fn is_cool_down(reason: &str) -> bool {
    let r = reason.to_lowercase();
    [
        "too soon", "recent", "delay", "wait", "later", "frequent", "cool",
    ]
    .iter()
    .any(|w| r.contains(w))
}

/// Words of a password-policy refusal, which no waiting fixes.
fn mentions_policy(reason: &str) -> bool {
    let r = reason.to_lowercase();
    [
        "policy",
        "character",
        "length",
        "must contain",
        "symbol",
        "used recently",
        "incorrect",
        "invalid",
    ]
    .iter()
    .any(|w| r.contains(w))
}

/// The safe way out of a stuck rotation, as one step of advice.
pub fn recover_step(secret: &str) -> String {
    format!(
        "Run `suomifi-ops recover --secret-id {secret}` (add `--dry-run` to only look). It logs in with the AWSCURRENT and the AWSPENDING password and then keeps the one Suomi.fi accepts: it promotes a working AWSPENDING, removes an AWSPENDING only after proving AWSCURRENT works, and changes nothing when neither works."
    )
}

/// The manual equivalent of `recover`, probe first.
pub fn manual_recover_step(secret: &str) -> String {
    format!(
        "Without the CLI: read both values (`aws secretsmanager get-secret-value --secret-id {secret} --version-stage AWSCURRENT`, then `--version-stage AWSPENDING`) and test each with DVV's own test (POST /v1/token, then GET /v2/events). Only if AWSCURRENT works remove AWSPENDING from its version; if only AWSPENDING works, make that version AWSCURRENT first."
    )
}

/// The notification for errors that need a person; `None` for those Secrets Manager's retries fix.
pub fn alert_for(ev: &RotationEvent, e: &RotationError) -> Option<Alert> {
    let secret = &ev.secret_id;
    let (severity, title, why, steps): (Severity, String, &str, Vec<String>) = match e {
        RotationError::DriftDetected(_) => (
            Severity::Critical,
            format!("password drift: neither stored password works ({secret})"),
            "Every system using this secret is locked out of the Suomi.fi Messages API until the secret holds the password Suomi.fi accepts. The rotation changed nothing.",
            vec![
                "Find out who changed the Suomi.fi API password outside the rotation (or restored an old secret).".into(),
                recover_step(secret),
                format!("If recover finds no working password and you know the one that works, store it: `suomifi-ops import-password --secret-id {secret}` (it verifies the password against Suomi.fi before storing it)."),
                "If nobody knows it, ask DVV (organisaatiopalvelut@dvv.fi) to reset the API password, then import it as above.".into(),
            ],
        ),
        RotationError::ChangeRefused { .. } => (
            Severity::Warning,
            format!("password change refused by Suomi.fi ({secret})"),
            "The current password still works, but this rotation cannot finish and Secrets Manager keeps retrying it; DVV requires rotating at least every six months.",
            vec![
                "Read the reason below; a policy refusal means the generated password was not accepted.".into(),
                recover_step(secret),
                "After recover has removed the leftover AWSPENDING, rotate again (`suomifi-ops rotate`): the next rotation generates a new password.".into(),
                "Give DVV support the traceId if the reason is unclear.".into(),
            ],
        ),
        RotationError::TestFailed { .. } => (
            Severity::Critical,
            format!("rotation stuck: the new password failed DVV's test ({secret})"),
            "The password may already have been changed at Suomi.fi; until the rotation finishes, systems reading AWSCURRENT may be refused.",
            vec![
                "Look at the error below: a refused token means the change did not take effect, a 5xx or timeout means Suomi.fi could not be asked.".into(),
                recover_step(secret),
                manual_recover_step(secret),
            ],
        ),
        RotationError::PendingMismatch(_) => (
            Severity::Critical,
            format!("rotation stopped: AWSPENDING was edited by hand ({secret})"),
            "The rotation cannot go on with a pending version that names another user or API; the password keeps ageing.",
            vec![recover_step(secret), manual_recover_step(secret)],
        ),
        RotationError::InvalidSecret { .. } => (
            Severity::Critical,
            format!("rotation stopped: the secret is malformed ({secret})"),
            "Rotation cannot run until the secret holds valid credentials JSON; the password keeps ageing.",
            vec![format!(
                "Fix the secret value: {{\"username\": \"<system id>\", \"password\": \"...\", \"apiUrl\": \"https://api.messages.suomi.fi\"}} (use `suomifi-ops import-password --secret-id {secret}`, which verifies the password first)."
            )],
        ),
        RotationError::RotationDisabled(_) | RotationError::TokenNotAVersion { .. } | RotationError::NotPending { .. } => (
            Severity::Warning,
            format!("rotation invoked in an unexpected state ({secret})"),
            "Nothing was changed, but rotation is not running as configured.",
            vec![
                format!("Check the secret's rotation configuration and its version stages: `suomifi-ops status` or `aws secretsmanager describe-secret --secret-id {secret}`."),
                recover_step(secret),
            ],
        ),
        _ => return None,
    };
    let mut a = Alert::new(alert_key(secret), severity, title, "rotate-password")
        .detail("Secret", secret)
        .detail("Step", ev.step.as_str())
        .detail("Error type", e.error_type());
    if let Some(t) = e.trace_id() {
        a = a.detail("Suomi.fi traceId", t);
    }
    a.what_happened = e.to_string();
    a.why_it_matters = why.to_owned();
    a.next_steps = steps;
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Step;
    use suomifi_shared::suomifi::TraceId;

    fn refused(reason: &str) -> ApiError {
        ApiError::PasswordChangeRefused {
            reason: reason.into(),
            trace_id: TraceId(Some("t-1".into())),
        }
    }

    #[test]
    fn cool_down_wording_is_recognised() {
        assert!(is_cool_down("Password was changed too recently"));
        assert!(is_cool_down(
            "Please wait before changing the password again"
        ));
        assert!(!is_cool_down(
            "Password does not meet the policy: no symbol"
        ));
    }

    #[test]
    fn a_refusal_soon_after_a_change_is_the_cool_down_whatever_its_words() {
        let e = classify_change_failure(refused("Bad request"), Some(Duration::hours(2)));
        assert!(matches!(e, RotationError::CoolDown { .. }), "{e:?}");
        assert_eq!(e.error_type(), "RotatePassword.Retryable");
    }

    #[test]
    fn a_refusal_long_after_the_last_change_is_permanent_unless_it_asks_to_wait() {
        let long_ago = Some(Duration::days(30));
        let e = classify_change_failure(refused("Bad request"), long_ago);
        assert!(matches!(e, RotationError::ChangeRefused { .. }), "{e:?}");
        let e = classify_change_failure(
            refused("Password was changed too recently, try again later"),
            long_ago,
        );
        assert!(matches!(e, RotationError::CoolDown { .. }), "{e:?}");
        // "wait" alone does not make a policy refusal a cool-down.
        let e = classify_change_failure(
            refused("New password does not meet the password policy; wait, it has no symbol"),
            None,
        );
        assert_eq!(e.error_type(), "RotatePassword.ChangeRefused");
    }

    #[test]
    fn other_4xx_from_change_password_are_permanent_and_429_is_not() {
        let client = |status| ApiError::Client {
            endpoint: "/v1/change-password",
            status,
            reason: "no".into(),
            trace_id: TraceId::default(),
        };
        assert_eq!(
            classify_change_failure(client(403), None).error_type(),
            "RotatePassword.ChangeRefused"
        );
        assert_eq!(
            classify_change_failure(client(429), None).error_type(),
            "RotatePassword.Retryable"
        );
        let timeout = ApiError::Timeout {
            endpoint: "/v1/change-password",
            attempts: 1,
            timeout_ms: 10,
        };
        assert_eq!(
            classify_change_failure(timeout, None).error_type(),
            "RotatePassword.Retryable"
        );
    }

    /// Every alert the rotation can send, for the wording checks below.
    fn every_alert() -> Vec<Alert> {
        let ev = RotationEvent {
            secret_id: "suomifi/prod".into(),
            token: "t1".into(),
            step: Step::Set,
        };
        let errors = [
            RotationError::DriftDetected("suomifi/prod".into()),
            RotationError::ChangeRefused {
                reason: "policy".into(),
                trace_id: TraceId::default(),
            },
            RotationError::TestFailed {
                secret: "suomifi/prod".into(),
                which: "pending",
                source: refused("x"),
            },
            RotationError::PendingMismatch("suomifi/prod".into()),
            RotationError::RotationDisabled("suomifi/prod".into()),
            RotationError::NotPending {
                secret: "suomifi/prod".into(),
                token: "t1".into(),
            },
        ];
        errors
            .iter()
            .map(|e| alert_for(&ev, e).expect("alerts"))
            .collect()
    }

    #[test]
    fn no_advice_drops_a_password_without_proof() {
        for a in every_alert() {
            let text = format!(
                "{} {} {}",
                a.what_happened,
                a.why_it_matters,
                a.next_steps.join(" ")
            );
            assert!(
                !text.contains("cancel-rotate-secret"),
                "{}: {text}",
                a.title
            );
            assert!(
                !text.to_lowercase().contains("cancel this rotation"),
                "{}: {text}",
                a.title
            );
            assert!(
                !text.contains("--remove-from-version-id"),
                "{}: {text}",
                a.title
            );
            assert!(
                !text.contains("remove the AWSPENDING label"),
                "{}: {text}",
                a.title
            );
        }
    }

    #[test]
    fn every_stuck_rotation_alert_names_recover() {
        for a in every_alert() {
            assert!(
                a.next_steps
                    .iter()
                    .any(|s| s.contains("suomifi-ops recover --secret-id suomifi/prod")),
                "{}: {:?}",
                a.title,
                a.next_steps
            );
            assert_eq!(a.key, "rotation/suomifi/prod", "one thread per secret");
        }
    }

    #[test]
    fn retryable_failures_page_nobody() {
        let ev = RotationEvent {
            secret_id: "s".into(),
            token: "t".into(),
            step: Step::Set,
        };
        assert!(
            alert_for(
                &ev,
                &RotationError::CoolDown {
                    reason: "later".into()
                }
            )
            .is_none()
        );
        assert!(alert_for(&ev, &RotationError::TransientRefusal("s".into())).is_none());
    }
}
