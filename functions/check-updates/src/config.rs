//! The function's configuration: read once at start from the shared [`Env`] reader, typed, and
//! refused at start (`CheckUpdates.Config`) when unusable.

use crate::deadlines::{self, Deadline};
use std::time::Duration;
use suomifi_shared::config::{ConfigError, Env, optional_u64, required};
use suomifi_shared::suomifi::ApiBase;

/// OSV's public API, used when `OSV_API_URL` is not set.
pub const DEFAULT_OSV_API_URL: &str = "https://api.osv.dev";
/// Reminder interval of an open advisory, used when `REMINDER_HOURS` is not set: a week, since
/// the fix (a rebuild and a deploy) is planned work, not a page at night.
pub const DEFAULT_REMINDER_HOURS: u64 = 168;
/// How long before a dated deadline it is first reported, by default.
pub const DEFAULT_DEADLINE_NOTICE_DAYS: u64 = 180;
/// How many runs in a row OSV may be unreachable or answer garbage before the `unknown` alert.
pub const DEFAULT_UNKNOWN_AFTER_RUNS: u64 = 2;
/// Budget of one OSV request, by default.
pub const DEFAULT_OSV_TIMEOUT_SECONDS: u64 = 20;

/// Everything the check needs besides its ports.
#[derive(Debug, Clone)]
pub struct Config {
    /// OSV base URL (https, or http to loopback only).
    pub osv_api: ApiBase,
    /// State table (alert records, the list of open advisories, the OSV failure count).
    pub state_table: String,
    /// SNS topic; `None`: notifications are only logged.
    pub alert_topic_arn: Option<String>,
    /// Reminder interval of an open alert.
    pub reminder: time::Duration,
    /// The deadlines to report (shipped list with `DEADLINES` applied).
    pub deadlines: Vec<Deadline>,
    /// Days before a deadline from which it is reported.
    pub deadline_notice_days: i64,
    /// Consecutive unknown runs before the `unknown` alert opens (at least 1).
    pub unknown_after_runs: u32,
    /// Budget of one OSV request.
    pub osv_timeout: Duration,
}

impl Config {
    /// From the environment:
    /// - `OSV_API_URL` (default [`DEFAULT_OSV_API_URL`]);
    /// - `STATE_TABLE` (required), `ALERT_TOPIC_ARN` (optional);
    /// - `REMINDER_HOURS` (1-8760, default [`DEFAULT_REMINDER_HOURS`]);
    /// - `DEADLINES` (JSON amendments, see [`crate::deadlines`]), `DEADLINE_NOTICE_DAYS`
    ///   (1-3650, default 180);
    /// - `UNKNOWN_AFTER_RUNS` (1-100, default 2), `OSV_TIMEOUT_SECONDS` (1-300, default 20).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.get("OSV_API_URL").unwrap_or(DEFAULT_OSV_API_URL);
        let osv_api = ApiBase::parse(url).map_err(|e| ConfigError::Invalid {
            name: "OSV_API_URL",
            reason: e.to_string(),
        })?;
        let deadlines = match env.get("DEADLINES") {
            None => deadlines::shipped(),
            Some(json) => {
                deadlines::with_overrides(deadlines::shipped(), json).map_err(|reason| {
                    ConfigError::Invalid {
                        name: "DEADLINES",
                        reason,
                    }
                })?
            }
        };
        Ok(Self {
            osv_api,
            state_table: required(env, "STATE_TABLE")?.to_owned(),
            alert_topic_arn: env.get("ALERT_TOPIC_ARN").map(str::to_owned),
            reminder: time::Duration::hours(bounded(
                env,
                "REMINDER_HOURS",
                DEFAULT_REMINDER_HOURS,
                1..=8760,
            )? as i64),
            deadlines,
            deadline_notice_days: bounded(
                env,
                "DEADLINE_NOTICE_DAYS",
                DEFAULT_DEADLINE_NOTICE_DAYS,
                1..=3650,
            )? as i64,
            unknown_after_runs: bounded(
                env,
                "UNKNOWN_AFTER_RUNS",
                DEFAULT_UNKNOWN_AFTER_RUNS,
                1..=100,
            )? as u32,
            osv_timeout: Duration::from_secs(bounded(
                env,
                "OSV_TIMEOUT_SECONDS",
                DEFAULT_OSV_TIMEOUT_SECONDS,
                1..=300,
            )?),
        })
    }
}

fn bounded(
    env: &Env,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let v = optional_u64(env, name, default)?;
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("{v} is outside {}-{}", range.start(), range.end()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn defaults_need_only_the_state_table() {
        let c = Config::from_env(&env(&[("STATE_TABLE", "t")])).unwrap();
        assert_eq!(c.osv_api.as_str(), "https://api.osv.dev");
        assert_eq!(c.reminder, time::Duration::hours(168));
        assert_eq!(c.unknown_after_runs, 2);
        assert_eq!(c.deadlines, deadlines::shipped());
        assert!(c.alert_topic_arn.is_none());
        assert_eq!(
            Config::from_env(&env(&[])).unwrap_err(),
            ConfigError::Missing("STATE_TABLE")
        );
    }

    #[test]
    fn osv_is_https_only_except_loopback_and_never_echoes_credentials() {
        let ok = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            ("OSV_API_URL", "http://127.0.0.1:8080"),
        ]))
        .unwrap();
        assert_eq!(ok.osv_api.as_str(), "http://127.0.0.1:8080");
        for bad in [
            "http://api.osv.dev",
            "ftp://127.0.0.1",
            "https://user:S3cret@api.osv.dev",
        ] {
            let err = Config::from_env(&env(&[("STATE_TABLE", "t"), ("OSV_API_URL", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("OSV_API_URL"), "{err}");
            assert!(!err.contains("S3cret"), "{err}");
        }
    }

    #[test]
    fn out_of_range_numbers_and_bad_deadlines_name_the_variable() {
        for (name, value) in [
            ("REMINDER_HOURS", "0"),
            ("UNKNOWN_AFTER_RUNS", "x"),
            ("OSV_TIMEOUT_SECONDS", "301"),
            ("DEADLINE_NOTICE_DAYS", "0"),
            ("DEADLINES", "[{\"id\": \"new\"}]"),
        ] {
            let err = Config::from_env(&env(&[("STATE_TABLE", "t"), (name, value)])).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { name: n, .. } if n == name),
                "{name}: {err}"
            );
        }
    }
}
