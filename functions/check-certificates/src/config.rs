//! The function's configuration: read once at start from the shared [`Env`] reader, typed, and
//! refused at start (`CheckCertificates.Config`) when unusable. The grammar of `CERT_TARGETS` is
//! [`crate::targets`], that of `THRESHOLD_DAYS` [`Thresholds::parse`]; their typed errors become
//! the one [`ConfigError`] here, naming the variable, with their text as the reason.

use crate::evaluate::Thresholds;
use crate::targets::{Target, parse_targets};
use std::time::Duration;
use suomifi_shared::config::{ConfigError, Env, required, saturating_units};

/// Reminder interval used when `REMINDER_HOURS` is not set.
pub const DEFAULT_REMINDER_HOURS: u32 = 24;
/// Probe budget used when `PROBE_TIMEOUT_SECONDS` is not set.
pub const DEFAULT_PROBE_TIMEOUT_SECONDS: u64 = 10;
/// Concurrency used when `PROBE_CONCURRENCY` is not set.
pub const DEFAULT_PROBE_CONCURRENCY: usize = 16;

/// The whole configuration of one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// What to check, in the order written.
    pub targets: Vec<Target>,
    /// DynamoDB table for alert state and remembered certificates.
    pub state_table: String,
    /// SNS topic for notifications; `None` logs them only.
    pub alert_topic_arn: Option<String>,
    /// Expiry thresholds.
    pub thresholds: Thresholds,
    /// How often an alert under the last threshold (or expired) is repeated.
    pub reminder: time::Duration,
    /// Budget for fetching one target's certificate.
    pub probe_timeout: Duration,
    /// How many targets are fetched at once.
    pub concurrency: usize,
}

impl Config {
    /// `targets` and `state_table` with every other setting at its default — not yet validated:
    /// change what you need, then [`Config::validated`].
    pub fn defaults(targets: Vec<Target>, state_table: impl Into<String>) -> Self {
        Self {
            targets,
            state_table: state_table.into(),
            alert_topic_arn: None,
            thresholds: Thresholds::default(),
            reminder: time::Duration::hours(DEFAULT_REMINDER_HOURS.into()),
            probe_timeout: Duration::from_secs(DEFAULT_PROBE_TIMEOUT_SECONDS),
            concurrency: DEFAULT_PROBE_CONCURRENCY,
        }
    }
}

/// Most hours `REMINDER_HOURS` allows (30 days).
pub const MAX_REMINDER_HOURS: u64 = 24 * 30;
/// Most seconds `PROBE_TIMEOUT_SECONDS` allows.
pub const MAX_PROBE_TIMEOUT_SECONDS: u64 = 300;
/// Most targets `PROBE_CONCURRENCY` allows at once.
pub const MAX_PROBE_CONCURRENCY: u64 = 256;

/// Refuses `n` (shown as `shown`) outside `1..=max`, naming the setting.
fn within(name: &'static str, n: Option<u64>, shown: &str, max: u64) -> Result<(), ConfigError> {
    match n {
        Some(n) if (1..=max).contains(&n) => Ok(()),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("`{shown}`: expected a whole number from 1 to {max}"),
        }),
    }
}

/// A whole number of `unit` seconds in `d`, if `d` is one.
fn whole(seconds: i64, nanos: i64, unit: i64) -> Option<u64> {
    (nanos == 0 && seconds % unit == 0)
        .then(|| u64::try_from(seconds / unit).ok())
        .flatten()
}

