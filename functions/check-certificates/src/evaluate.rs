//! Pure evaluation: where each certificate of a chain stands against the thresholds, and what
//! that means for the chain. No I/O, no async: everything here is decided from parsed
//! certificates, the time and the configuration.

use crate::certs::CertInfo;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Thresholds used when `THRESHOLD_DAYS` is not set.
pub const DEFAULT_THRESHOLD_DAYS: &str = "60,30,14,7,3,1";
/// A certificate is critical (not just a warning) from this many days before it expires, or
/// from the smallest threshold when that is larger.
pub const CRITICAL_DAYS: u32 = 7;

/// Expiry thresholds in days, largest first, each a distinct positive number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds(Vec<u32>);

impl Thresholds {
    /// Parses `"60,30,14,7,3,1"` (any order; duplicates removed).
    pub fn parse(raw: &str) -> Result<Self, ThresholdsError> {
        let bad = |reason: &str| ThresholdsError {
            value: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let mut days = Vec::new();
        for part in raw.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(bad("an empty item"));
            }
            let d: u32 = part
                .parse()
                .map_err(|_| bad("items must be whole numbers of days"))?;
            if d == 0 || d > 3650 {
                return Err(bad("each threshold must be between 1 and 3650 days"));
            }
            days.push(d);
        }
        Self::from_days(days).ok_or_else(|| bad("no thresholds"))
    }

    /// From a list of days (any order); `None` when empty or containing 0.
    pub fn from_days(mut days: Vec<u32>) -> Option<Self> {
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        if days.is_empty() || days.contains(&0) {
            return None;
        }
        Some(Self(days))
    }

    /// Largest first.
    pub fn days(&self) -> &[u32] {
        &self.0
    }

    /// The smallest threshold: below it, reminders repeat every `REMINDER_HOURS`.
    pub fn last(&self) -> u32 {
        *self.0.last().expect("thresholds are never empty")
    }

    /// From how many days before expiry a certificate is critical.
    pub fn critical_days(&self) -> u32 {
        CRITICAL_DAYS.max(self.last())
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Self::parse(DEFAULT_THRESHOLD_DAYS).expect("default thresholds are valid")
    }
}

/// `THRESHOLD_DAYS` is not a usable list. Its text completes "`THRESHOLD_DAYS` …";
/// [`Config::from_env`](crate::config::Config::from_env) reports it as
/// `ConfigError::Invalid { name: "THRESHOLD_DAYS", reason }` with this text as the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}`: {reason}; expected e.g. \"60,30,14,7,3,1\"")]
pub struct ThresholdsError {
    /// The value as written.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Where a certificate (or a target) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Valid, no threshold crossed.
    Ok,
    /// A threshold crossed, more than the critical number of days left.
    Warning,
    /// A threshold crossed, few days left.
    Critical,
    /// Past its end of validity.
    Expired,
    /// Before its start of validity.
    NotYetValid,
    /// The source answered, but its content is not a readable certificate (parse error, wrong
    /// password). Never reported as expired.
    Unreadable,
    /// The source did not answer (connection, permission, timeout).
    Unreachable,
    /// Not looked at: the run's deadline came first. Never counted as ok; its alerts stay as
    /// they are until a run reaches it.
    NotChecked,
}

impl Status {
    /// The name used in reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::Expired => "expired",
            Self::NotYetValid => "notYetValid",
            Self::Unreadable => "unreadable",
            Self::Unreachable => "unreachable",
            Self::NotChecked => "notChecked",
        }
    }

    /// How bad a validity status is, for picking the certificate that governs a chain.
    fn rank(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Warning => 1,
            Self::Critical => 2,
            Self::NotYetValid => 3,
            Self::Expired => 4,
            Self::Unreadable | Self::Unreachable | Self::NotChecked => 5,
        }
    }

    /// Whether it needs an alert about the certificate's validity period.
    pub fn is_validity_problem(self) -> bool {
        matches!(
            self,
            Self::Warning | Self::Critical | Self::Expired | Self::NotYetValid
        )
    }
}

