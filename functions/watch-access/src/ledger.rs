//! The access ledger: who has read each password since its last rotation, and the rotation that
//! answers it (pure: the documents and the decisions; the handler stores them).
//!
//! In the state table (partition key `pk`), every item with a `ttl` of the retention setting
//! (`READER_RETENTION_DAYS`, default 400 days) after its last write, which DynamoDB's TTL
//! deletes:
//! - `access#<secret ARN>`: one [`SecretLedger`] per secret — the readers of the current
//!   password (the round of its `AWSCURRENT` version) and the rotation planned for them;
//! - `access-read#<secret ARN>#<CloudTrail eventID>`: one [`ReadRecord`] per read, kept whatever
//!   rotations follow (the audit trail; one per event, whatever EventBridge's redeliveries).

use crate::identity::Person;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Key of a secret's ledger.
pub fn ledger_pk(secret: &str) -> String {
    format!("access#{secret}")
}

/// Key of one read's record.
pub fn read_pk(secret: &str, event_id: &str) -> String {
    format!("access-read#{secret}#{event_id}")
}

/// The secret as Secrets Manager describes it now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretState {
    /// Full ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// The version staged `AWSCURRENT`.
    pub current_version: Option<String>,
    /// The version staged `AWSPENDING`, if any.
    pub pending_version: Option<String>,
    /// `LastRotatedDate`.
    pub last_rotated: Option<OffsetDateTime>,
}

impl SecretState {
    /// A rotation is running: `AWSPENDING` sits on another version than `AWSCURRENT` (then
    /// Secrets Manager refuses a new `RotateSecret`).
    pub fn rotation_running(&self) -> bool {
        suomifi_shared::secrets::rotation_unfinished(
            self.current_version.as_deref(),
            self.pending_version.as_deref(),
        )
    }
}

/// Why a rotation was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// A person read the password.
    Exposure,
    /// A person who had read it was deleted (left the organisation).
    Leaver,
}

/// The rotation planned for the readers of this round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRotation {
    /// When it is (or was) due.
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    /// Why.
    pub reason: Reason,
    /// The one-time schedule that will ask for it (delayed rotations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// When `RotateSecret` was called (or found a rotation already running).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub requested_at: Option<OffsetDateTime>,
}

/// One person's reads in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reader {
    /// Who.
    pub person: Person,
    /// First read in this round.
    #[serde(with = "time::serde::rfc3339")]
    pub first_read_at: OffsetDateTime,
    /// Latest read.
    #[serde(with = "time::serde::rfc3339")]
    pub last_read_at: OffsetDateTime,
    /// How many reads.
    pub reads: u32,
}

/// A secret's ledger (one round: the readers of the current password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretLedger {
    /// The secret.
    pub secret: String,
    /// The `AWSCURRENT` version the readers saw.
    pub version: Option<String>,
    /// `LastRotatedDate` when the round began.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rotated_at: Option<OffsetDateTime>,
    /// The readers, in order of their first read.
    pub readers: Vec<Reader>,
    /// The rotation planned for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<PlannedRotation>,
    /// Deleted users already answered with a rotation in this round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leavers_handled: Vec<String>,
}

impl SecretLedger {
    /// A new, empty round for the secret as it is now.
    pub fn round_of(state: &SecretState) -> Self {
        Self {
            secret: state.arn.clone(),
            version: state.current_version.clone(),
            rotated_at: state.last_rotated,
            readers: Vec::new(),
            rotation: None,
            leavers_handled: Vec::new(),
        }
    }

    /// Whether this round is still the secret's current one: no rotation since.
    pub fn is_current(&self, state: &SecretState) -> bool {
        self.version == state.current_version
            && match (self.rotated_at, state.last_rotated) {
                (_, None) => true,
                (None, Some(_)) => self.version.is_some(),
                (Some(a), Some(b)) => b <= a,
            }
    }

    /// The ledger for the round `state` is in: this one, or a fresh one after a rotation.
    pub fn for_state(prev: Option<Self>, state: &SecretState) -> Self {
        match prev {
            Some(l) if l.is_current(state) => l,
            _ => Self::round_of(state),
        }
    }
}

