//! The alerts: stable keys, and for every finding what happened, why it matters, the next steps
//! and the facts (counts per service, absolute UTC dates, days until deletion).
//!
//! Pure text building from non-secret facts: no password or access token is ever passed in.

use crate::backlog::BacklogCounter;
use crate::evaluate::{self, Backlog, Heartbeat, PasswordAge, RotationTrouble, Thresholds};
use crate::ports::RotationMetadata;
use suomifi_shared::alerts::{format_time, human_duration};
use suomifi_shared::notify::{Alert, Severity};
use suomifi_shared::suomifi::ApiError;
use time::Duration;

/// `source` of every alert of this function.
pub const SOURCE: &str = "check-retrieval";

/// Why it matters, said once: the reason this checker exists.
const DELETION: &str = "Since 27 March 2025 Suomi.fi deletes end-user data from the API 60 days \
after it was recorded, and it does not tell the organisation when retrieval stalls: \
messages that are not retrieved in time are lost.";

/// The alert keys of one deployment. Stable across runs: the lifecycle and the chat thread hang
/// on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertKeys {
    /// `retrieval/credentials/<secret>`: token and `GET /v2/events`.
    pub credentials: String,
    /// `retrieval/password-age/<secret>`.
    pub password_age: String,
    /// `retrieval/backlog/<secret>`.
    pub backlog: String,
    /// `retrieval/heartbeat/<parameter>`, when retrieval is watched.
    pub heartbeat: Option<String>,
    /// `retrieval/checkpoint/<parameter>`, when retrieval is watched.
    pub checkpoint: Option<String>,
}

impl AlertKeys {
    /// Keys for a secret id (name or ARN) and an optional checkpoint parameter.
    pub fn new(secret_id: &str, checkpoint_parameter: Option<&str>) -> Self {
        let secret = secret_label(secret_id);
        let param = checkpoint_parameter.map(|p| p.trim_start_matches('/').to_owned());
        Self {
            credentials: format!("retrieval/credentials/{secret}"),
            password_age: format!("retrieval/password-age/{secret}"),
            backlog: format!("retrieval/backlog/{secret}"),
            heartbeat: param.as_ref().map(|p| format!("retrieval/heartbeat/{p}")),
            checkpoint: param.as_ref().map(|p| format!("retrieval/checkpoint/{p}")),
        }
    }
}

/// The secret's name: the id itself, or for an ARN the part after `:secret:`.
pub fn secret_label(secret_id: &str) -> &str {
    match secret_id.split_once(":secret:") {
        Some((prefix, name)) if prefix.starts_with("arn:") && !name.is_empty() => name,
        _ => secret_id,
    }
}

fn alert(key: &str, severity: Severity, title: String) -> Alert {
    Alert::new(key, severity, title, SOURCE)
}

fn with_text(mut a: Alert, what: String, why: &str, steps: &[String]) -> Alert {
    a.what_happened = what;
    a.why_it_matters = why.to_owned();
    a.next_steps = steps.to_vec();
    a
}

/// "1 citizen's message", "12 citizens' messages".
fn citizens_messages(n: u64) -> String {
    if n == 1 {
        "1 citizen's message".to_owned()
    } else {
        format!("{n} citizens' messages")
    }
}

fn days_text(d: f64) -> String {
    if d < 1.0 {
        "less than a day".to_owned()
    } else {
        format!("{} days", d.floor() as i64)
    }
}

// ---------------------------------------------------------------------------------------------
// Credentials and API

/// The secret could not be read.
pub fn secret_unreadable(key: &str, secret_id: &str, detail: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!(
                "cannot read the credentials secret {}",
                secret_label(secret_id)
            ),
        ),
        format!("Reading AWSCURRENT of secret `{secret_id}` from Secrets Manager failed: {detail}"),
        "The retrieval process and password rotation read the same secret. While it cannot be \
         read, nobody can tell whether citizens' messages are retrieved.",
        &[
            "Check that the secret exists and that this function's role may call \
             secretsmanager:GetSecretValue and DescribeSecret on it (and kms:Decrypt for a \
             customer-managed key)."
                .into(),
            "Run the check again (invoke the function) once fixed.".into(),
        ],
    )
    .detail("Secret", secret_id)
}

