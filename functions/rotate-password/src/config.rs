//! The function's configuration: read once at start from the shared [`Env`] reader, typed, and
//! refused at start (`RotatePassword.Config`) when unusable.
//!
//! Environment (the infrastructure template sets these; `main.rs` wires them):
//! - `STACK_NAME` — optional, the CloudFormation stack: every metric carries it as the `Stack`
//!   dimension, so stacks side by side never share a series (unset: no `Stack` dimension). Read
//!   by `main.rs` for the telemetry, before this configuration.
//! - `ALERT_TOPIC_ARN` — optional SNS topic for failures that need a person (drift, refusal, a
//!   malformed secret, a failed test after the change).
//! - `STATE_TABLE` — optional DynamoDB table (partition key `pk`) of the shared alert lifecycle:
//!   with it a failing rotation notifies once (reminding every `REMINDER_HOURS`) however often
//!   Secrets Manager retries, and a finished rotation resolves the alert; without it every failed
//!   step that needs a person notifies.
//! - `REMINDER_HOURS` — optional, repeat an open rotation alert this often (default 24; taken
//!   within 1–720, a month).
//! - `NOTIFY_ON_SUCCESS` — optional, `true` to also notify each successful rotation (default `false`).
//! - `SUOMIFI_TIMEOUT_SECONDS` — optional, timeout of one Suomi.fi request (default 10, 1–30: with
//!   the client's retries one attempt must fit well inside the function's 120 s timeout, or no
//!   attempt would ever start).
//!
//! AWS endpoints, region and credentials come from the standard SDK configuration.

use crate::rotation::RotationSettings;
use std::time::Duration;
use suomifi_shared::config::{ConfigError, Env, optional_bool, optional_u64};
use suomifi_shared::suomifi::ClientConfig;

/// Hours between reminders of an open rotation alert, by default.
pub const DEFAULT_REMINDER_HOURS: u64 = 24;
/// Seconds one Suomi.fi request may take, by default.
pub const DEFAULT_SUOMIFI_TIMEOUT_SECONDS: u64 = 10;
/// Most seconds `SUOMIFI_TIMEOUT_SECONDS` allows: (30 s + 2 s retry delay) × 3 attempts is 96 s,
/// inside the function's 120 s timeout; a longer timeout would leave no time for any attempt.
pub const MAX_SUOMIFI_TIMEOUT_SECONDS: u64 = 30;

/// Everything the function needs besides its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// SNS topic (`ALERT_TOPIC_ARN`); `None`: notifications are only logged.
    pub alert_topic_arn: Option<String>,
    /// The alert lifecycle's table (`STATE_TABLE`); `None`: every failure that needs a person
    /// notifies (untracked).
    pub state_table: Option<String>,
    /// How often an open rotation alert is repeated (`REMINDER_HOURS`, within 1–720 hours).
    pub reminder: time::Duration,
    /// Notify each successful rotation too (`NOTIFY_ON_SUCCESS`).
    pub notify_on_success: bool,
    /// Timeout of one Suomi.fi request (`SUOMIFI_TIMEOUT_SECONDS`).
    pub suomifi_timeout: Duration,
}

impl Config {
    /// From the environment (see the module documentation for every variable).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let timeout_seconds = optional_u64(
            env,
            "SUOMIFI_TIMEOUT_SECONDS",
            DEFAULT_SUOMIFI_TIMEOUT_SECONDS,
        )?;
        if !(1..=MAX_SUOMIFI_TIMEOUT_SECONDS).contains(&timeout_seconds) {
            return Err(ConfigError::Invalid {
                name: "SUOMIFI_TIMEOUT_SECONDS",
                reason: format!(
                    "`{timeout_seconds}`: expected a whole number from 1 to \
                     {MAX_SUOMIFI_TIMEOUT_SECONDS}"
                ),
            });
        }
        let suomifi_timeout = Duration::from_secs(timeout_seconds);
        let notify_on_success = optional_bool(env, "NOTIFY_ON_SUCCESS", false)?;
        let reminder_hours = optional_u64(env, "REMINDER_HOURS", DEFAULT_REMINDER_HOURS)?;
        Ok(Self {
            alert_topic_arn: env.get("ALERT_TOPIC_ARN").map(str::to_owned),
            state_table: env.get("STATE_TABLE").map(str::to_owned),
            reminder: time::Duration::hours(
                i64::try_from(reminder_hours.clamp(1, 24 * 30)).unwrap_or(24),
            ),
            notify_on_success,
            suomifi_timeout,
        })
    }

    /// The Suomi.fi client's configuration (the shared client's defaults, with the timeout).
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            timeout: self.suomifi_timeout,
            ..ClientConfig::default()
        }
    }

    /// The rotation's settings and the Suomi.fi client configuration they are derived from (the
    /// attempt budget is [`attempt_budget`] of that client).
    pub fn rotation(&self) -> (RotationSettings, ClientConfig) {
        let client = self.client_config();
        let settings = RotationSettings {
            notify_on_success: self.notify_on_success,
            attempt_budget: attempt_budget(&client),
            ..RotationSettings::default()
        };
        (settings, client)
    }
}