impl Config {
    /// This configuration validated (and tidied: table trimmed, an empty topic unset): every
    /// check across settings and every range is here, so the Lambda (through
    /// [`Config::from_env`]) and the CLI refuse the same values. An error names the setting by
    /// its variable (the CLI names its option instead).
    pub fn validated(self) -> Result<Self, ConfigError> {
        let Self {
            targets,
            state_table,
            alert_topic_arn,
            thresholds,
            reminder,
            probe_timeout,
            concurrency,
        } = self;
        if targets.is_empty() {
            return Err(ConfigError::Invalid {
                name: "CERT_TARGETS",
                reason: crate::targets::TargetsError::NoTargets.to_string(),
            });
        }
        let state_table = state_table.trim().to_owned();
        if state_table.is_empty() {
            return Err(ConfigError::Missing("STATE_TABLE"));
        }
        let alert_topic_arn = alert_topic_arn
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let hours = whole(
            reminder.whole_seconds(),
            reminder.subsec_nanoseconds().into(),
            3600,
        );
        let shown = hours.map_or_else(|| reminder.to_string(), |h| h.to_string());
        within("REMINDER_HOURS", hours, &shown, MAX_REMINDER_HOURS)?;
        let secs = whole(
            i64::try_from(probe_timeout.as_secs()).unwrap_or(i64::MAX),
            probe_timeout.subsec_nanos().into(),
            1,
        );
        let shown = secs.map_or_else(|| format!("{probe_timeout:?}"), |s| s.to_string());
        within(
            "PROBE_TIMEOUT_SECONDS",
            secs,
            &shown,
            MAX_PROBE_TIMEOUT_SECONDS,
        )?;
        within(
            "PROBE_CONCURRENCY",
            u64::try_from(concurrency).ok(),
            &concurrency.to_string(),
            MAX_PROBE_CONCURRENCY,
        )?;
        Ok(Self {
            targets,
            state_table,
            alert_topic_arn,
            thresholds,
            reminder,
            probe_timeout,
            concurrency,
        })
    }