/// The secret's value is not usable credentials.
pub fn secret_malformed(key: &str, secret_id: &str, problem: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!(
                "credentials secret {} is not usable",
                secret_label(secret_id)
            ),
        ),
        format!("The AWSCURRENT value of secret `{secret_id}` is not usable: {problem}"),
        "The retrieval process cannot log in with a malformed secret either: citizens' messages \
         are not being retrieved, and Suomi.fi deletes them 60 days after they arrive.",
        &[
            "Look at the secret's versions (AWSCURRENT, AWSPREVIOUS) and its recent CloudTrail \
             events to see what wrote it."
                .into(),
            "Restore a well-formed value: {\"username\": \"<system id>\", \"password\": \"...\", \
             \"apiUrl\"?: \"https://api.messages.suomi.fi\"}."
                .into(),
        ],
    )
    .detail("Secret", secret_id)
}

/// `POST /v1/token` refused the AWSCURRENT password.
pub fn credentials_refused(
    key: &str,
    secret_id: &str,
    username: &str,
    api: &str,
    err: &ApiError,
) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!("Suomi.fi refuses the API password of {username}"),
        ),
        format!(
            "Suomi.fi answered 400 to POST /v1/token for system `{username}` with the AWSCURRENT \
             password of secret `{secret_id}`: {err}"
        ),
        "The retrieval process logs in with the same password: while it is refused, no citizens' \
         messages are retrieved, and Suomi.fi deletes them 60 days after they arrive. A rotation \
         that changed the password at Suomi.fi but did not store it (or the other way round) \
         looks exactly like this.",
        &[
            "Check the latest rotate-password run and alerts for this secret.".into(),
            format!(
                "Run `suomifi-ops recover --secret-id {secret_id}`: it tries the stored passwords \
                 (AWSPENDING, AWSCURRENT, and AWSPREVIOUS when neither works) and keeps the one \
                 Suomi.fi accepts, changing nothing when none works."
            ),
            "If no stored password works, ask DVV (Suomi.fi Messages support) to reset the API \
             password, quoting the traceId below."
                .into(),
        ],
    )
    .detail("System (username)", username)
    .detail("API", api)
    .detail("Secret", secret_id)
    .detail("traceId", err.trace_id().unwrap_or("-"))
}

/// Suomi.fi refuses `AWSCURRENT` but accepts `AWSPENDING`, and no rotation is running: one
/// stopped after changing the password.
pub fn only_pending_accepted(key: &str, secret_id: &str, username: &str, api: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!("only the AWSPENDING password of {username} works: rotation stuck"),
        ),
        format!(
            "Suomi.fi refused the AWSCURRENT password of secret `{secret_id}` and accepted its \
             AWSPENDING password: a rotation changed the password at Suomi.fi and stopped before \
             it promoted the new one."
        ),
        "Every system that reads AWSCURRENT (the retrieval process among them) is refused, so no \
         citizens' messages are retrieved, and Suomi.fi deletes them 60 days after they arrive. \
         The AWSPENDING version holds the only working password: never remove that label by hand.",
        &[
            format!(
                "Run `suomifi-ops recover --secret-id {secret_id}`: it proves again that the \
                 AWSPENDING password works, makes it AWSCURRENT (the old one AWSPREVIOUS) and \
                 removes AWSPENDING."
            ),
            "Restart or re-read the secret in the systems that use it (they only notice a new \
             password when their next login fails)."
                .into(),
            "Read the rotate-password alerts for this secret: they say why the rotation stopped."
                .into(),
        ],
    )
    .detail("System (username)", username)
    .detail("API", api)
    .detail("Secret", secret_id)
}