/// One certificate against the clock and the thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertEvaluation {
    /// Position in the chain as presented or stored; 0 is the end-entity certificate.
    pub position: usize,
    /// Its status.
    pub status: Status,
    /// Time until `notAfter` (negative once expired).
    pub remaining: Duration,
    /// The smallest threshold crossed, in days.
    pub threshold: Option<u32>,
    /// 0 when no threshold is crossed, `i + 1` for the `i`-th threshold (largest first),
    /// `thresholds + 1` once expired: higher is worse, so a rise means "notify again".
    pub stage: u32,
    /// Sent or stored along but not needed: an expired or not-yet-valid certificate other than
    /// the leaf that no valid path uses — typically an old cross-signed root. Reported as
    /// information, not as a problem. See [`evaluate_chain`] for how that is known.
    pub extra: bool,
}

impl CertEvaluation {
    /// Whole days left, rounded down: 0 on the last day, −1 on the first day after expiry.
    pub fn days_left(&self) -> i64 {
        days_left(self.remaining)
    }
}

/// Whole days in `remaining`, rounded towards minus infinity.
pub fn days_left(remaining: Duration) -> i64 {
    remaining.whole_seconds().div_euclid(86_400)
}

/// Days left with two decimals, for metrics (alarms compare fractions of a day).
pub fn fractional_days(remaining: Duration) -> f64 {
    (remaining.as_seconds_f64() / 86_400.0 * 100.0).round() / 100.0
}

/// Evaluates one certificate.
///
/// A threshold counts for a certificate only when it is at most half of the certificate's
/// lifetime. Lifetimes are shrinking (public TLS: 200 days from March 2026, 47 days later) and
/// such certificates are renewed automatically near the end: a 60-day threshold on a 47-day
/// certificate would alarm from the day it was issued, every time, and teach people to ignore
/// the alarm. Its 14-, 7-, 3- and 1-day thresholds still apply.
pub fn evaluate_cert(
    cert: &CertInfo,
    position: usize,
    now: OffsetDateTime,
    thresholds: &Thresholds,
) -> CertEvaluation {
    let remaining = cert.not_after - now;
    let lifetime = cert.not_after - cert.not_before;
    let (status, threshold, stage) = if now < cert.not_before {
        (Status::NotYetValid, None, 0)
    } else if now > cert.not_after {
        (Status::Expired, None, thresholds.days().len() as u32 + 1)
    } else {
        let crossed = thresholds
            .days()
            .iter()
            .enumerate()
            .filter(|&(_, &t)| Duration::days(i64::from(t)) * 2 <= lifetime)
            .rfind(|&(_, &t)| remaining <= Duration::days(i64::from(t)));
        match crossed {
            None => (Status::Ok, None, 0),
            Some((i, &t)) => {
                let status = if t <= thresholds.critical_days() {
                    Status::Critical
                } else {
                    Status::Warning
                };
                (status, Some(t), i as u32 + 1)
            }
        }
    };
    CertEvaluation {
        position,
        status,
        remaining,
        threshold,
        stage,
        extra: false,
    }
}

/// A whole chain, end-entity certificate first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEvaluation {
    /// Each certificate, in chain order.
    pub certs: Vec<CertEvaluation>,
    /// Index into `certs` of the certificate that sets the chain's status and expiry: the
    /// worst one, and among equals the one that expires first (an intermediate expiring
    /// before the leaf takes the whole chain down with it).
    pub governing: usize,
}

impl ChainEvaluation {
    /// The certificate that sets the chain's status.
    pub fn governing(&self) -> &CertEvaluation {
        &self.certs[self.governing]
    }

    /// The chain's status.
    pub fn status(&self) -> Status {
        self.governing().status
    }
}

