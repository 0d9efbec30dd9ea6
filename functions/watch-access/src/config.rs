//! The function's configuration: read once at start from the shared [`Env`] reader, typed, and
//! refused at start (`WatchAccess.Config`) when unusable.

use suomifi_shared::config::{ConfigError, Env, optional_u64, required};

/// Minutes between a person's first read and the rotation, by default.
pub const DEFAULT_ROTATE_AFTER_MINUTES: u64 = 60;
/// Days a read stays recorded, by default: a year and a month, so a yearly access review (and
/// DVV's "at least once a year" rotation) can still see who read the password before it.
pub const DEFAULT_RETENTION_DAYS: u64 = 400;

/// Everything the function needs besides its ports.
#[derive(Debug, Clone)]
pub struct Config {
    /// The credentials secrets (full ARNs).
    pub watched: Vec<String>,
    /// The stack's function roles.
    pub workload_roles: Vec<String>,
    /// Other principals that may read (`TRUSTED_READER_ARNS`).
    pub trusted_readers: Vec<String>,
    /// The break-glass role (may read; counted as a person when it does).
    pub break_glass_role: Option<String>,
    /// Delay of an exposure rotation (0: at once).
    pub rotate_after: time::Duration,
    /// How long the ledger keeps a read.
    pub retention: time::Duration,
    /// State table.
    pub state_table: String,
    /// SNS topic; `None`: notifications are only logged.
    pub alert_topic_arn: Option<String>,
    /// The role EventBridge Scheduler assumes to invoke this function (delayed rotations).
    pub scheduler_role_arn: Option<String>,
    /// The schedule group of the one-time schedules.
    pub schedule_group: Option<String>,
    /// Where Scheduler puts a rotation schedule's event it could not deliver after its retries.
    pub schedule_dead_letter_arn: Option<String>,
}

fn list(env: &Env, name: &str) -> Vec<String> {
    env.get(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    /// From the environment (see `main.rs` for every variable).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let watched = list(env, "WATCHED_SECRET_ARNS");
        if watched.is_empty() {
            return Err(ConfigError::Missing("WATCHED_SECRET_ARNS"));
        }
        if let Some(bad) = watched
            .iter()
            .find(|a| !(a.starts_with("arn:") && a.contains(":secret:")))
        {
            return Err(ConfigError::Invalid {
                name: "WATCHED_SECRET_ARNS",
                reason: format!("`{bad}` is not a secret ARN"),
            });
        }
        let workload_roles = list(env, "WORKLOAD_ROLE_ARNS");
        if workload_roles.is_empty() {
            return Err(ConfigError::Missing("WORKLOAD_ROLE_ARNS"));
        }
        let minutes = optional_u64(
            env,
            "EXPOSURE_ROTATE_AFTER_MINUTES",
            DEFAULT_ROTATE_AFTER_MINUTES,
        )?;
        if minutes > 10_080 {
            return Err(ConfigError::Invalid {
                name: "EXPOSURE_ROTATE_AFTER_MINUTES",
                reason: format!("{minutes} is outside 0-10080 (a week)"),
            });
        }
        let days = optional_u64(env, "READER_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)?;
        if !(1..=3650).contains(&days) {
            return Err(ConfigError::Invalid {
                name: "READER_RETENTION_DAYS",
                reason: format!("{days} is outside 1-3650"),
            });
        }
        let scheduler_role_arn = env.get("SCHEDULER_ROLE_ARN").map(str::to_owned);
        let schedule_group = env.get("SCHEDULE_GROUP").map(str::to_owned);
        if minutes > 0 {
            if scheduler_role_arn.is_none() {
                return Err(ConfigError::Missing("SCHEDULER_ROLE_ARN"));
            }
            if schedule_group.is_none() {
                return Err(ConfigError::Missing("SCHEDULE_GROUP"));
            }
        }
        Ok(Self {
            watched,
            workload_roles,
            trusted_readers: list(env, "TRUSTED_READER_ARNS"),
            break_glass_role: env.get("BREAK_GLASS_ROLE_ARN").map(str::to_owned),
            rotate_after: time::Duration::minutes(minutes as i64),
            retention: time::Duration::days(days as i64),
            state_table: required(env, "STATE_TABLE")?.to_owned(),
            alert_topic_arn: env.get("ALERT_TOPIC_ARN").map(str::to_owned),
            scheduler_role_arn,
            schedule_group,
            schedule_dead_letter_arn: env.get("SCHEDULE_DEAD_LETTER_ARN").map(str::to_owned),
        })
    }

    /// Every principal the resource policy lets read.
    pub fn allowed_readers(&self) -> Vec<String> {
        self.workload_roles
            .iter()
            .chain(&self.trusted_readers)
            .chain(&self.break_glass_role)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "arn:aws:secretsmanager:eu-north-1:1:secret:s-AbCdEf";

    fn env(extra: &[(&str, &str)]) -> Env {
        let mut p = vec![
            ("STATE_TABLE", "t"),
            ("WATCHED_SECRET_ARNS", SECRET),
            (
                "WORKLOAD_ROLE_ARNS",
                "arn:aws:iam::1:role/a, arn:aws:iam::1:role/b",
            ),
            ("SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/sched"),
            ("SCHEDULE_GROUP", "g"),
        ];
        p.extend_from_slice(extra);
        Env::from_pairs(p)
    }

    #[test]
    fn defaults_are_an_hour_and_400_days() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.rotate_after, time::Duration::minutes(60));
        assert_eq!(c.retention, time::Duration::days(400));
        assert_eq!(c.workload_roles.len(), 2);
        assert!(c.trusted_readers.is_empty());
        assert_eq!(c.allowed_readers().len(), 2);
    }

    #[test]
    fn a_delayed_rotation_needs_the_scheduler_and_zero_does_not() {
        let e = Env::from_pairs([
            ("STATE_TABLE", "t"),
            ("WATCHED_SECRET_ARNS", SECRET),
            ("WORKLOAD_ROLE_ARNS", "arn:aws:iam::1:role/a"),
        ]);
        assert_eq!(
            Config::from_env(&e).unwrap_err(),
            ConfigError::Missing("SCHEDULER_ROLE_ARN")
        );
        let e = Env::from_pairs([
            ("STATE_TABLE", "t"),
            ("WATCHED_SECRET_ARNS", SECRET),
            ("WORKLOAD_ROLE_ARNS", "arn:aws:iam::1:role/a"),
            ("EXPOSURE_ROTATE_AFTER_MINUTES", "0"),
        ]);
        assert!(Config::from_env(&e).unwrap().rotate_after.is_zero());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("WATCHED_SECRET_ARNS", "not-an-arn"),
            ("EXPOSURE_ROTATE_AFTER_MINUTES", "x"),
            ("EXPOSURE_ROTATE_AFTER_MINUTES", "20000"),
            ("READER_RETENTION_DAYS", "0"),
        ] {
            let err = Config::from_env(&env(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let no_workload = Env::from_pairs([("STATE_TABLE", "t"), ("WATCHED_SECRET_ARNS", SECRET)]);
        assert_eq!(
            Config::from_env(&no_workload).unwrap_err(),
            ConfigError::Missing("WORKLOAD_ROLE_ARNS")
        );
    }
}