/// The API failed (5xx after retries, timeout, transport, 401, unexpected answer).
pub fn api_failed(key: &str, username: &str, api: &str, err: &ApiError) -> Alert {
    let unreachable = err.outcome_unknown();
    let title = if unreachable {
        "Suomi.fi Messages API is not answering".to_owned()
    } else {
        format!("Suomi.fi Messages API refuses {username}'s requests")
    };
    let mut steps: Vec<String> = Vec::new();
    if unreachable {
        steps
            .push("Check DVV's disruption notices for Suomi.fi Messages (status.suomi.fi).".into());
        steps.push(
            "Check this function's network path: the VPC's NAT gateway and its Elastic IP, which \
             must be on DVV's IP allow-list for this environment."
                .into(),
        );
    } else {
        steps.push(
            "The request needs fixing, not retrying: check the function's logs for the answer \
             and the API base URL in the secret."
                .into(),
        );
    }
    steps.push(
        "If it persists, contact DVV (Suomi.fi Messages support) with the traceId below.".into(),
    );
    with_text(
        alert(key, Severity::Critical, title),
        format!("Checking the Suomi.fi Messages API for system `{username}` failed: {err}"),
        "The retrieval process depends on the same API: while it fails, citizens' messages are \
         not retrieved, and Suomi.fi deletes them 60 days after they arrive.",
        &steps,
    )
    .detail("System (username)", username)
    .detail("API", api)
    .detail("Error kind", err.kind())
    .detail("traceId", err.trace_id().unwrap_or("-"))
}

/// Token and `GET /v2/events` work again.
pub fn credentials_ok(key: &str, username: &str, api: &str) -> Alert {
    alert(
        key,
        Severity::Resolved,
        format!("Suomi.fi API and the password of {username} work again"),
    )
    .detail("System (username)", username)
    .detail("API", api)
    .with_what("A token was issued with the AWSCURRENT password and GET /v2/events answered 200.")
}

trait WithWhat {
    fn with_what(self, what: &str) -> Self;
}

impl WithWhat for Alert {
    fn with_what(mut self, what: &str) -> Self {
        self.what_happened = what.to_owned();
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Password age

/// The rotation metadata could not be read.
pub fn password_metadata_unreadable(key: &str, secret_id: &str, detail: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Warning,
            format!(
                "cannot read the rotation metadata of {}",
                secret_label(secret_id)
            ),
        ),
        format!("DescribeSecret on `{secret_id}` failed: {detail}"),
        "Without it nobody can tell whether the API password is rotated as DVV requires (at \
         least every six months, at least once a year).",
        &["Allow this function's role secretsmanager:DescribeSecret on the secret.".into()],
    )
    .detail("Secret", secret_id)
}