/// What a rotation plan comes to for a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationStep {
    /// Call `RotateSecret` now (`EXPOSURE_ROTATE_AFTER_MINUTES=0`).
    RotateNow,
    /// Create the one-time schedule for `due_at`.
    Schedule {
        /// When.
        due_at: OffsetDateTime,
    },
    /// A rotation for this round is already planned (or asked for): nothing more.
    AlreadyPlanned {
        /// When it is due.
        due_at: OffsetDateTime,
    },
    /// A rotation is running already; it answers this read.
    AlreadyRunning,
}

/// The decision for one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDecision {
    /// The ledger to store.
    pub ledger: SecretLedger,
    /// Whether this person is new in the round (then, and only then, notify).
    pub first_for_person: bool,
    /// The rotation.
    pub rotation: RotationStep,
    /// The read happened before the secret's last rotation (CloudTrail delivers minutes late,
    /// EventBridge may deliver twice): the password seen is gone, nothing to notify or rotate.
    pub stale: bool,
}

/// Pure: `person` read the secret at `at`; `now` is the handler's time, `delay` the exposure
/// rotation delay.
pub fn record_read(
    prev: Option<SecretLedger>,
    state: &SecretState,
    person: &Person,
    at: OffsetDateTime,
    now: OffsetDateTime,
    delay: Duration,
) -> ReadDecision {
    if state.last_rotated.is_some_and(|r| at < r) {
        return ReadDecision {
            ledger: SecretLedger::for_state(prev, state),
            first_for_person: false,
            rotation: RotationStep::AlreadyRunning,
            stale: true,
        };
    }
    let mut ledger = SecretLedger::for_state(prev, state);
    let first_for_person = match ledger
        .readers
        .iter_mut()
        .find(|r| r.person.key == person.key)
    {
        Some(r) => {
            r.reads = r.reads.saturating_add(1);
            r.last_read_at = r.last_read_at.max(at);
            r.first_read_at = r.first_read_at.min(at);
            false
        }
        None => {
            ledger.readers.push(Reader {
                person: person.clone(),
                first_read_at: at,
                last_read_at: at,
                reads: 1,
            });
            true
        }
    };
    let rotation = if let Some(p) = &ledger.rotation {
        RotationStep::AlreadyPlanned { due_at: p.due_at }
    } else if state.rotation_running() {
        RotationStep::AlreadyRunning
    } else if delay.is_zero() {
        ledger.rotation = Some(PlannedRotation {
            due_at: now,
            reason: Reason::Exposure,
            schedule: None,
            requested_at: Some(now),
        });
        RotationStep::RotateNow
    } else {
        let due_at = now + delay;
        ledger.rotation = Some(PlannedRotation {
            due_at,
            reason: Reason::Exposure,
            schedule: None,
            requested_at: None,
        });
        RotationStep::Schedule { due_at }
    };
    ReadDecision {
        ledger,
        first_for_person,
        rotation,
        stale: false,
    }
}

/// Why a fired schedule does not rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No reads are recorded for the secret.
    NothingRecorded,
    /// The secret was rotated since the reads that asked for it.
    AlreadyRotated,
    /// A rotation is running.
    AlreadyRunning,
    /// This round's rotation was already asked for.
    AlreadyRequested,
}

/// Pure: the schedule of a delayed rotation fired. `Ok(())`: call `RotateSecret`.
pub fn scheduled_rotation(ledger: Option<&SecretLedger>, state: &SecretState) -> Result<(), Skip> {
    let Some(l) = ledger.filter(|l| !l.readers.is_empty()) else {
        return Err(Skip::NothingRecorded);
    };
    if !l.is_current(state) {
        return Err(Skip::AlreadyRotated);
    }
    if state.rotation_running() {
        return Err(Skip::AlreadyRunning);
    }
    if l.rotation
        .as_ref()
        .is_some_and(|r| r.requested_at.is_some())
    {
        return Err(Skip::AlreadyRequested);
    }
    Ok(())
}