    /// From the environment (see `main.rs` for every variable): each variable parsed into its
    /// typed value, then [`Config::validated`]. A malformed `CERT_TARGETS` or `THRESHOLD_DAYS` is
    /// [`ConfigError::Invalid`] naming the variable, with the entry and field at fault in the
    /// reason.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let targets =
            parse_targets(required(env, "CERT_TARGETS")?).map_err(|e| ConfigError::Invalid {
                name: "CERT_TARGETS",
                reason: e.to_string(),
            })?;
        let state_table = required(env, "STATE_TABLE")?.to_owned();
        let alert_topic_arn = env.get("ALERT_TOPIC_ARN").map(str::to_owned);
        let thresholds = match env.get("THRESHOLD_DAYS") {
            Some(raw) => Thresholds::parse(raw).map_err(|e| ConfigError::Invalid {
                name: "THRESHOLD_DAYS",
                reason: e.to_string(),
            })?,
            None => Thresholds::default(),
        };
        let d = Config::defaults(Vec::new(), "");
        // A number, or the range error with the text as written (a number too large for the
        // setting's type saturates, and is out of its range too).
        let number = |name: &'static str, max: u64| -> Result<Option<u64>, ConfigError> {
            match env.get(name) {
                None => Ok(None),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) => Ok(Some(n)),
                    Err(_) => within(name, None, raw, max).map(|()| None),
                },
            }
        };
        let reminder = match number("REMINDER_HOURS", MAX_REMINDER_HOURS)? {
            None => d.reminder,
            Some(h) => saturating_units(h, time::Duration::HOUR),
        };
        let probe_timeout = number("PROBE_TIMEOUT_SECONDS", MAX_PROBE_TIMEOUT_SECONDS)?
            .map_or(d.probe_timeout, Duration::from_secs);
        let concurrency = number("PROBE_CONCURRENCY", MAX_PROBE_CONCURRENCY)?
            .map_or(d.concurrency, |n| usize::try_from(n).unwrap_or(usize::MAX));
        Self {
            targets,
            state_table,
            alert_topic_arn,
            thresholds,
            reminder,
            probe_timeout,
            concurrency,
        }
        .validated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn environment_defaults_apply_and_bad_numbers_are_refused() {
        let base = [
            (
                "CERT_TARGETS",
                r#"[{"name":"api","tls":"api.messages.suomi.fi:443"}]"#,
            ),
            ("STATE_TABLE", "t"),
        ];
        let c = Config::from_env(&env(&base)).unwrap();
        assert_eq!(c.thresholds, Thresholds::default());
        assert_eq!(c.reminder, time::Duration::hours(24));
        assert_eq!(c.probe_timeout, Duration::from_secs(10));
        assert_eq!(c.concurrency, 16);
        assert_eq!(c.alert_topic_arn, None);

        let mut vars = base.to_vec();
        vars.push(("PROBE_CONCURRENCY", "0"));
        assert!(matches!(
            Config::from_env(&env(&vars)),
            Err(ConfigError::Invalid {
                name: "PROBE_CONCURRENCY",
                ..
            })
        ));
        assert_eq!(
            Config::from_env(&env(&[("STATE_TABLE", "t")])),
            Err(ConfigError::Missing("CERT_TARGETS"))
        );
        assert_eq!(
            Config::from_env(&env(&base[..1])),
            Err(ConfigError::Missing("STATE_TABLE"))
        );
    }

    #[test]
    fn bad_targets_and_thresholds_name_the_variable_the_entry_and_the_field() {
        let e = Config::from_env(&env(&[
            (
                "CERT_TARGETS",
                r#"[{"name": "a", "acm": "x"}, {"name": "a", "acm": "y"}]"#,
            ),
            ("STATE_TABLE", "t"),
        ]))
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::Invalid {
                name: "CERT_TARGETS",
                reason: "entry #1 (`a`): the name is used by an earlier entry too".into(),
            }
        );
        let e = Config::from_env(&env(&[
            ("CERT_TARGETS", r#"[{"name": "a", "acm": "x"}]"#),
            ("STATE_TABLE", "t"),
            ("THRESHOLD_DAYS", "30,,7"),
        ]))
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::Invalid {
                name: "THRESHOLD_DAYS",
                reason: "`30,,7`: an empty item; expected e.g. \"60,30,14,7,3,1\"".into(),
            }
        );
    }

    #[test]
    fn the_typed_constructor_builds_and_refuses_what_from_env_does() {
        let targets =
            parse_targets(r#"[{"name":"api","tls":"api.messages.suomi.fi:443"}]"#).unwrap();
        let typed = Config {
            alert_topic_arn: Some(" arn:aws:sns:eu-north-1:1:a ".into()),
            thresholds: Thresholds::parse("30,7").unwrap(),
            probe_timeout: Duration::from_secs(5),
            ..Config::defaults(targets.clone(), "t")
        }
        .validated()
        .unwrap();
        let parsed = Config::from_env(&env(&[
            (
                "CERT_TARGETS",
                r#"[{"name":"api","tls":"api.messages.suomi.fi:443"}]"#,
            ),
            ("STATE_TABLE", "t"),
            ("ALERT_TOPIC_ARN", "arn:aws:sns:eu-north-1:1:a"),
            ("THRESHOLD_DAYS", "7,30"),
            ("PROBE_TIMEOUT_SECONDS", "5"),
        ]))
        .unwrap();
        assert_eq!(typed, parsed);
        let name_of = |c: Config| match c.validated().unwrap_err() {
            ConfigError::Invalid { name, .. } | ConfigError::Missing(name) => name,
        };
        let base = || Config::defaults(targets.clone(), "t");
        assert_eq!(name_of(Config::defaults(Vec::new(), "t")), "CERT_TARGETS");
        assert_eq!(
            name_of(Config::defaults(targets.clone(), " ")),
            "STATE_TABLE"
        );
        for (settings, name) in [
            (
                Config {
                    reminder: time::Duration::ZERO,
                    ..base()
                },
                "REMINDER_HOURS",
            ),
            (
                Config {
                    reminder: time::Duration::minutes(90),
                    ..base()
                },
                "REMINDER_HOURS",
            ),
            (
                Config {
                    probe_timeout: Duration::from_secs(301),
                    ..base()
                },
                "PROBE_TIMEOUT_SECONDS",
            ),
            (
                Config {
                    concurrency: 257,
                    ..base()
                },
                "PROBE_CONCURRENCY",
            ),
        ] {
            assert_eq!(name_of(settings), name);
        }
        for (var, value) in [
            ("REMINDER_HOURS", "0"),
            ("REMINDER_HOURS", "18446744073709551615"),
            ("PROBE_TIMEOUT_SECONDS", "soon"),
            ("PROBE_CONCURRENCY", "257"),
        ] {
            let err = Config::from_env(&env(&[
                ("CERT_TARGETS", r#"[{"name": "a", "acm": "x"}]"#),
                ("STATE_TABLE", "t"),
                (var, value),
            ]))
            .unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name, reason } if *name == var && reason.contains("expected a whole number")),
                "{var}={value}: {err:?}"
            );
        }
    }
}