/// Evaluates every certificate of `chain` (at least one).
///
/// `verified` is the TLS verifier's verdict when there was one (`None` for certificates read
/// from a store). An expired or not-yet-valid certificate other than the leaf is an *extra*
/// when
/// - the chain verified: the verifier checks the validity of every certificate on the path it
///   built, so an invalid one cannot be on it; or
/// - it is not on the issuer path from the leaf (followed by names through the certificates
///   present, preferring a valid certificate where several carry the issuer's name): nothing
///   needs it. Certificate Manager, for one, appends a root to the chain you imported.
pub fn evaluate_chain(
    chain: &[CertInfo],
    verified: Option<bool>,
    now: OffsetDateTime,
    thresholds: &Thresholds,
) -> ChainEvaluation {
    assert!(!chain.is_empty(), "a chain has at least one certificate");
    let mut certs: Vec<CertEvaluation> = chain
        .iter()
        .enumerate()
        .map(|(i, c)| evaluate_cert(c, i, now, thresholds))
        .collect();
    let on_path = issuer_path(chain, &certs);
    for e in &mut certs {
        e.extra = e.position > 0
            && matches!(e.status, Status::Expired | Status::NotYetValid)
            && (verified == Some(true) || !on_path[e.position]);
    }
    let governing = certs
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.extra)
        .max_by(|(_, a), (_, b)| {
            (a.status.rank(), a.stage)
                .cmp(&(b.status.rank(), b.stage))
                // Earlier expiry is worse; among exact ties the lower position wins.
                .then(b.remaining.cmp(&a.remaining))
                .then(b.position.cmp(&a.position))
        })
        .map(|(i, _)| i)
        .expect("the leaf is never an extra");
    ChainEvaluation { certs, governing }
}