/// Who a deleted user was among a round's readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaver<'a> {
    /// An IAM user by name.
    IamUser(&'a str),
    /// An IAM Identity Center user: by user name when the record has one, otherwise any
    /// Identity Center reader may be the one.
    IdentityCenter(Option<&'a str>),
}

/// Pure: the readers of this round the deleted user may be (empty: nothing to do).
pub fn leaver_readers<'l>(ledger: &'l SecretLedger, leaver: &Leaver<'_>) -> Vec<&'l Reader> {
    ledger
        .readers
        .iter()
        .filter(|r| match leaver {
            Leaver::IamUser(name) => r.person.iam_user.as_deref() == Some(*name),
            Leaver::IdentityCenter(Some(name)) => r
                .person
                .identity_center_user
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(name)),
            Leaver::IdentityCenter(None) => r.person.identity_center_user.is_some(),
        })
        .collect()
}

/// Deterministic name of a secret's one-time rotation schedule for one round: at most 64
/// characters of `[0-9a-zA-Z-_.]` (EventBridge Scheduler's rule), the same for every read of the
/// round, so a second read finds it already there (`ConflictException`).
pub fn schedule_name(secret: &str, version: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{secret}#{}", version.unwrap_or("-")).as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("watch-access-rotate-{hex}")
}