/// The password is too old, or rotation is failing.
pub fn password_problem(
    key: &str,
    secret_id: &str,
    p: &PasswordAge,
    meta: &RotationMetadata,
    th: &Thresholds,
) -> Alert {
    let severity = p.severity.unwrap_or(Severity::Warning);
    let age_days = p.age.map(|a| a.whole_days());
    let title = match (p.trouble, age_days) {
        (Some(_), _) => format!(
            "password rotation is failing for {}",
            secret_label(secret_id)
        ),
        (None, Some(d)) => format!("Suomi.fi API password is {d} days old"),
        (None, None) => "Suomi.fi API password age is unknown".to_owned(),
    };
    let mut what = match (age_days, p.changed_at, p.basis) {
        (Some(d), Some(at), Some(basis)) => format!(
            "The AWSCURRENT password of secret `{secret_id}` was last changed {d} days ago ({}, \
             from {}).",
            format_time(at),
            basis.as_str()
        ),
        _ => format!("Secret `{secret_id}` has no date telling when its password last changed."),
    };
    match p.trouble {
        Some(RotationTrouble::LeftoverPending) => what.push_str(
            " An AWSPENDING version is left over from a rotation that did not finish; the next \
             rotation will refuse to start until the rotation is recovered. Depending on where \
             it stopped, the AWSPENDING password may be the only one Suomi.fi accepts.",
        ),
        Some(RotationTrouble::Overdue { next_rotation }) => what.push_str(&format!(
            " Rotation is enabled but the rotation due on {} has not happened.",
            format_time(next_rotation)
        )),
        None => {}
    }
    let mut steps: Vec<String> = Vec::new();
    if p.trouble.is_some() {
        steps.push(
            "Read the rotate-password function's latest logs and alerts for this secret.".into(),
        );
        steps.push(format!(
            "Run `suomifi-ops recover --secret-id {secret_id}` (add `--dry-run` to only look). \
             It logs in with the AWSCURRENT and the AWSPENDING password and keeps the one \
             Suomi.fi accepts: after a rotation stopped past its password change only the \
             AWSPENDING password works, so that label must never be removed without this proof."
        ));
        steps.push("Then rotate again (`suomifi-ops rotate`) and check that it succeeds.".into());
    } else if !meta.rotation_enabled {
        steps.push(
            "Enable automatic rotation of the secret with the rotate-password function.".into(),
        );
    } else {
        steps.push("Rotate the secret now (RotateSecret) and check that it succeeds.".into());
    }
    let mut a = with_text(
        alert(key, severity, title),
        what,
        "DVV requires the API password to be changed at least every six months and at least \
         once a year, and whenever someone who knew it leaves. An old password that leaks \
         exposes citizens' messages.",
        &steps,
    )
    .detail("Secret", secret_id)
    .detail(
        "Warning after",
        format!("{} days", th.password_max_age.whole_days()),
    )
    .detail(
        "Critical after",
        format!("{} days", evaluate::PASSWORD_CRITICAL_AGE.whole_days()),
    )
    .detail("Rotation enabled", meta.rotation_enabled);
    if let Some(next) = meta.next_rotation {
        a = a.detail("Next rotation", format_time(next));
    }
    a
}

/// The password is young enough and rotation works again.
pub fn password_ok(key: &str, secret_id: &str, p: &PasswordAge) -> Alert {
    let mut a = alert(
        key,
        Severity::Resolved,
        format!(
            "API password of {} is within its rotation age",
            secret_label(secret_id)
        ),
    )
    .with_what("The password is younger than the rotation limit and no rotation is failing.")
    .detail("Secret", secret_id);
    if let Some(age) = p.age {
        a = a.detail("Password age", format!("{} days", age.whole_days()));
    }
    a
}

// ---------------------------------------------------------------------------------------------
// Checkpoint and heartbeat

fn checkpoint_steps() -> Vec<String> {
    vec![
        "Check that the retrieval process is configured to write its checkpoint to this \
         parameter after every successful poll (see docs/retrieval.md: the checkpoint contract)."
            .into(),
        "The value must be {\"continuationToken\": \"<token>\", \"updatedAt\": \"<RFC 3339>\"}."
            .into(),
    ]
}

/// The checkpoint parameter does not exist.
pub fn checkpoint_missing(key: &str, parameter: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!("retriever checkpoint {parameter} is missing"),
        ),
        format!("SSM parameter `{parameter}` does not exist."),
        "Without the checkpoint nobody can tell whether citizens' messages are retrieved; \
         unretrieved messages are deleted by Suomi.fi 60 days after they arrive.",
        &checkpoint_steps(),
    )
    .detail("Parameter", parameter)
}

/// The checkpoint cannot be parsed.
pub fn checkpoint_malformed(key: &str, parameter: &str, problem: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!("retriever checkpoint {parameter} is malformed"),
        ),
        format!("SSM parameter `{parameter}` does not hold a usable checkpoint: {problem}"),
        "The retriever's progress and the backlog of citizens' messages cannot be checked; \
         unretrieved messages are deleted by Suomi.fi 60 days after they arrive.",
        &checkpoint_steps(),
    )
    .detail("Parameter", parameter)
}