/// The longest one login or events call can take with `client`: its timeout plus the longest
/// retry delay, for each of its attempts.
pub fn attempt_budget(client: &ClientConfig) -> Duration {
    // One login or events call, with the client's own retries and their delays.
    (client.timeout + client.retry.max_delay) * client.retry.max_attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_any_variable() {
        let c = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(c.alert_topic_arn, None);
        assert_eq!(c.state_table, None);
        assert_eq!(c.reminder, time::Duration::hours(24));
        assert!(!c.notify_on_success);
        assert_eq!(c.suomifi_timeout, Duration::from_secs(10));
        let (settings, client) = c.rotation();
        assert_eq!(client.timeout, Duration::from_secs(10));
        assert!(!settings.notify_on_success);
        // (10 s timeout + 2 s longest retry delay) × 3 attempts.
        assert_eq!(settings.attempt_budget, Duration::from_secs(36));
        let default = RotationSettings::default();
        assert_eq!(settings.test_attempts, default.test_attempts);
        assert_eq!(settings.test_backoff, default.test_backoff);
    }

    #[test]
    fn values_are_typed_and_the_reminder_is_clamped() {
        let c = Config::from_env(&Env::from_pairs([
            ("ALERT_TOPIC_ARN", "arn:aws:sns:eu-north-1:1:t"),
            ("STATE_TABLE", "state"),
            ("REMINDER_HOURS", "0"),
            ("NOTIFY_ON_SUCCESS", "true"),
            ("SUOMIFI_TIMEOUT_SECONDS", "5"),
        ]))
        .unwrap();
        assert_eq!(
            c.alert_topic_arn.as_deref(),
            Some("arn:aws:sns:eu-north-1:1:t")
        );
        assert_eq!(c.state_table.as_deref(), Some("state"));
        assert_eq!(c.reminder, time::Duration::hours(1));
        let (settings, client) = c.rotation();
        assert!(settings.notify_on_success);
        assert_eq!(client.timeout, Duration::from_secs(5));
        assert_eq!(settings.attempt_budget, Duration::from_secs((5 + 2) * 3));
        let c = Config::from_env(&Env::from_pairs([("REMINDER_HOURS", "100000")])).unwrap();
        assert_eq!(c.reminder, time::Duration::hours(24 * 30));
    }

    #[test]
    fn the_attempt_budget_covers_every_attempt_and_its_delay() {
        let mut client = ClientConfig {
            timeout: Duration::from_secs(4),
            ..ClientConfig::default()
        };
        client.retry.max_attempts = 1;
        client.retry.max_delay = Duration::from_millis(500);
        assert_eq!(attempt_budget(&client), Duration::from_millis(4500));
        client.retry.max_attempts = 4;
        assert_eq!(attempt_budget(&client), Duration::from_secs(18));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("SUOMIFI_TIMEOUT_SECONDS", "ten"),
            ("SUOMIFI_TIMEOUT_SECONDS", "-1"),
            // 0 fails every request; 31 leaves no time inside the 120 s function for an attempt.
            ("SUOMIFI_TIMEOUT_SECONDS", "0"),
            ("SUOMIFI_TIMEOUT_SECONDS", "31"),
            ("NOTIFY_ON_SUCCESS", "maybe"),
            ("REMINDER_HOURS", "1.5"),
        ] {
            let err = Config::from_env(&Env::from_pairs([(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }
}
