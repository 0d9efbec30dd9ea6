//! The rules: ages, days until deletion and severities. Pure functions of the observations and
//! the time now — no I/O, no async — so every threshold is tested directly.
//!
//! # Severities, and why
//!
//! - **Heartbeat** (the retriever's checkpoint `updatedAt`): *warning* once older than
//!   `HEARTBEAT_MAX_AGE_MINUTES`; *critical* once older than [`HEARTBEAT_CRITICAL_AGE`] (24 h, or
//!   twice the maximum age if that is longer) — a whole day without retrieval means the process
//!   is broken and nobody has noticed. An `updatedAt` more than [`FUTURE_TOLERANCE`] ahead of now
//!   is not trusted (it would hide a stalled retriever forever) and is reported as a checkpoint
//!   problem instead.
//! - **Backlog** (end-user messages from the checkpoint onward): nothing while every waiting
//!   message is younger than `BACKLOG_GRACE_MINUTES` (retrieval is simply between polls);
//!   *warning* once one is older; *critical* once the oldest has waited [`CRITICAL_WAIT`] (7 days:
//!   a citizen's message unread for a week is an incident whatever the deletion horizon says) or
//!   fewer than [`CRITICAL_DAYS_LEFT`] (7) days remain before Suomi.fi deletes it, 60 days after
//!   its event time. Within a severity the *stage* counts the horizon thresholds crossed
//!   ([`HORIZON_STAGES_DAYS`]: 30, 14, 7, 3, 1 days left), so the alert lifecycle escalates — sends
//!   a fresh notification — each time the deletion date comes a step nearer.
//! - **Password age** (DVV: rotate at least every six months, at least once a year): *warning*
//!   past `PASSWORD_MAX_AGE_DAYS`; *critical* past [`PASSWORD_CRITICAL_AGE`] (365 days) or when
//!   rotation is failing: an `AWSPENDING` version left behind for more than [`ROTATION_SETTLE`]
//!   (younger ones are a rotation in progress), or rotation enabled but its `NextRotationDate`
//!   more than [`ROTATION_OVERDUE`] in the past.

use crate::backlog::BacklogCounter;
use crate::ports::RotationMetadata;
use suomifi_shared::notify::Severity;
use time::{Duration, OffsetDateTime};

/// Suomi.fi deletes end-user data from the API this long after it was recorded.
pub const RETENTION: Duration = Duration::days(60);
/// Fewer days than this before deletion make the backlog critical.
pub const CRITICAL_DAYS_LEFT: f64 = 7.0;
/// A message waiting this long makes the backlog critical.
pub const CRITICAL_WAIT: Duration = Duration::days(7);
/// Days-until-deletion thresholds; each one crossed raises the backlog alert's stage.
pub const HORIZON_STAGES_DAYS: [f64; 5] = [30.0, 14.0, 7.0, 3.0, 1.0];
/// A heartbeat this old is critical (or twice `HEARTBEAT_MAX_AGE_MINUTES`, if longer).
pub const HEARTBEAT_CRITICAL_AGE: Duration = Duration::hours(24);
/// How far `updatedAt` may be ahead of now (clock skew) before it is distrusted.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);
/// A password this old is critical (DVV: at least once a year).
pub const PASSWORD_CRITICAL_AGE: Duration = Duration::days(365);
/// An `AWSPENDING` version older than this is a failed rotation, not one in progress.
pub const ROTATION_SETTLE: Duration = Duration::hours(1);
/// A `NextRotationDate` this far in the past means rotations are not happening.
pub const ROTATION_OVERDUE: Duration = Duration::days(1);

/// The configurable thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `HEARTBEAT_MAX_AGE_MINUTES`.
    pub heartbeat_max_age: Duration,
    /// `BACKLOG_GRACE_MINUTES`.
    pub backlog_grace: Duration,
    /// `PASSWORD_MAX_AGE_DAYS`.
    pub password_max_age: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            heartbeat_max_age: Duration::minutes(crate::config::DEFAULT_HEARTBEAT_MAX_AGE_MINUTES),
            backlog_grace: Duration::minutes(crate::config::DEFAULT_BACKLOG_GRACE_MINUTES),
            password_max_age: Duration::days(crate::config::DEFAULT_PASSWORD_MAX_AGE_DAYS),
        }
    }
}

/// Minutes, to one decimal (for reports and metrics).
pub fn minutes(d: Duration) -> f64 {
    (d.as_seconds_f64() / 6.0).round() / 10.0
}

/// Days, to one decimal.
pub fn days(d: Duration) -> f64 {
    (d.as_seconds_f64() / 8_640.0).round() / 10.0
}