/// The parameter could not be read.
pub fn checkpoint_unreadable(key: &str, parameter: &str, detail: &str) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!("cannot read retriever checkpoint {parameter}"),
        ),
        format!("GetParameter on `{parameter}` failed: {detail}"),
        "The retriever's progress and the backlog of citizens' messages cannot be checked.",
        &[
            "Allow this function's role ssm:GetParameter on the parameter (and kms:Decrypt if \
           it is encrypted with a customer key)."
                .into(),
        ],
    )
    .detail("Parameter", parameter)
}

/// `updatedAt` lies in the future.
pub fn checkpoint_in_future(
    key: &str,
    parameter: &str,
    hb: &Heartbeat,
    now: time::OffsetDateTime,
) -> Alert {
    with_text(
        alert(
            key,
            Severity::Warning,
            format!("retriever checkpoint {parameter} is dated in the future"),
        ),
        format!(
            "The checkpoint's updatedAt is {} but the time now is {}.",
            format_time(hb.updated_at),
            format_time(now)
        ),
        "A heartbeat from the future can never look stale, so a stopped retriever would go \
         unnoticed.",
        &[
            "Check the retrieval host's clock and that it writes updatedAt in UTC (or with its \
           offset)."
                .into(),
        ],
    )
    .detail("Parameter", parameter)
}

/// Suomi.fi refuses the checkpoint's continuation token.
pub fn checkpoint_token_refused(key: &str, parameter: &str, err: &ApiError) -> Alert {
    with_text(
        alert(
            key,
            Severity::Critical,
            format!("Suomi.fi refuses the token in checkpoint {parameter}"),
        ),
        format!("GET /v2/events with the checkpoint's continuationToken failed: {err}"),
        "If the retriever resumes from the same token it is stuck too, and citizens' messages are \
         deleted by Suomi.fi 60 days after they arrive.",
        &[
            "Check the retriever's logs: does it get the same refusal?".into(),
            "Check that the retriever stores the token exactly as received (no re-encoding)."
                .into(),
            "If the token is lost for good, contact DVV (Suomi.fi Messages support) with the \
             traceId below before restarting retrieval from the beginning."
                .into(),
        ],
    )
    .detail("Parameter", parameter)
    .detail("traceId", err.trace_id().unwrap_or("-"))
}

/// The checkpoint is readable again.
pub fn checkpoint_ok(key: &str, parameter: &str) -> Alert {
    alert(
        key,
        Severity::Resolved,
        format!("retriever checkpoint {parameter} is usable again"),
    )
    .with_what("The parameter holds a well-formed checkpoint whose token Suomi.fi accepts.")
    .detail("Parameter", parameter)
}

/// The retriever has not written its checkpoint for too long.
pub fn heartbeat_stale(
    key: &str,
    parameter: &str,
    severity: Severity,
    hb: &Heartbeat,
    backlog: Option<&Backlog>,
    th: &Thresholds,
) -> Alert {
    let mut what = format!(
        "The retrieval process last wrote its checkpoint {} ago ({}); it should do so after every \
         poll, at least every {}.",
        human_duration(hb.age),
        format_time(hb.updated_at),
        human_duration(th.heartbeat_max_age)
    );
    let mut first = "Restart the retrieval job, or fix what stops it (see its logs).".to_owned();
    if let Some(b) = backlog.filter(|b| b.count > 0) {
        what.push_str(&format!(" {} waiting.", citizens_messages(b.count)));
        if let (Some(d), Some(at)) = (b.days_until_deletion, b.deletion_at) {
            first = format!(
                "Restart the retrieval job, or fix what stops it (see its logs); {} messages will \
                 be deleted by Suomi.fi in {} (from {}).",
                b.count,
                days_text(d),
                format_time(at)
            );
        }
    }
    with_text(
        alert(
            key,
            severity,
            format!("retrieval has stalled for {}", human_duration(hb.age)),
        ),
        what,
        DELETION,
        &[
            first,
            "When it runs again, check that the checkpoint's updatedAt moves: this alert then \
             resolves by itself."
                .into(),
        ],
    )
    .detail("Parameter", parameter)
    .detail("Last poll (updatedAt)", format_time(hb.updated_at))
    .detail("Maximum age", human_duration(th.heartbeat_max_age))
}

