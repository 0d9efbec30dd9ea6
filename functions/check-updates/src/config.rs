//! The function's configuration: read once at start from the shared [`Env`] reader, typed, and
//! refused at start (`CheckUpdates.Config`) when unusable.

use crate::deadlines::{self, Deadline};
use std::time::Duration;
use suomifi_shared::config::{ConfigError, Env, optional_u64, required, saturating_units};
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
    /// `state_table` with every other setting at its default (OSV's public API, the shipped
    /// deadlines) — not yet validated: change what you need, then [`Config::validated`].
    pub fn defaults(state_table: impl Into<String>) -> Self {
        Self {
            osv_api: ApiBase::parse(DEFAULT_OSV_API_URL).expect("the default OSV URL is https"),
            state_table: state_table.into(),
            alert_topic_arn: None,
            reminder: time::Duration::hours(DEFAULT_REMINDER_HOURS as i64),
            deadlines: deadlines::shipped(),
            deadline_notice_days: DEFAULT_DEADLINE_NOTICE_DAYS as i64,
            unknown_after_runs: DEFAULT_UNKNOWN_AFTER_RUNS as u32,
            osv_timeout: Duration::from_secs(DEFAULT_OSV_TIMEOUT_SECONDS),
        }
    }
}

/// Range of `REMINDER_HOURS` (up to a year).
pub const REMINDER_HOURS_RANGE: std::ops::RangeInclusive<u64> = 1..=8760;
/// Range of `DEADLINE_NOTICE_DAYS` (up to ten years).
pub const DEADLINE_NOTICE_DAYS_RANGE: std::ops::RangeInclusive<u64> = 1..=3650;
/// Range of `UNKNOWN_AFTER_RUNS`.
pub const UNKNOWN_AFTER_RUNS_RANGE: std::ops::RangeInclusive<u64> = 1..=100;
/// Range of `OSV_TIMEOUT_SECONDS`.
pub const OSV_TIMEOUT_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 1..=300;

impl Config {
    /// The validated configuration from typed settings: the table and every range are checked
    /// here, so the Lambda (through [`Config::from_env`]) and the CLI refuse the same values. An
    /// error names the setting by its variable (the CLI names its option instead).
    pub fn validated(self) -> Result<Self, ConfigError> {
        let Self {
            osv_api,
            state_table,
            alert_topic_arn,
            reminder,
            deadlines,
            deadline_notice_days,
            unknown_after_runs,
            osv_timeout,
        } = self;
        if state_table.trim().is_empty() {
            return Err(ConfigError::Missing("STATE_TABLE"));
        }
        let hours = (reminder.whole_seconds() % 3600 == 0 && reminder.subsec_nanoseconds() == 0)
            .then(|| u64::try_from(reminder.whole_hours()).ok())
            .flatten();
        within("REMINDER_HOURS", hours, &reminder, REMINDER_HOURS_RANGE)?;
        within(
            "DEADLINE_NOTICE_DAYS",
            u64::try_from(deadline_notice_days).ok(),
            &deadline_notice_days,
            DEADLINE_NOTICE_DAYS_RANGE,
        )?;
        within(
            "UNKNOWN_AFTER_RUNS",
            Some(unknown_after_runs.into()),
            &unknown_after_runs,
            UNKNOWN_AFTER_RUNS_RANGE,
        )?;
        let secs = (osv_timeout.subsec_nanos() == 0).then_some(osv_timeout.as_secs());
        within(
            "OSV_TIMEOUT_SECONDS",
            secs,
            &format_args!("{osv_timeout:?}"),
            OSV_TIMEOUT_SECONDS_RANGE,
        )?;
        Ok(Self {
            osv_api,
            state_table,
            alert_topic_arn: alert_topic_arn.filter(|v| !v.trim().is_empty()),
            reminder,
            deadlines,
            deadline_notice_days,
            unknown_after_runs,
            osv_timeout,
        })
    }

