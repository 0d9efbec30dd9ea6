//! Configuration, read once at start-up from the environment into typed values.
//!
//! Parsing works on a snapshot of the environment ([`Env`]), so tests never touch the process
//! environment. An empty variable counts as unset: CloudFormation passes `""` for an optional
//! parameter left blank.

use crate::evaluate::Thresholds;
pub use suomifi_shared::config::{ConfigError, Env};
use suomifi_shared::config::{optional_u64, required};
use time::Duration;

/// Every environment variable this function reads, in the order `main.rs` documents them.
pub const ENV_VARS: [&str; 8] = [
    "SUOMIFI_SECRET_ID",
    "CHECKPOINT_PARAMETER",
    "STATE_TABLE",
    "ALERT_TOPIC_ARN",
    "HEARTBEAT_MAX_AGE_MINUTES",
    "BACKLOG_GRACE_MINUTES",
    "PASSWORD_MAX_AGE_DAYS",
    "REMINDER_HOURS",
];

/// Default of `HEARTBEAT_MAX_AGE_MINUTES`.
pub const DEFAULT_HEARTBEAT_MAX_AGE_MINUTES: i64 = 30;
/// Default of `BACKLOG_GRACE_MINUTES`.
pub const DEFAULT_BACKLOG_GRACE_MINUTES: i64 = 60;
/// Default of `PASSWORD_MAX_AGE_DAYS` (DVV: rotate at least every six months).
pub const DEFAULT_PASSWORD_MAX_AGE_DAYS: i64 = 180;
/// Default of `REMINDER_HOURS`.
pub const DEFAULT_REMINDER_HOURS: i64 = 24;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SUOMIFI_SECRET_ID`: name or ARN of the credentials secret.
    pub secret_id: String,
    /// `CHECKPOINT_PARAMETER`: the retriever's checkpoint; `None` means retrieval is not watched.
    pub checkpoint_parameter: Option<String>,
    /// `STATE_TABLE`: DynamoDB table for alert state and this checker's own cursor.
    pub state_table: String,
    /// `ALERT_TOPIC_ARN`: SNS topic; `None` logs alerts without publishing them.
    pub alert_topic_arn: Option<String>,
    /// The alert thresholds.
    pub thresholds: Thresholds,
    /// `REMINDER_HOURS`: how often an open alert is repeated.
    pub reminder: Duration,
}

impl Config {
    /// Reads the variables from `env` (the process environment in production, pairs in tests).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let bounded = |name: &'static str, default: i64, max: i64, unit: &str| {
            let n = optional_u64(env, name, default as u64)?;
            match i64::try_from(n) {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("`{n}` is outside 1..={max} {unit}"),
                }),
            }
        };
        let heartbeat = bounded(
            "HEARTBEAT_MAX_AGE_MINUTES",
            DEFAULT_HEARTBEAT_MAX_AGE_MINUTES,
            7 * 24 * 60,
            "minutes",
        )?;
        let grace = bounded(
            "BACKLOG_GRACE_MINUTES",
            DEFAULT_BACKLOG_GRACE_MINUTES,
            7 * 24 * 60,
            "minutes",
        )?;
        // Above 365 the warning would come after the critical limit (DVV: at least once a year).
        let password = bounded(
            "PASSWORD_MAX_AGE_DAYS",
            DEFAULT_PASSWORD_MAX_AGE_DAYS,
            365,
            "days",
        )?;
        let reminder = bounded("REMINDER_HOURS", DEFAULT_REMINDER_HOURS, 30 * 24, "hours")?;
        let text = |name: &str| env.get(name).map(|v| v.trim().to_owned());
        let alert_topic_arn = text("ALERT_TOPIC_ARN");
        if let Some(arn) = &alert_topic_arn
            && !arn.starts_with("arn:")
        {
            return Err(ConfigError::Invalid {
                name: "ALERT_TOPIC_ARN",
                reason: format!("`{arn}` is not an SNS topic ARN (arn:aws:sns:...)"),
            });
        }
        Ok(Self {
            secret_id: required(env, "SUOMIFI_SECRET_ID")?.trim().to_owned(),
            checkpoint_parameter: text("CHECKPOINT_PARAMETER"),
            state_table: required(env, "STATE_TABLE")?.trim().to_owned(),
            alert_topic_arn,
            thresholds: Thresholds {
                heartbeat_max_age: Duration::minutes(heartbeat),
                backlog_grace: Duration::minutes(grace),
                password_max_age: Duration::days(password),
            },
            reminder: Duration::hours(reminder),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    const MINIMAL: &[(&str, &str)] = &[("SUOMIFI_SECRET_ID", "suomifi/api"), ("STATE_TABLE", "t")];

    #[test]
    fn defaults_apply_when_only_the_required_variables_are_set() {
        let c = Config::from_env(&env(MINIMAL)).unwrap();
        assert_eq!(c.secret_id, "suomifi/api");
        assert_eq!(c.checkpoint_parameter, None);
        assert_eq!(c.alert_topic_arn, None);
        assert_eq!(c.thresholds, Thresholds::default());
        assert_eq!(c.thresholds.heartbeat_max_age, Duration::minutes(30));
        assert_eq!(c.thresholds.backlog_grace, Duration::minutes(60));
        assert_eq!(c.thresholds.password_max_age, Duration::days(180));
        assert_eq!(c.reminder, Duration::hours(24));
    }

    #[test]
    fn every_variable_is_read() {
        let c = Config::from_env(&env(&[
            ("SUOMIFI_SECRET_ID", "s"),
            ("STATE_TABLE", "t"),
            ("CHECKPOINT_PARAMETER", "/suomifi/checkpoint"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:eu-north-1:123456789012:alerts",
            ),
            ("HEARTBEAT_MAX_AGE_MINUTES", "45"),
            ("BACKLOG_GRACE_MINUTES", " 90 "),
            ("PASSWORD_MAX_AGE_DAYS", "90"),
            ("REMINDER_HOURS", "6"),
        ]))
        .unwrap();
        assert_eq!(
            c.checkpoint_parameter.as_deref(),
            Some("/suomifi/checkpoint")
        );
        assert!(c.alert_topic_arn.is_some());
        assert_eq!(c.thresholds.heartbeat_max_age, Duration::minutes(45));
        assert_eq!(c.thresholds.backlog_grace, Duration::minutes(90));
        assert_eq!(c.thresholds.password_max_age, Duration::days(90));
        assert_eq!(c.reminder, Duration::hours(6));
    }

    #[test]
    fn empty_optional_variables_count_as_unset() {
        let mut pairs = MINIMAL.to_vec();
        pairs.extend([
            ("CHECKPOINT_PARAMETER", ""),
            ("ALERT_TOPIC_ARN", "  "),
            ("REMINDER_HOURS", ""),
        ]);
        let c = Config::from_env(&env(&pairs)).unwrap();
        assert_eq!(c.checkpoint_parameter, None);
        assert_eq!(c.alert_topic_arn, None);
        assert_eq!(c.reminder, Duration::hours(24));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            Config::from_env(&env(&[("STATE_TABLE", "t")])).unwrap_err(),
            ConfigError::Missing("SUOMIFI_SECRET_ID")
        );
        assert_eq!(
            Config::from_env(&env(&[("SUOMIFI_SECRET_ID", "s")])).unwrap_err(),
            ConfigError::Missing("STATE_TABLE")
        );
        for (var, value) in [
            ("HEARTBEAT_MAX_AGE_MINUTES", "soon"),
            ("HEARTBEAT_MAX_AGE_MINUTES", "0"),
            ("BACKLOG_GRACE_MINUTES", "-5"),
            ("PASSWORD_MAX_AGE_DAYS", "400"),
            ("PASSWORD_MAX_AGE_DAYS", "1.5"),
            ("REMINDER_HOURS", "0"),
            ("ALERT_TOPIC_ARN", "alerts"),
        ] {
            let mut pairs = MINIMAL.to_vec();
            pairs.push((var, value));
            let err = Config::from_env(&env(&pairs)).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name, .. } if *name == var),
                "{var}={value}: {err:?}"
            );
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn main_rs_documents_exactly_the_variables_read() {
        let main = include_str!("main.rs");
        let documented: Vec<&str> = main
            .lines()
            .filter_map(|l| l.strip_prefix("//! - `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(documented, ENV_VARS.to_vec());
        for line in main.lines().filter(|l| l.starts_with("//! - `")) {
            assert!(
                line.contains(" — ") && line.trim_end().ends_with(')'),
                "{line}"
            );
        }
    }
}
