//! The wording of every notification (pure).

use crate::event::display_name as secret_name;
use crate::identity::Person;
use crate::ledger::Reader;
use crate::policy::Drift;
use suomifi_shared::alerts::format_time;
use suomifi_shared::notify::{Alert, Severity};
use time::OffsetDateTime;

/// `source` of every alert.
pub const SOURCE: &str = "watch-access";

/// Chat thread of a secret's read notices.
pub fn read_key(secret: &str) -> String {
    format!("access/read/{}", secret_name(secret))
}

/// Alert key of a secret's policy (the policy-change event and the daily comparison share it,
/// so a change opens it and the policy's return resolves it).
pub fn policy_key(secret: &str) -> String {
    format!("access/policy/{}", secret_name(secret))
}

/// When the password will be rotated, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationNote {
    /// Rotation asked for now.
    Now,
    /// At this time.
    At(OffsetDateTime),
    /// A rotation is already running.
    Running,
}

impl RotationNote {
    fn text(self) -> String {
        match self {
            Self::Now => "now".into(),
            Self::At(t) => format_time(t),
            Self::Running => "by the rotation already running".into(),
        }
    }
}

/// "the password of `<secret>` was read by `<person>` at `<time>`; it will be rotated at
/// `<time>`".
pub fn read_notice(
    secret: &str,
    person: &Person,
    at: OffsetDateTime,
    rotation: RotationNote,
) -> Alert {
    let name = secret_name(secret);
    let mut a = Alert::new(
        read_key(secret),
        Severity::Warning,
        format!("password of {name} read by {}", person.display),
        SOURCE,
    );
    a.what_happened = format!(
        "The password of `{name}` was read by {} at {}; it will be rotated {}.",
        person.display,
        format_time(at),
        match rotation {
            RotationNote::At(_) => format!("at {}", rotation.text()),
            _ => rotation.text(),
        }
    );
    a.why_it_matters =
        "Anyone who has seen the password can use the organisation's Suomi.fi Messages \
        connection until it changes. The rotation changes it automatically; nothing is needed if \
        the read was expected."
            .into();
    a.next_steps = vec![
        format!(
            "If you do not know why this person read the password, find out (CloudTrail, event \
             below) and rotate at once with `suomifi-ops rotate --secret-id {secret}`."
        ),
        "Further reads before the rotation are recorded without another notification.".into(),
    ];
    a = a
        .detail("Secret", secret)
        .detail("Read by", &person.display)
        .detail("Principal", &person.arn)
        .detail("Read at", format_time(at))
        .detail("Rotation", rotation.text());
    if let Some(via) = &person.via {
        a = a.detail("Through", via);
    }
    a
}

/// A person who had read the password was deleted.
pub fn leaver_notice(
    secret: &str,
    who: &str,
    deleted_at: OffsetDateTime,
    readers: &[&Reader],
    rotation: RotationNote,
) -> Alert {
    let name = secret_name(secret);
    let reads: Vec<String> = readers
        .iter()
        .map(|r| {
            format!(
                "{} (last read {})",
                r.person.display,
                format_time(r.last_read_at)
            )
        })
        .collect();
    let mut a = Alert::new(
        read_key(secret),
        Severity::Warning,
        format!("password of {name} rotated: {who} was deleted"),
        SOURCE,
    );
    a.what_happened = format!(
        "{who} was deleted at {} and had read the password of `{name}` since its last rotation: \
         {}. The password is rotated {} (DVV: rotate whenever a person with access to the password leaves).",
        format_time(deleted_at),
        reads.join(", "),
        rotation.text()
    );
    a.why_it_matters = "A person who has left must not keep a working password.".into();
    a.next_steps = vec![format!(
        "Check that the rotation finished (`suomifi-ops status --secret-id {secret}`)."
    )];
    a.detail("Secret", secret)
        .detail("Deleted user", who)
        .detail("Rotation", rotation.text())
}

/// The resource policy was changed by someone other than the stack, or differs from the stack's
/// (`expected`, which the next step puts back).
pub fn policy_alert(secret: &str, cause: &str, expected: &serde_json::Value) -> Alert {
    let name = secret_name(secret);
    let mut a = Alert::new(
        policy_key(secret),
        Severity::Critical,
        format!("access policy of {name} changed"),
        SOURCE,
    );
    a.what_happened = format!("The resource policy of `{name}`: {cause}.");
    a.why_it_matters =
        "The policy is what keeps everyone but the workload, the trusted readers and the \
        break-glass role from reading the password."
            .into();
    a.next_steps = vec![
        "Find who changed it and why (CloudTrail PutResourcePolicy / DeleteResourcePolicy).".into(),
        "If the change lets a process that needs the password read it (your message-retrieval \
         system, say), do not put the old policy back - that locks the process out again: add its \
         role to the stack's TrustedReaderArns and deploy the stack, which writes the policy anew."
            .into(),
        // An unchanged redeploy does not: CloudFormation does not re-apply a resource it
        // believes unchanged.
        format!(
            "Otherwise put the stack's policy back: `aws secretsmanager put-resource-policy \
             --secret-id {secret} --block-public-policy --resource-policy '{expected}'`. The \
             daily comparison then resolves this alert."
        ),
    ];
    a.detail("Secret", secret)
}