    /// From the environment, each variable parsed into its typed value, then [`Config::validated`]:
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
        let state_table = required(env, "STATE_TABLE")?.to_owned();
        // Out of the target type's range is out of the setting's range: saturate, `new` refuses.
        let reminder = optional_u64(env, "REMINDER_HOURS", DEFAULT_REMINDER_HOURS)?;
        let notice = optional_u64(env, "DEADLINE_NOTICE_DAYS", DEFAULT_DEADLINE_NOTICE_DAYS)?;
        let runs = optional_u64(env, "UNKNOWN_AFTER_RUNS", DEFAULT_UNKNOWN_AFTER_RUNS)?;
        let timeout = optional_u64(env, "OSV_TIMEOUT_SECONDS", DEFAULT_OSV_TIMEOUT_SECONDS)?;
        Self {
            osv_api,
            state_table,
            alert_topic_arn: env.get("ALERT_TOPIC_ARN").map(str::to_owned),
            reminder: saturating_units(reminder, time::Duration::HOUR),
            deadlines,
            deadline_notice_days: i64::try_from(notice).unwrap_or(i64::MAX),
            unknown_after_runs: u32::try_from(runs).unwrap_or(u32::MAX),
            osv_timeout: Duration::from_secs(timeout),
        }
        .validated()
    }
}

/// Refuses `n` (shown as `shown`) outside `range`, naming the setting.
fn within(
    name: &'static str,
    n: Option<u64>,
    shown: &dyn std::fmt::Display,
    range: std::ops::RangeInclusive<u64>,
) -> Result<(), ConfigError> {
    match n {
        Some(n) if range.contains(&n) => Ok(()),
        Some(n) => Err(ConfigError::Invalid {
            name,
            reason: format!("{n} is outside {}-{}", range.start(), range.end()),
        }),
        None => Err(ConfigError::Invalid {
            name,
            reason: format!("{shown} is outside {}-{}", range.start(), range.end()),
        }),
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

    #[test]
    fn the_typed_constructor_builds_and_refuses_what_from_env_does() {
        let typed = Config {
            osv_api: ApiBase::parse("http://127.0.0.1:8080").unwrap(),
            unknown_after_runs: 3,
            ..Config::defaults("t")
        }
        .validated()
        .unwrap();
        let parsed = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            ("OSV_API_URL", "http://127.0.0.1:8080"),
            ("UNKNOWN_AFTER_RUNS", "3"),
        ]))
        .unwrap();
        assert_eq!(format!("{typed:?}"), format!("{parsed:?}"));
        let name_of = |c: Config| match c.validated().unwrap_err() {
            ConfigError::Invalid { name, .. } | ConfigError::Missing(name) => name,
        };
        assert_eq!(name_of(Config::defaults(" ")), "STATE_TABLE");
        for (settings, name) in [
            (
                Config {
                    reminder: time::Duration::minutes(30),
                    ..Config::defaults("t")
                },
                "REMINDER_HOURS",
            ),
            (
                Config {
                    deadline_notice_days: 0,
                    ..Config::defaults("t")
                },
                "DEADLINE_NOTICE_DAYS",
            ),
            (
                Config {
                    unknown_after_runs: 101,
                    ..Config::defaults("t")
                },
                "UNKNOWN_AFTER_RUNS",
            ),
            (
                Config {
                    osv_timeout: Duration::ZERO,
                    ..Config::defaults("t")
                },
                "OSV_TIMEOUT_SECONDS",
            ),
        ] {
            assert_eq!(name_of(settings), name);
        }
        let huge = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            ("REMINDER_HOURS", "18446744073709551615"),
        ]))
        .unwrap_err();
        assert!(
            matches!(
                huge,
                ConfigError::Invalid {
                    name: "REMINDER_HOURS",
                    ..
                }
            ),
            "{huge}"
        );
    }
}
