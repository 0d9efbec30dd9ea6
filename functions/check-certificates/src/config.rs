//! The function's configuration: read once at start from the shared [`Env`] reader, typed, and
//! refused at start (`CheckCertificates.Config`) when unusable. The grammar of `CERT_TARGETS` is
//! [`crate::targets`], that of `THRESHOLD_DAYS` [`Thresholds::parse`]; their typed errors become
//! the one [`ConfigError`] here, naming the variable, with their text as the reason.

use crate::evaluate::Thresholds;
use crate::targets::{Target, parse_targets};
use std::time::Duration;
use suomifi_shared::config::{ConfigError, Env, required};

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

fn number(
    env: &Env,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match env.get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!("`{raw}`: expected a whole number from {min} to {max}"),
            }),
        },
    }
}

impl Config {
    /// From the environment (see `main.rs` for every variable). A malformed `CERT_TARGETS` or
    /// `THRESHOLD_DAYS` is [`ConfigError::Invalid`] naming the variable, with the entry and
    /// field at fault in the reason.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let targets =
            parse_targets(required(env, "CERT_TARGETS")?).map_err(|e| ConfigError::Invalid {
                name: "CERT_TARGETS",
                reason: e.to_string(),
            })?;
        let state_table = required(env, "STATE_TABLE")?.trim().to_owned();
        let alert_topic_arn = env.get("ALERT_TOPIC_ARN").map(|v| v.trim().to_owned());
        let thresholds = match env.get("THRESHOLD_DAYS") {
            Some(raw) => Thresholds::parse(raw).map_err(|e| ConfigError::Invalid {
                name: "THRESHOLD_DAYS",
                reason: e.to_string(),
            })?,
            None => Thresholds::default(),
        };
        let reminder_hours = number(
            env,
            "REMINDER_HOURS",
            DEFAULT_REMINDER_HOURS.into(),
            1,
            24 * 30,
        )?;
        let timeout = number(
            env,
            "PROBE_TIMEOUT_SECONDS",
            DEFAULT_PROBE_TIMEOUT_SECONDS,
            1,
            300,
        )?;
        let concurrency = number(
            env,
            "PROBE_CONCURRENCY",
            DEFAULT_PROBE_CONCURRENCY as u64,
            1,
            256,
        )?;
        Ok(Self {
            targets,
            state_table,
            alert_topic_arn,
            thresholds,
            reminder: time::Duration::hours(reminder_hours as i64),
            probe_timeout: Duration::from_secs(timeout),
            concurrency: concurrency as usize,
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
}