/// The checkpoint moves again.
pub fn heartbeat_ok(key: &str, parameter: &str, hb: &Heartbeat) -> Alert {
    alert(
        key,
        Severity::Resolved,
        "retrieval is running again".to_owned(),
    )
    .with_what(&format!(
        "The retriever wrote its checkpoint {} ago ({}).",
        human_duration(hb.age),
        format_time(hb.updated_at)
    ))
    .detail("Parameter", parameter)
}

// ---------------------------------------------------------------------------------------------
// Backlog

/// Citizens' messages wait longer than the grace period.
pub fn backlog_overdue(
    key: &str,
    eval: &Backlog,
    counter: &BacklogCounter,
    complete: bool,
    heartbeat: Option<&Heartbeat>,
    th: &Thresholds,
) -> Alert {
    let severity = eval.severity.unwrap_or(Severity::Warning);
    let (days_left, deletion_at) = (
        eval.days_until_deletion.unwrap_or(0.0),
        eval.deletion_at.map(format_time).unwrap_or_default(),
    );
    let at_least = if complete { "" } else { "at least " };
    let title = format!(
        "{at_least}{} not retrieved, oldest deleted in {}",
        citizens_messages(eval.count),
        days_text(days_left)
    );
    let mut what = format!(
        "{at_least}{} messages from end users wait in Suomi.fi beyond the retriever's checkpoint, \
         {} of them longer than the {} grace period. The oldest arrived {} ago ({}).",
        eval.count,
        eval.over_grace,
        human_duration(th.backlog_grace),
        human_duration(eval.oldest_age.unwrap_or(Duration::ZERO)),
        eval.oldest.map(format_time).unwrap_or_default(),
    );
    if let Some(hb) = heartbeat {
        what.push_str(&format!(
            " The retriever last wrote its checkpoint {} ago.",
            human_duration(hb.age)
        ));
    }
    if !complete {
        what.push_str(
            " The scan stopped before the end of the feed, so the count is a lower bound.",
        );
    }
    let mut a = with_text(
        alert(key, severity, title),
        what,
        DELETION,
        &[
            format!(
                "Restart the retrieval job, or fix what stops it (see its logs); {}{} messages \
                 will be deleted by Suomi.fi in {} (from {deletion_at}).",
                at_least,
                eval.count,
                days_text(days_left)
            ),
            "If the retriever runs but does not advance past these messages, retrieve them by \
             hand (GET /v2/messages/{id}) before the deletion date."
                .into(),
        ],
    )
    .detail("Messages waiting", format!("{at_least}{}", eval.count))
    .detail("Older than grace", eval.over_grace)
    .detail(
        "Oldest event time",
        eval.oldest.map(format_time).unwrap_or_default(),
    )
    .detail("Deleted by Suomi.fi from", deletion_at)
    .detail("Days until deletion", format!("{days_left:.1}"));
    for (service, s) in &counter.by_service {
        a = a.detail(
            format!("Service {service}"),
            format!(
                "{} waiting, oldest {}",
                s.count,
                format_time(s.oldest_event_time)
            ),
        );
    }
    a
}