/// EventBridge Scheduler's one-time expression for `at` (UTC, whole seconds).
pub fn at_expression(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The per-read audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadRecord {
    /// The secret.
    pub secret: String,
    /// Who.
    pub person: Person,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The `AWSCURRENT` version when the event was handled.
    pub version: Option<String>,
    /// The version or stage asked for, if not the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_for: Option<String>,
    /// The CloudTrail event name.
    pub event_name: String,
    /// CloudTrail's eventID.
    pub event_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn person(key: &str) -> Person {
        Person {
            key: key.into(),
            display: key.into(),
            arn: key.into(),
            iam_user: Some(key.into()),
            identity_center_user: None,
            via: None,
        }
    }

    fn state(version: &str) -> SecretState {
        SecretState {
            arn: "arn:s".into(),
            name: "s".into(),
            current_version: Some(version.into()),
            pending_version: None,
            last_rotated: Some(datetime!(2026-11-01 00:00 UTC)),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-12-02 08:00 UTC);

    #[test]
    fn the_first_read_of_a_person_notifies_and_plans_one_rotation_for_the_window() {
        let d = record_read(
            None,
            &state("v1"),
            &person("anna"),
            NOW,
            NOW,
            Duration::minutes(60),
        );
        assert!(d.first_for_person);
        assert_eq!(
            d.rotation,
            RotationStep::Schedule {
                due_at: NOW + Duration::minutes(60)
            }
        );
        // The same person again, and another person, in the window: no new rotation.
        let again = record_read(
            Some(d.ledger.clone()),
            &state("v1"),
            &person("anna"),
            NOW,
            NOW,
            Duration::minutes(60),
        );
        assert!(!again.first_for_person);
        assert_eq!(again.ledger.readers[0].reads, 2);
        assert!(matches!(
            again.rotation,
            RotationStep::AlreadyPlanned { .. }
        ));
        let other = record_read(
            Some(again.ledger),
            &state("v1"),
            &person("matti"),
            NOW,
            NOW,
            Duration::minutes(60),
        );
        assert!(other.first_for_person);
        assert!(matches!(
            other.rotation,
            RotationStep::AlreadyPlanned { .. }
        ));
        assert_eq!(other.ledger.readers.len(), 2);
    }

    #[test]
    fn zero_minutes_rotates_now_and_a_rotation_resets_the_round() {
        let d = record_read(
            None,
            &state("v1"),
            &person("anna"),
            NOW,
            NOW,
            Duration::ZERO,
        );
        assert_eq!(d.rotation, RotationStep::RotateNow);
        let mut rotated = state("v2");
        rotated.last_rotated = Some(NOW + Duration::minutes(5));
        let after = record_read(
            Some(d.ledger),
            &rotated,
            &person("anna"),
            NOW + Duration::minutes(10),
            NOW + Duration::minutes(10),
            Duration::ZERO,
        );
        assert!(
            after.first_for_person,
            "a new password: the person is told again"
        );
        assert_eq!(after.ledger.version.as_deref(), Some("v2"));
        assert_eq!(after.ledger.readers.len(), 1);
    }

    #[test]
    fn a_read_from_before_the_last_rotation_changes_nothing() {
        let mut s = state("v2");
        s.last_rotated = Some(NOW);
        let d = record_read(
            None,
            &s,
            &person("anna"),
            NOW - Duration::seconds(30),
            NOW,
            Duration::ZERO,
        );
        assert!(d.stale);
        assert!(!d.first_for_person);
        assert!(d.ledger.readers.is_empty());
    }

    #[test]
    fn a_running_rotation_answers_the_read() {
        let mut s = state("v1");
        s.pending_version = Some("v2".into());
        assert!(s.rotation_running());
        let d = record_read(None, &s, &person("anna"), NOW, NOW, Duration::ZERO);
        assert_eq!(d.rotation, RotationStep::AlreadyRunning);
        // AWSPENDING on the AWSCURRENT version is a finished rotation, not a running one.
        s.pending_version = Some("v1".into());
        assert!(!s.rotation_running());
    }

    #[test]
    fn a_fired_schedule_rotates_only_if_nothing_rotated_since_the_reads() {
        let d = record_read(
            None,
            &state("v1"),
            &person("anna"),
            NOW,
            NOW,
            Duration::minutes(60),
        );
        assert_eq!(scheduled_rotation(Some(&d.ledger), &state("v1")), Ok(()));
        assert_eq!(
            scheduled_rotation(None, &state("v1")),
            Err(Skip::NothingRecorded)
        );
        assert_eq!(
            scheduled_rotation(Some(&d.ledger), &state("v2")),
            Err(Skip::AlreadyRotated)
        );
        let mut later = state("v1");
        later.last_rotated = Some(NOW);
        assert_eq!(
            scheduled_rotation(Some(&d.ledger), &later),
            Err(Skip::AlreadyRotated)
        );
        let mut running = state("v1");
        running.pending_version = Some("v9".into());
        assert_eq!(
            scheduled_rotation(Some(&d.ledger), &running),
            Err(Skip::AlreadyRunning)
        );
        let mut asked = d.ledger.clone();
        asked.rotation.as_mut().unwrap().requested_at = Some(NOW);
        assert_eq!(
            scheduled_rotation(Some(&asked), &state("v1")),
            Err(Skip::AlreadyRequested)
        );
    }

    #[test]
    fn a_leaver_is_found_among_the_readers_of_the_round() {
        let mut l = record_read(
            None,
            &state("v1"),
            &person("matti"),
            NOW,
            NOW,
            Duration::ZERO,
        )
        .ledger;
        let mut sso = person("x");
        sso.iam_user = None;
        sso.identity_center_user = Some("Anna.Virtanen@city.fi".into());
        l = record_read(Some(l), &state("v1"), &sso, NOW, NOW, Duration::ZERO).ledger;
        assert_eq!(leaver_readers(&l, &Leaver::IamUser("matti")).len(), 1);
        assert!(leaver_readers(&l, &Leaver::IamUser("anna")).is_empty());
        assert_eq!(
            leaver_readers(&l, &Leaver::IdentityCenter(Some("anna.virtanen@city.fi"))).len(),
            1
        );
        assert_eq!(leaver_readers(&l, &Leaver::IdentityCenter(None)).len(), 1);
    }

    #[test]
    fn schedule_names_are_deterministic_short_and_in_schedulers_charset() {
        let a = schedule_name(
            "arn:aws:secretsmanager:eu-north-1:123456789012:secret:x-AbCdEf",
            Some("v1"),
        );
        assert_eq!(
            a,
            schedule_name(
                "arn:aws:secretsmanager:eu-north-1:123456789012:secret:x-AbCdEf",
                Some("v1")
            )
        );
        assert_ne!(
            a,
            schedule_name(
                "arn:aws:secretsmanager:eu-north-1:123456789012:secret:x-AbCdEf",
                Some("v2")
            )
        );
        assert!(a.len() <= 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        );
        assert_eq!(
            at_expression(datetime!(2026-12-02 09:05:07.9 +02:00)),
            "at(2026-12-02T07:05:07)"
        );
    }
}