/// What the heartbeat says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatVerdict {
    /// Younger than the maximum age.
    Fresh,
    /// Too old: the retriever has not polled successfully since `updatedAt`.
    Stale(Severity),
    /// `updatedAt` lies in the future: not trusted.
    InTheFuture,
}

/// The heartbeat evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The checkpoint's `updatedAt`.
    pub updated_at: OffsetDateTime,
    /// Now minus `updatedAt`, never negative.
    pub age: Duration,
    /// The verdict.
    pub verdict: HeartbeatVerdict,
}

/// Evaluates the checkpoint's `updatedAt`.
pub fn heartbeat(updated_at: OffsetDateTime, now: OffsetDateTime, th: &Thresholds) -> Heartbeat {
    let raw_age = now - updated_at;
    let critical_after = HEARTBEAT_CRITICAL_AGE.max(th.heartbeat_max_age * 2);
    let verdict = if raw_age < -FUTURE_TOLERANCE {
        HeartbeatVerdict::InTheFuture
    } else if raw_age > critical_after {
        HeartbeatVerdict::Stale(Severity::Critical)
    } else if raw_age > th.heartbeat_max_age {
        HeartbeatVerdict::Stale(Severity::Warning)
    } else {
        HeartbeatVerdict::Fresh
    };
    Heartbeat {
        updated_at,
        age: raw_age.max(Duration::ZERO),
        verdict,
    }
}

/// The backlog evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backlog {
    /// End-user messages waiting.
    pub count: u64,
    /// Of those, older than the grace period.
    pub over_grace: u64,
    /// Event time of the oldest.
    pub oldest: Option<OffsetDateTime>,
    /// How long the oldest has waited (never negative).
    pub oldest_age: Option<Duration>,
    /// When Suomi.fi deletes the oldest (its event time + 60 days).
    pub deletion_at: Option<OffsetDateTime>,
    /// Days from now until then, to one decimal, never negative.
    pub days_until_deletion: Option<f64>,
    /// `None` when nothing is overdue.
    pub severity: Option<Severity>,
    /// Horizon thresholds crossed (see [`HORIZON_STAGES_DAYS`]); 0 when nothing is overdue.
    pub stage: u32,
}

/// How many of [`HORIZON_STAGES_DAYS`] lie above `days_left`.
pub fn horizon_stage(days_left: f64) -> u32 {
    HORIZON_STAGES_DAYS
        .iter()
        .filter(|&&d| days_left < d)
        .count() as u32
}

/// Evaluates what a scan counted (the grace period was applied while counting).
pub fn backlog(counter: &BacklogCounter, now: OffsetDateTime) -> Backlog {
    let oldest = counter.oldest;
    let oldest_age = oldest.map(|o| (now - o).max(Duration::ZERO));
    let deletion_at = oldest.map(|o| o + RETENTION);
    let until_deletion = deletion_at.map(|d| (d - now).max(Duration::ZERO));
    // Decisions use the exact value; only the report is rounded.
    let exact_days_left = until_deletion.map(|d| d.as_seconds_f64() / 86_400.0);
    let (severity, stage) = match (counter.over_grace, oldest_age, exact_days_left) {
        (n, Some(age), Some(left)) if n > 0 => {
            let critical = left < CRITICAL_DAYS_LEFT || age >= CRITICAL_WAIT;
            let severity = if critical {
                Severity::Critical
            } else {
                Severity::Warning
            };
            (Some(severity), horizon_stage(left))
        }
        _ => (None, 0),
    };
    Backlog {
        count: counter.count,
        over_grace: counter.over_grace,
        oldest,
        oldest_age,
        deletion_at,
        days_until_deletion: until_deletion.map(days),
        severity,
        stage,
    }
}

/// Which date the password's age is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBasis {
    /// `LastRotatedDate`: the last completed rotation.
    LastRotated,
    /// `LastChangedDate`: no rotation on record, so the last change of the secret (any change,
    /// so the age may be under-estimated).
    LastChanged,
}

impl AgeBasis {
    /// The metadata field's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastRotated => "LastRotatedDate",
            Self::LastChanged => "LastChangedDate",
        }
    }
}

/// Why rotation counts as failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationTrouble {
    /// An `AWSPENDING` version older than [`ROTATION_SETTLE`] (measured from `LastChangedDate`,
    /// which `createSecret` sets).
    LeftoverPending,
    /// Rotation is enabled but `NextRotationDate` passed more than [`ROTATION_OVERDUE`] ago.
    Overdue {
        /// The date that passed.
        next_rotation: OffsetDateTime,
    },
}