/// How a drift reads in the alert.
pub fn drift_cause(d: &Drift) -> String {
    match d {
        Drift::Same => "is the stack's".into(),
        Drift::Missing => "is missing: anyone with an IAM permission can read the password".into(),
        Drift::Different(how) => how.clone(),
    }
}

/// The policy is the stack's again.
pub fn policy_resolved(secret: &str) -> Alert {
    let mut a = Alert::new(
        policy_key(secret),
        Severity::Resolved,
        format!(
            "access policy of {} is the stack's again",
            secret_name(secret)
        ),
        SOURCE,
    );
    a.what_happened = "The daily comparison found the stack's resource policy in place.".into();
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_read_notice_says_who_when_and_when_it_rotates_in_a_subject_sns_accepts() {
        let p = Person {
            key: "k".into(),
            display: "anna.virtanen@city.fi (Identity Center, permission set AdministratorAccess)".into(),
            arn: "arn:aws:sts::1:assumed-role/AWSReservedSSO_AdministratorAccess_0123/anna.virtanen@city.fi".into(),
            iam_user: None,
            identity_center_user: Some("anna.virtanen@city.fi".into()),
            via: None,
        };
        let a = read_notice(
            "arn:aws:secretsmanager:eu-north-1:1:secret:suomifi/prod-AbCdEf",
            &p,
            datetime!(2026-12-02 08:00 UTC),
            RotationNote::At(datetime!(2026-12-02 09:00 UTC)),
        );
        assert!(
            a.what_happened.contains("read by anna.virtanen@city.fi"),
            "{}",
            a.what_happened
        );
        assert!(
            a.what_happened
                .contains("at 2026-12-02T08:00:00Z; it will be rotated at 2026-12-02T09:00:00Z"),
            "{}",
            a.what_happened
        );
        let subject = a.subject();
        assert!(subject.len() < 100 && subject.is_ascii(), "{subject}");
    }

    #[test]
    fn the_policy_alert_puts_the_stack_policy_back_with_a_command_that_works_and_warns_first() {
        let secret = "arn:aws:secretsmanager:eu-north-1:1:secret:suomifi/prod-AbCdEf";
        let expected = crate::policy::expected(&["arn:aws:iam::1:role/reader".to_owned()]);
        let a = policy_alert(secret, "is missing", &expected);
        let steps = a.next_steps.join("\n");
        // A process that needs the password is kept in, through the stack, before anything else.
        let keep = steps
            .find("TrustedReaderArns")
            .expect("names TrustedReaderArns");
        let put = steps
            .find(&format!(
                "put-resource-policy --secret-id {secret} --block-public-policy"
            ))
            .expect("a command that names the secret");
        assert!(keep < put, "{steps}");
        assert!(
            steps.contains(&format!("--resource-policy '{expected}'")),
            "the stack's own policy, as the daily run compares it: {steps}"
        );
        assert!(
            !steps.contains("unchanged"),
            "an unchanged redeploy restores nothing: {steps}"
        );
    }

    #[test]
    fn the_read_and_leaver_notices_name_the_secret_in_their_commands() {
        let secret = "arn:aws:secretsmanager:eu-north-1:1:secret:suomifi/prod-AbCdEf";
        let p = Person {
            key: "k".into(),
            display: "anna".into(),
            arn: "arn:aws:iam::1:user/anna".into(),
            iam_user: Some("anna".into()),
            identity_center_user: None,
            via: None,
        };
        let at = time::macros::datetime!(2026-12-02 08:00 UTC);
        let read = read_notice(secret, &p, at, RotationNote::At(at));
        assert!(
            read.next_steps
                .iter()
                .any(|s| s.contains(&format!("suomifi-ops rotate --secret-id {secret}"))),
            "{:?}",
            read.next_steps
        );
        let leaver = leaver_notice(secret, "anna", at, &[], RotationNote::At(at));
        assert!(
            leaver
                .next_steps
                .iter()
                .any(|s| s.contains(&format!("suomifi-ops status --secret-id {secret}"))),
            "{:?}",
            leaver.next_steps
        );
    }
}