/// Which certificates lie on the issuer path from the leaf, following names.
fn issuer_path(chain: &[CertInfo], evals: &[CertEvaluation]) -> Vec<bool> {
    let valid = |i: usize| !matches!(evals[i].status, Status::Expired | Status::NotYetValid);
    let mut on_path = vec![false; chain.len()];
    on_path[0] = true;
    let mut current = 0;
    while !chain[current].self_issued {
        let candidates: Vec<usize> = (0..chain.len())
            .filter(|&j| !on_path[j] && chain[j].subject == chain[current].issuer)
            .collect();
        let Some(&next) = candidates
            .iter()
            .find(|&&j| valid(j))
            .or(candidates.first())
        else {
            break;
        };
        on_path[next] = true;
        current = next;
    }
    on_path
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    /// Only the validity matters here; real certificates are exercised in the tests/ folder.
    fn cert(not_before_days: i64, not_after_days: i64) -> CertInfo {
        CertInfo {
            der: CertificateDer::from(vec![]),
            subject: "CN=x".into(),
            common_name: Some("x".into()),
            issuer: "CN=ca".into(),
            serial: "01".into(),
            sha256: "00".into(),
            not_before: NOW + Duration::days(not_before_days),
            not_after: NOW + Duration::days(not_after_days),
            self_issued: false,
            authority_key_id: None,
        }
    }

    fn named(subject: &str, issuer: &str, not_before_days: i64, not_after_days: i64) -> CertInfo {
        CertInfo {
            subject: subject.into(),
            issuer: issuer.into(),
            self_issued: subject == issuer,
            ..cert(not_before_days, not_after_days)
        }
    }

    fn eval(after_days: i64) -> CertEvaluation {
        evaluate_cert(&cert(-300, after_days), 0, NOW, &Thresholds::default())
    }

    #[test]
    fn each_threshold_is_its_own_stage_and_the_last_ones_are_critical() {
        let cases = [
            (90, Status::Ok, None, 0),
            (61, Status::Ok, None, 0),
            (60, Status::Warning, Some(60), 1),
            (30, Status::Warning, Some(30), 2),
            (14, Status::Warning, Some(14), 3),
            (8, Status::Warning, Some(14), 3),
            (7, Status::Critical, Some(7), 4),
            (3, Status::Critical, Some(3), 5),
            (1, Status::Critical, Some(1), 6),
            (0, Status::Critical, Some(1), 6),
            (-1, Status::Expired, None, 7),
        ];
        for (days, status, threshold, stage) in cases {
            let e = eval(days);
            assert_eq!(
                (e.status, e.threshold, e.stage),
                (status, threshold, stage),
                "{days} days"
            );
            assert_eq!(e.days_left(), days, "{days} days");
        }
    }

    #[test]
    fn days_left_rounds_down_so_an_expired_certificate_is_never_at_zero() {
        assert_eq!(days_left(Duration::hours(-1)), -1);
        assert_eq!(days_left(Duration::hours(23)), 0);
        assert_eq!(days_left(Duration::hours(24)), 1);
        assert_eq!(fractional_days(Duration::hours(36)), 1.5);
    }

    #[test]
    fn a_certificate_before_its_start_is_not_yet_valid() {
        let e = evaluate_cert(&cert(2, 400), 0, NOW, &Thresholds::default());
        assert_eq!((e.status, e.stage), (Status::NotYetValid, 0));
    }

    #[test]
    fn short_lived_certificates_skip_thresholds_longer_than_half_their_life() {
        // A 47-day certificate, 40 days left: 60 and 30 would fire on every renewal; they don't.
        let fresh = evaluate_cert(&cert(-7, 40), 0, NOW, &Thresholds::default());
        assert_eq!(fresh.status, Status::Ok);
        let late = evaluate_cert(&cert(-37, 10), 0, NOW, &Thresholds::default());
        assert_eq!((late.status, late.threshold), (Status::Warning, Some(14)));
        // A 200-day certificate keeps every threshold.
        let long = evaluate_cert(&cert(-150, 50), 0, NOW, &Thresholds::default());
        assert_eq!(long.threshold, Some(60));
    }

    #[test]
    fn an_intermediate_that_expires_first_governs_the_chain() {
        let chain = [cert(-300, 200), cert(-300, 20), cert(-3000, 3000)];
        let e = evaluate_chain(&chain, Some(true), NOW, &Thresholds::default());
        assert_eq!(e.governing, 1);
        assert_eq!(e.status(), Status::Warning);
        assert_eq!(e.governing().days_left(), 20);
    }

    #[test]
    fn an_ok_chain_is_governed_by_its_earliest_expiry() {
        let chain = [cert(-300, 200), cert(-300, 150), cert(-3000, 3000)];
        let e = evaluate_chain(&chain, None, NOW, &Thresholds::default());
        assert_eq!((e.status(), e.governing), (Status::Ok, 1));
    }

    #[test]
    fn an_expired_extra_root_is_information_when_the_chain_verified() {
        // The expired certificate carries the root's name, so it is on the name path when no
        // valid alternative is present: only the verifier's verdict sets it aside.
        let chain = [
            named("CN=leaf", "CN=int", -300, 200),
            named("CN=int", "CN=root", -300, 300),
            named("CN=root", "CN=old root", -4000, -10),
        ];
        let verified = evaluate_chain(&chain, Some(true), NOW, &Thresholds::default());
        assert!(verified.certs[2].extra);
        assert_eq!(verified.certs[2].status, Status::Expired);
        assert_eq!(verified.status(), Status::Ok);
        for verdict in [Some(false), None] {
            let e = evaluate_chain(&chain, verdict, NOW, &Thresholds::default());
            assert!(!e.certs[2].extra);
            assert_eq!(e.status(), Status::Expired);
        }
    }

    #[test]
    fn a_stored_chain_sets_aside_expired_certificates_no_path_needs() {
        // An unrelated expired CA, and an expired cross-sign beside the valid self-signed root.
        let chain = [
            named("CN=leaf", "CN=int", -300, 200),
            named("CN=int", "CN=root", -300, 300),
            named("CN=root", "CN=old root", -4000, -10),
            named("CN=root", "CN=root", -4000, 4000),
            named("CN=unrelated", "CN=unrelated", -4000, -1),
        ];
        let e = evaluate_chain(&chain, None, NOW, &Thresholds::default());
        assert_eq!(
            e.certs.iter().map(|c| c.extra).collect::<Vec<_>>(),
            [false, false, true, false, true]
        );
        assert_eq!(e.status(), Status::Ok);
    }

    #[test]
    fn an_expired_leaf_is_never_an_extra() {
        let chain = [cert(-300, -1), cert(-300, 300)];
        let e = evaluate_chain(&chain, Some(true), NOW, &Thresholds::default());
        assert!(!e.certs[0].extra);
        assert_eq!(e.status(), Status::Expired);
    }

    #[test]
    fn thresholds_are_sorted_deduplicated_and_validated() {
        assert_eq!(Thresholds::default().days(), &[60, 30, 14, 7, 3, 1]);
        assert_eq!(
            Thresholds::parse(" 7, 30,7 ,90").unwrap().days(),
            &[90, 30, 7]
        );
        assert_eq!(Thresholds::parse("90,45").unwrap().critical_days(), 45);
        assert_eq!(Thresholds::default().critical_days(), 7);
        for bad in ["", "30,,7", "thirty", "0,7", "-1", "99999"] {
            assert!(
                matches!(Thresholds::parse(bad), Err(ThresholdsError { .. })),
                "{bad}"
            );
        }
    }
}