/// The password's age evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordAge {
    /// When the current password was set, as far as the metadata tells.
    pub changed_at: Option<OffsetDateTime>,
    /// Which field that came from.
    pub basis: Option<AgeBasis>,
    /// Now minus `changed_at`.
    pub age: Option<Duration>,
    /// A pending version younger than [`ROTATION_SETTLE`]: a rotation is running now.
    pub rotation_in_progress: bool,
    /// Rotation trouble, if any.
    pub trouble: Option<RotationTrouble>,
    /// `None` when all is well.
    pub severity: Option<Severity>,
}

/// Evaluates the secret's rotation metadata.
pub fn password_age(meta: &RotationMetadata, now: OffsetDateTime, th: &Thresholds) -> PasswordAge {
    let (changed_at, basis) = match (meta.last_rotated, meta.last_changed) {
        (Some(r), _) => (Some(r), Some(AgeBasis::LastRotated)),
        (None, Some(c)) => (Some(c), Some(AgeBasis::LastChanged)),
        (None, None) => (None, None),
    };
    let age = changed_at.map(|c| (now - c).max(Duration::ZERO));
    let pending_settled = meta.last_changed.is_none_or(|c| now - c >= ROTATION_SETTLE);
    let trouble = if meta.pending_version && pending_settled {
        Some(RotationTrouble::LeftoverPending)
    } else {
        match meta.next_rotation {
            Some(next) if meta.rotation_enabled && now - next > ROTATION_OVERDUE => {
                Some(RotationTrouble::Overdue {
                    next_rotation: next,
                })
            }
            _ => None,
        }
    };
    let severity = match age {
        _ if trouble.is_some() => Some(Severity::Critical),
        Some(a) if a > PASSWORD_CRITICAL_AGE => Some(Severity::Critical),
        Some(a) if a > th.password_max_age => Some(Severity::Warning),
        _ => None,
    };
    PasswordAge {
        changed_at,
        basis,
        age,
        rotation_in_progress: meta.pending_version && !pending_settled,
        trouble,
        severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    #[test]
    fn heartbeat_is_fresh_then_warning_then_critical_and_a_future_one_is_distrusted() {
        let th = Thresholds::default();
        let at = |mins: i64| heartbeat(NOW - Duration::minutes(mins), NOW, &th);
        assert_eq!(at(0).verdict, HeartbeatVerdict::Fresh);
        assert_eq!(at(30).verdict, HeartbeatVerdict::Fresh);
        assert_eq!(at(31).verdict, HeartbeatVerdict::Stale(Severity::Warning));
        assert_eq!(
            at(24 * 60).verdict,
            HeartbeatVerdict::Stale(Severity::Warning)
        );
        assert_eq!(
            at(24 * 60 + 1).verdict,
            HeartbeatVerdict::Stale(Severity::Critical)
        );
        assert_eq!(at(31).age, Duration::minutes(31));
        // A little skew is fine and reads as age 0; far ahead is not trusted.
        assert_eq!(at(-4).verdict, HeartbeatVerdict::Fresh);
        assert_eq!(at(-4).age, Duration::ZERO);
        assert_eq!(at(-6).verdict, HeartbeatVerdict::InTheFuture);
    }

    #[test]
    fn a_long_heartbeat_maximum_moves_the_critical_limit_too() {
        let th = Thresholds {
            heartbeat_max_age: Duration::hours(20),
            ..Thresholds::default()
        };
        let hb = heartbeat(NOW - Duration::hours(30), NOW, &th);
        assert_eq!(hb.verdict, HeartbeatVerdict::Stale(Severity::Warning));
    }

    fn counter(oldest_age: Duration, count: u64, over_grace: u64) -> BacklogCounter {
        BacklogCounter {
            count,
            over_grace,
            oldest: Some(NOW - oldest_age),
            ..BacklogCounter::default()
        }
    }

    #[test]
    fn backlog_within_grace_is_quiet_and_an_empty_one_has_no_dates() {
        let b = backlog(&counter(Duration::minutes(59), 3, 0), NOW);
        assert_eq!((b.severity, b.stage, b.count), (None, 0, 3));
        assert_eq!(b.days_until_deletion, Some(60.0));
        let empty = backlog(&BacklogCounter::default(), NOW);
        assert_eq!(empty.severity, None);
        assert_eq!(empty.oldest_age, None);
        assert_eq!(empty.days_until_deletion, None);
    }

    #[test]
    fn backlog_severity_and_stage_rise_as_deletion_nears() {
        let eval = |age: Duration| {
            let b = backlog(&counter(age, 10, 4), NOW);
            (b.severity.unwrap(), b.stage)
        };
        assert_eq!(eval(Duration::minutes(61)), (Severity::Warning, 0));
        assert_eq!(eval(Duration::days(6)), (Severity::Warning, 0));
        // A week of waiting is critical although 53 days remain.
        assert_eq!(eval(Duration::days(7)), (Severity::Critical, 0));
        assert_eq!(eval(Duration::days(31)), (Severity::Critical, 1));
        assert_eq!(eval(Duration::days(47)), (Severity::Critical, 2));
        assert_eq!(eval(Duration::days(54)), (Severity::Critical, 3));
        assert_eq!(eval(Duration::days(58)), (Severity::Critical, 4));
        assert_eq!(eval(Duration::hours(59 * 24 + 12)), (Severity::Critical, 5));
    }

    #[test]
    fn days_until_deletion_counts_from_the_event_time() {
        let b = backlog(&counter(Duration::hours(55 * 24 + 12), 1, 1), NOW);
        assert_eq!(b.days_until_deletion, Some(4.5));
        assert_eq!(b.deletion_at, Some(datetime!(2026-11-30 00:00 UTC)));
        assert_eq!(b.oldest_age, Some(Duration::hours(55 * 24 + 12)));
        assert_eq!(b.severity, Some(Severity::Critical));
    }

    #[test]
    fn horizon_stages() {
        assert_eq!(horizon_stage(45.0), 0);
        assert_eq!(horizon_stage(29.9), 1);
        assert_eq!(horizon_stage(13.0), 2);
        assert_eq!(horizon_stage(6.9), 3);
        assert_eq!(horizon_stage(2.0), 4);
        assert_eq!(horizon_stage(0.0), 5);
    }

    fn meta(rotated_days_ago: Option<i64>) -> RotationMetadata {
        RotationMetadata {
            last_rotated: rotated_days_ago.map(|d| NOW - Duration::days(d)),
            last_changed: rotated_days_ago.map(|d| NOW - Duration::days(d)),
            rotation_enabled: true,
            next_rotation: Some(NOW + Duration::days(10)),
            pending_version: false,
        }
    }

    #[test]
    fn password_age_warns_past_the_maximum_and_is_critical_past_a_year() {
        let th = Thresholds::default();
        let sev = |d| password_age(&meta(Some(d)), NOW, &th).severity;
        assert_eq!(sev(10), None);
        assert_eq!(sev(180), None);
        assert_eq!(sev(181), Some(Severity::Warning));
        assert_eq!(sev(366), Some(Severity::Critical));
        let p = password_age(&meta(Some(10)), NOW, &th);
        assert_eq!(p.basis, Some(AgeBasis::LastRotated));
        assert_eq!(p.age, Some(Duration::days(10)));
    }

    #[test]
    fn without_a_rotation_the_age_comes_from_the_last_change() {
        let m = RotationMetadata {
            last_changed: Some(NOW - Duration::days(200)),
            ..RotationMetadata::default()
        };
        let p = password_age(&m, NOW, &Thresholds::default());
        assert_eq!(p.basis, Some(AgeBasis::LastChanged));
        assert_eq!(p.severity, Some(Severity::Warning));
        let unknown = password_age(&RotationMetadata::default(), NOW, &Thresholds::default());
        assert_eq!((unknown.age, unknown.severity), (None, None));
    }

    #[test]
    fn a_leftover_pending_version_is_critical_but_a_fresh_one_is_a_rotation_in_progress() {
        let th = Thresholds::default();
        let mut m = meta(Some(3));
        m.pending_version = true;
        let p = password_age(&m, NOW, &th);
        assert_eq!(p.trouble, Some(RotationTrouble::LeftoverPending));
        assert_eq!(p.severity, Some(Severity::Critical));
        m.last_changed = Some(NOW - Duration::minutes(2));
        let p = password_age(&m, NOW, &th);
        assert_eq!((p.trouble, p.severity), (None, None));
        assert!(p.rotation_in_progress);
    }

    #[test]
    fn an_overdue_rotation_is_critical() {
        let th = Thresholds::default();
        let mut m = meta(Some(40));
        m.next_rotation = Some(NOW - Duration::days(10));
        let p = password_age(&m, NOW, &th);
        assert!(matches!(p.trouble, Some(RotationTrouble::Overdue { .. })));
        assert_eq!(p.severity, Some(Severity::Critical));
        // Not overdue when rotation is off: then only the age counts.
        m.rotation_enabled = false;
        assert_eq!(password_age(&m, NOW, &th).severity, None);
    }

    #[test]
    fn rounding_helpers() {
        assert_eq!(minutes(Duration::seconds(90)), 1.5);
        assert_eq!(days(Duration::hours(36)), 1.5);
    }
}