/// Nothing waits beyond the grace period any more.
pub fn backlog_ok(
    key: &str,
    eval: &Backlog,
    heartbeat: Option<&Heartbeat>,
    th: &Thresholds,
) -> Alert {
    let mut what = format!(
        "No citizen's message has waited longer than {} beyond the retriever's checkpoint ({} \
         waiting now).",
        human_duration(th.backlog_grace),
        eval.count
    );
    let retriever_moving = heartbeat.is_some_and(|hb| hb.age <= th.heartbeat_max_age);
    if !retriever_moving {
        // The backlog can also shrink because Suomi.fi deleted messages at 60 days: do not
        // claim they were retrieved unless the retriever is seen moving.
        what.push_str(
            " The retriever is not seen moving, so the messages may have been deleted by Suomi.fi \
             (60 days) rather than retrieved: confirm in the case system.",
        );
    }
    alert(
        key,
        Severity::Resolved,
        "citizens' messages are being retrieved in time".to_owned(),
    )
    .with_what(&what)
    .detail("Messages waiting", eval.count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::HeartbeatVerdict;
    use time::macros::datetime;

    #[test]
    fn keys_are_stable_and_readable() {
        let k = AlertKeys::new(
            "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/api-AbCdEf",
            Some("/suomifi/retriever/checkpoint"),
        );
        assert_eq!(k.credentials, "retrieval/credentials/suomifi/api-AbCdEf");
        assert_eq!(k.password_age, "retrieval/password-age/suomifi/api-AbCdEf");
        assert_eq!(k.backlog, "retrieval/backlog/suomifi/api-AbCdEf");
        assert_eq!(
            k.heartbeat.as_deref(),
            Some("retrieval/heartbeat/suomifi/retriever/checkpoint")
        );
        assert_eq!(
            k.checkpoint.as_deref(),
            Some("retrieval/checkpoint/suomifi/retriever/checkpoint")
        );
        let plain = AlertKeys::new("suomifi-api", None);
        assert_eq!(plain.credentials, "retrieval/credentials/suomifi-api");
        assert_eq!(plain.heartbeat, None);
    }

    #[test]
    fn a_backlog_alert_says_what_why_next_and_the_facts() {
        let now = datetime!(2026-11-25 12:00 UTC);
        let mut counter = BacklogCounter {
            count: 12,
            over_grace: 10,
            oldest: Some(datetime!(2026-09-30 12:00 UTC)),
            ..BacklogCounter::default()
        };
        counter.by_service.insert(
            "svc-a".into(),
            crate::backlog::ServiceBacklog {
                count: 12,
                oldest_event_time: datetime!(2026-09-30 12:00 UTC),
            },
        );
        let eval = evaluate::backlog(&counter, now);
        let hb = evaluate::heartbeat(now - Duration::days(56), now, &Thresholds::default());
        assert!(matches!(hb.verdict, HeartbeatVerdict::Stale(_)));
        let a = backlog_overdue(
            "k",
            &eval,
            &counter,
            true,
            Some(&hb),
            &Thresholds::default(),
        );
        assert_eq!(a.severity, Severity::Critical);
        assert!(a.subject().len() <= 100);
        assert!(a.title.contains("12 citizens' messages"), "{}", a.title);
        assert!(a.title.contains("4 days"), "{}", a.title);
        assert!(a.why_it_matters.contains("60 days"));
        assert!(a.next_steps[0].contains("12 messages will be deleted by Suomi.fi in 4 days"));
        assert!(
            a.next_steps[0].contains("2026-11-29T12:00:00Z"),
            "{}",
            a.next_steps[0]
        );
        let details: std::collections::HashMap<_, _> = a.details.iter().cloned().collect();
        assert_eq!(details["Oldest event time"], "2026-09-30T12:00:00Z");
        assert_eq!(details["Days until deletion"], "4.0");
        assert_eq!(
            details["Service svc-a"],
            "12 waiting, oldest 2026-09-30T12:00:00Z"
        );
    }

    #[test]
    fn a_resolved_backlog_does_not_claim_retrieval_when_the_retriever_is_not_moving() {
        let now = datetime!(2026-11-25 12:00 UTC);
        let th = Thresholds::default();
        let eval = evaluate::backlog(&BacklogCounter::default(), now);
        let stale = evaluate::heartbeat(now - Duration::days(3), now, &th);
        let fresh = evaluate::heartbeat(now - Duration::minutes(3), now, &th);
        assert!(
            backlog_ok("k", &eval, Some(&stale), &th)
                .what_happened
                .contains("deleted")
        );
        assert!(
            !backlog_ok("k", &eval, Some(&fresh), &th)
                .what_happened
                .contains("deleted")
        );
    }
}
