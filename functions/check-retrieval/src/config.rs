//! Configuration, read once at start-up from the environment into typed values.
//!
//! Parsing works on a snapshot of the environment ([`Env`]), so tests never touch the process
//! environment. An empty variable counts as unset: CloudFormation passes `""` for an optional
//! parameter left blank.

use crate::evaluate::Thresholds;
use serde_json::{Map, Value};
use std::collections::HashSet;
pub use suomifi_shared::config::{ConfigError, Env};
use suomifi_shared::config::{is_valid_name, optional_u64, saturating_units};
use time::Duration;

/// Every environment variable this function reads, in the order `main.rs` documents them.
pub const ENV_VARS: [&str; 10] = [
    "STACK_NAME",
    "SYSTEMS",
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

/// Most systems one `SYSTEMS` list may hold (each costs a login and a scan per run).
pub const MAX_SYSTEMS: usize = 200;

/// One Suomi.fi system (one API user) to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    /// Operator-chosen name: report entry, metric dimension `System`, alert label.
    pub name: String,
    /// Name or ARN of the credentials secret.
    pub secret_id: String,
    /// The retriever's checkpoint; `None` means retrieval is not watched.
    pub checkpoint_parameter: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SYSTEMS` (or `SUOMIFI_SECRET_ID` + `CHECKPOINT_PARAMETER` as a one-element list): every
    /// system checked in one run, never empty, names, secrets and checkpoints each unique.
    pub systems: Vec<System>,
    /// `STATE_TABLE`: DynamoDB table for alert state and this checker's own cursor.
    pub state_table: String,
    /// `ALERT_TOPIC_ARN`: SNS topic; `None` logs alerts without publishing them.
    pub alert_topic_arn: Option<String>,
    /// The alert thresholds.
    pub thresholds: Thresholds,
    /// `REMINDER_HOURS`: how often an open alert is repeated.
    pub reminder: Duration,
}

/// Every setting of the check as a typed value, before the checks across settings: what
/// [`Config::new`] validates and turns into a [`Config`]. [`Config::from_env`] parses each
/// variable into this; the CLI builds it from its options. `Default` is every optional setting
/// at its default, no system and no table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SYSTEMS`, parsed ([`parse_systems`]). Exclusive with `secret_id`.
    pub systems: Option<Vec<System>>,
    /// `SUOMIFI_SECRET_ID`: the one system's secret, instead of `systems`.
    pub secret_id: Option<String>,
    /// `CHECKPOINT_PARAMETER`: the one system's checkpoint (only with `secret_id`).
    pub checkpoint_parameter: Option<String>,
    /// `STATE_TABLE` (required: empty is missing).
    pub state_table: String,
    /// `ALERT_TOPIC_ARN` (an SNS topic ARN, `arn:...`; empty counts as unset).
    pub alert_topic_arn: Option<String>,
    /// `HEARTBEAT_MAX_AGE_MINUTES`, 1 minute to 7 days.
    pub heartbeat_max_age: Duration,
    /// `BACKLOG_GRACE_MINUTES`, 1 minute to 7 days.
    pub backlog_grace: Duration,
    /// `PASSWORD_MAX_AGE_DAYS`, 1 to 365 days.
    pub password_max_age: Duration,
    /// `REMINDER_HOURS`, 1 hour to 30 days.
    pub reminder: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        let th = Thresholds::default();
        Self {
            systems: None,
            secret_id: None,
            checkpoint_parameter: None,
            state_table: String::new(),
            alert_topic_arn: None,
            heartbeat_max_age: th.heartbeat_max_age,
            backlog_grace: th.backlog_grace,
            password_max_age: th.password_max_age,
            reminder: Duration::hours(DEFAULT_REMINDER_HOURS),
        }
    }
}

/// Most minutes `HEARTBEAT_MAX_AGE_MINUTES` and `BACKLOG_GRACE_MINUTES` allow (a week).
pub const MAX_MINUTES: u64 = 7 * 24 * 60;
/// Most days `PASSWORD_MAX_AGE_DAYS` allows: above 365 the warning would come after the
/// critical limit (DVV: at least once a year).
pub const MAX_PASSWORD_DAYS: u64 = 365;
/// Most hours `REMINDER_HOURS` allows (30 days).
pub const MAX_REMINDER_HOURS: u64 = 30 * 24;

/// Refuses a duration outside `1..=max` whole `unit`s, naming the setting.
fn within(
    name: &'static str,
    d: Duration,
    unit: Duration,
    max: u64,
    label: &str,
) -> Result<(), ConfigError> {
    let n = d.whole_seconds() / unit.whole_seconds();
    let whole = d.whole_seconds() % unit.whole_seconds() == 0 && d.subsec_nanoseconds() == 0;
    if whole && n >= 1 && n as u64 <= max {
        return Ok(());
    }
    let shown = if d == Duration::MAX {
        "too large".to_owned()
    } else if whole {
        n.to_string()
    } else {
        format!("{d}")
    };
    Err(ConfigError::Invalid {
        name,
        reason: format!("`{shown}` is outside 1..={max} {label}"),
    })
}

impl Config {
    /// The validated configuration from typed settings: every check across settings and every
    /// range is here, so the Lambda (through [`Config::from_env`]) and the CLI refuse the same
    /// values. An error names the setting by its variable (the CLI names its option instead).
    pub fn new(settings: Settings) -> Result<Self, ConfigError> {
        let Settings {
            systems,
            secret_id,
            checkpoint_parameter,
            state_table,
            alert_topic_arn,
            heartbeat_max_age,
            backlog_grace,
            password_max_age,
            reminder,
        } = settings;
        let (minute, hour, day) = (Duration::MINUTE, Duration::HOUR, Duration::DAY);
        within(
            "HEARTBEAT_MAX_AGE_MINUTES",
            heartbeat_max_age,
            minute,
            MAX_MINUTES,
            "minutes",
        )?;
        within(
            "BACKLOG_GRACE_MINUTES",
            backlog_grace,
            minute,
            MAX_MINUTES,
            "minutes",
        )?;
        within(
            "PASSWORD_MAX_AGE_DAYS",
            password_max_age,
            day,
            MAX_PASSWORD_DAYS,
            "days",
        )?;
        within(
            "REMINDER_HOURS",
            reminder,
            hour,
            MAX_REMINDER_HOURS,
            "hours",
        )?;
        let blank_is_none =
            |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let alert_topic_arn = blank_is_none(alert_topic_arn);
        if let Some(arn) = &alert_topic_arn
            && !arn.starts_with("arn:")
        {
            return Err(ConfigError::Invalid {
                name: "ALERT_TOPIC_ARN",
                reason: format!("`{arn}` is not an SNS topic ARN (arn:aws:sns:...)"),
            });
        }
        let checkpoint_parameter = blank_is_none(checkpoint_parameter);
        let systems = match (systems, blank_is_none(secret_id)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "SYSTEMS",
                    reason: "set SYSTEMS or SUOMIFI_SECRET_ID (with CHECKPOINT_PARAMETER), not \
                             both"
                        .to_owned(),
                });
            }
            (Some(systems), None) => {
                if checkpoint_parameter.is_some() {
                    return Err(ConfigError::Invalid {
                        name: "CHECKPOINT_PARAMETER",
                        reason: "with SYSTEMS, each entry names its own `checkpoint`".to_owned(),
                    });
                }
                validate_systems(systems)?
            }
            (None, Some(secret_id)) => vec![System {
                name: legacy_name(&secret_id),
                secret_id,
                checkpoint_parameter,
            }],
            (None, None) => return Err(ConfigError::Missing("SYSTEMS")),
        };
        let state_table = state_table.trim().to_owned();
        if state_table.is_empty() {
            return Err(ConfigError::Missing("STATE_TABLE"));
        }
        Ok(Self {
            systems,
            state_table,
            alert_topic_arn,
            thresholds: Thresholds {
                heartbeat_max_age,
                backlog_grace,
                password_max_age,
            },
            reminder,
        })
    }

    /// Reads the variables from `env` (the process environment in production, pairs in tests):
    /// each into its typed value (a malformed one is refused here, naming it), then
    /// [`Config::new`].
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Settings::default();
        let number = |name: &'static str, default: Duration, unit: Duration| {
            Ok::<_, ConfigError>(match env.get(name) {
                None => default,
                Some(_) => saturating_units(optional_u64(env, name, 0)?, unit),
            })
        };
        let heartbeat_max_age = number(
            "HEARTBEAT_MAX_AGE_MINUTES",
            d.heartbeat_max_age,
            Duration::MINUTE,
        )?;
        let backlog_grace = number("BACKLOG_GRACE_MINUTES", d.backlog_grace, Duration::MINUTE)?;
        let password_max_age = number("PASSWORD_MAX_AGE_DAYS", d.password_max_age, Duration::DAY)?;
        let reminder = number("REMINDER_HOURS", d.reminder, Duration::HOUR)?;
        let text = |name: &str| env.get(name).map(|v| v.trim().to_owned());
        let secret_id = text("SUOMIFI_SECRET_ID");
        // Only parsed alone: with SUOMIFI_SECRET_ID too, `new` refuses the pair, whatever the list.
        let systems = match (env.get("SYSTEMS"), &secret_id) {
            (Some(raw), None) => Some(parse_systems(raw)?),
            (Some(_), Some(_)) => Some(Vec::new()),
            (None, _) => None,
        };
        Self::new(Settings {
            systems,
            secret_id,
            checkpoint_parameter: text("CHECKPOINT_PARAMETER"),
            state_table: env.get("STATE_TABLE").unwrap_or_default().to_owned(),
            alert_topic_arn: text("ALERT_TOPIC_ARN"),
            heartbeat_max_age,
            backlog_grace,
            password_max_age,
            reminder,
        })
    }
}

/// The name of the one system of `SUOMIFI_SECRET_ID`: the secret's name with every character
/// a system name cannot hold as `-`, at most 64 characters.
fn legacy_name(secret_id: &str) -> String {
    let label = crate::render::secret_label(secret_id);
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "default".to_owned()
    } else {
        name
    }
}

/// The columns form of `SYSTEMS`, `{"secrets": [...], "names": [...], "checkpoints": [...]}`, as
/// entries. The stack writes this form: CloudFormation can join its comma-separated parameters
/// into lists but cannot zip them into objects. `names` and `checkpoints` list one value per
/// secret, in the same order (`""`: derive the name from the secret / not watched), or are left
/// out or `[""]` for none at all.
fn from_columns(columns: &Map<String, Value>) -> Result<Vec<Value>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "SYSTEMS",
        reason,
    };
    if let Some(key) = columns
        .keys()
        .find(|k| !matches!(k.as_str(), "secrets" | "names" | "checkpoints"))
    {
        return Err(invalid(format!(
            "unknown key `{key}`; known keys of the columns form: secrets, names, checkpoints"
        )));
    }
    let column = |key: &str| -> Result<Vec<String>, ConfigError> {
        match columns.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.trim().to_owned()),
                    _ => Err(invalid(format!("`{key}` must be a list of strings"))),
                })
                .collect(),
            Some(_) => Err(invalid(format!("`{key}` must be a list of strings"))),
        }
    };
    let secrets = column("secrets")?;
    let aligned = |key: &str| -> Result<Vec<String>, ConfigError> {
        let values = column(key)?;
        if values.is_empty() || values == [""] {
            return Ok(vec![String::new(); secrets.len()]);
        }
        if values.len() != secrets.len() {
            return Err(invalid(format!(
                "`{key}` has {} entries for {} secrets: list one per secret, in the same order \
                 (empty for none)",
                values.len(),
                secrets.len()
            )));
        }
        Ok(values)
    };
    let (names, checkpoints) = (aligned("names")?, aligned("checkpoints")?);
    Ok(secrets
        .iter()
        .zip(names)
        .zip(checkpoints)
        .map(|((secret, name), checkpoint)| {
            let mut entry = Map::new();
            let name = if name.is_empty() {
                legacy_name(secret)
            } else {
                name
            };
            entry.insert("name".into(), Value::String(name));
            entry.insert("secret".into(), Value::String(secret.clone()));
            if !checkpoint.is_empty() {
                entry.insert("checkpoint".into(), Value::String(checkpoint));
            }
            Value::Object(entry)
        })
        .collect())
}

/// Parses `SYSTEMS`: a JSON array of `{"name", "secret", "checkpoint"?}` (or the columns form
/// the stack writes, see [`from_columns`]). An error names the entry (its position from 1, and
/// its name when it has one) and the field.
pub fn parse_systems(raw: &str) -> Result<Vec<System>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "SYSTEMS",
        reason,
    };
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        invalid(format!(
            "not valid JSON ({e}); expected an array like \
             [{{\"name\": \"early-education\", \"secret\": \"suomifi/edu\", \"checkpoint\": \"/suomifi/edu/checkpoint\"}}]"
        ))
    })?;
    let entries = match value {
        Value::Array(entries) => entries,
        Value::Object(columns) if columns.contains_key("secrets") => from_columns(&columns)?,
        _ => {
            return Err(invalid(
                "must be a JSON array of systems ({\"name\", \"secret\", \"checkpoint\"?})"
                    .to_owned(),
            ));
        }
    };
    check_count(entries.len())?;
    let mut systems = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = |name: Option<&str>, problem: &str| entry_error(i, name, problem);
        let Value::Object(map) = entry else {
            return Err(at(None, "is not an object"));
        };
        let name = match map.get("name") {
            None | Some(Value::Null) => return Err(at(None, "has no `name`")),
            Some(Value::String(s)) if is_valid_name(s) => s.clone(),
            Some(_) => return Err(at(None, NAME_RULE)),
        };
        let n = Some(name.as_str());
        if let Some(key) = map
            .keys()
            .find(|k| !matches!(k.as_str(), "name" | "secret" | "checkpoint"))
        {
            return Err(at(
                n,
                &format!("unknown key `{key}`; known keys: name, secret, checkpoint"),
            ));
        }
        let field = |map: &Map<String, Value>, key: &str| match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(at(n, &format!("`{key}` must be a non-empty string"))),
        };
        let secret_id = field(map, "secret")?
            .ok_or_else(|| at(n, "has no `secret` (the credentials secret's name or ARN)"))?;
        let checkpoint_parameter = field(map, "checkpoint")?;
        systems.push(System {
            name,
            secret_id,
            checkpoint_parameter,
        });
    }
    validate_systems(systems)
}

/// What a system's name must be.
const NAME_RULE: &str = "`name` must be 1–64 characters of letters, digits, `-`, `_` or `.`";

/// The error of entry `i` (from 0) of `SYSTEMS`, named when it has a name.
fn entry_error(i: usize, name: Option<&str>, problem: &str) -> ConfigError {
    let label = name.map(|n| format!(" (`{n}`)")).unwrap_or_default();
    ConfigError::Invalid {
        name: "SYSTEMS",
        reason: format!("entry #{}{label}: {problem}", i + 1),
    }
}

/// Refuses an empty list and one longer than [`MAX_SYSTEMS`].
fn check_count(n: usize) -> Result<(), ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "SYSTEMS",
        reason,
    };
    if n == 0 {
        return Err(invalid("is empty: no system to check".to_owned()));
    }
    if n > MAX_SYSTEMS {
        return Err(invalid(format!(
            "has {n} systems; at most {MAX_SYSTEMS} fit one run (split them over two stacks)"
        )));
    }
    Ok(())
}

/// The checks over a whole list of systems, however it was built: not empty, at most
/// [`MAX_SYSTEMS`], every name valid, and names, secrets and checkpoints each unique (a secret
/// by its name, a checkpoint without its leading `/`). [`parse_systems`] ends with it, and
/// [`Config::new`] applies it to a list given as values.
pub fn validate_systems(systems: Vec<System>) -> Result<Vec<System>, ConfigError> {
    check_count(systems.len())?;
    let (mut names, mut secrets, mut checkpoints) =
        (HashSet::new(), HashSet::new(), HashSet::new());
    for (i, system) in systems.iter().enumerate() {
        let n = Some(system.name.as_str());
        if !is_valid_name(&system.name) {
            return Err(entry_error(i, None, NAME_RULE));
        }
        if system.secret_id.trim().is_empty() {
            return Err(entry_error(
                i,
                n,
                "has no `secret` (the credentials secret's name or ARN)",
            ));
        }
        if system
            .checkpoint_parameter
            .as_ref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err(entry_error(i, n, "`checkpoint` must be a non-empty string"));
        }
        if !names.insert(system.name.as_str()) {
            return Err(entry_error(
                i,
                n,
                "the name is used by an earlier entry too",
            ));
        }
        if !secrets.insert(crate::render::secret_label(&system.secret_id)) {
            return Err(entry_error(
                i,
                n,
                "`secret` is used by an earlier entry too",
            ));
        }
        if let Some(cp) = &system.checkpoint_parameter
            && !checkpoints.insert(cp.trim_start_matches('/'))
        {
            return Err(entry_error(
                i,
                n,
                "`checkpoint` is used by an earlier entry too",
            ));
        }
    }
    Ok(systems)
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
        assert_eq!(
            c.systems,
            [System {
                name: "suomifi-api".into(),
                secret_id: "suomifi/api".into(),
                checkpoint_parameter: None
            }]
        );
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
            c.systems[0].checkpoint_parameter.as_deref(),
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
        assert_eq!(c.systems[0].checkpoint_parameter, None);
        assert_eq!(c.alert_topic_arn, None);
        assert_eq!(c.reminder, Duration::hours(24));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            Config::from_env(&env(&[("STATE_TABLE", "t")])).unwrap_err(),
            ConfigError::Missing("SYSTEMS")
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

    #[test]
    fn systems_lists_every_system_with_its_own_secret_and_checkpoint() {
        let c = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            (
                "SYSTEMS",
                r#"[{"name": "early-education", "secret": "suomifi/edu", "checkpoint": "/suomifi/edu/checkpoint"},
                    {"name": "social.services_2", "secret": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/social-AbCdEf"}]"#,
            ),
        ]))
        .unwrap();
        assert_eq!(c.systems.len(), 2);
        assert_eq!(c.systems[0].name, "early-education");
        assert_eq!(c.systems[0].secret_id, "suomifi/edu");
        assert_eq!(
            c.systems[0].checkpoint_parameter.as_deref(),
            Some("/suomifi/edu/checkpoint")
        );
        assert_eq!(c.systems[1].name, "social.services_2");
        assert_eq!(c.systems[1].checkpoint_parameter, None);
    }

    #[test]
    fn the_single_system_variables_are_a_one_element_list_named_after_the_secret() {
        let c = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            (
                "SUOMIFI_SECRET_ID",
                "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/api-AbCdEf",
            ),
            ("CHECKPOINT_PARAMETER", "/suomifi/checkpoint"),
        ]))
        .unwrap();
        assert_eq!(c.systems.len(), 1);
        assert_eq!(c.systems[0].name, "suomifi-api-AbCdEf");
        assert!(is_valid_name(&c.systems[0].name));
        assert_eq!(
            c.systems[0].checkpoint_parameter.as_deref(),
            Some("/suomifi/checkpoint")
        );
    }

    #[test]
    fn a_malformed_systems_list_names_the_entry_and_the_field() {
        let cases: &[(&str, &str)] = &[
            ("not json", "not valid JSON"),
            (r#"{"name": "a"}"#, "must be a JSON array"),
            ("[]", "is empty"),
            (
                r#"[{"name": "a", "secret": "s"}, 7]"#,
                "entry #2: is not an object",
            ),
            (r#"[{"secret": "s"}]"#, "entry #1: has no `name`"),
            (
                r#"[{"name": "a b", "secret": "s"}]"#,
                "entry #1: `name` must be 1–64",
            ),
            (
                r#"[{"name": "", "secret": "s"}]"#,
                "entry #1: `name` must be 1–64",
            ),
            (r#"[{"name": "edu"}]"#, "entry #1 (`edu`): has no `secret`"),
            (
                r#"[{"name": "edu", "secret": 5}]"#,
                "entry #1 (`edu`): `secret` must be a non-empty string",
            ),
            (
                r#"[{"name": "edu", "secret": "s", "checkpoint": ""}]"#,
                "entry #1 (`edu`): `checkpoint` must be",
            ),
            (
                r#"[{"name": "edu", "secret": "s", "checkpiont": "/c"}]"#,
                "entry #1 (`edu`): unknown key `checkpiont`",
            ),
            (
                r#"[{"name": "a", "secret": "s1"}, {"name": "a", "secret": "s2"}]"#,
                "entry #2 (`a`): the name is used",
            ),
            (
                r#"[{"name": "a", "secret": "s"}, {"name": "b", "secret": "s"}]"#,
                "entry #2 (`b`): `secret` is used",
            ),
            (
                r#"[{"name": "a", "secret": "s1", "checkpoint": "/c"}, {"name": "b", "secret": "s2", "checkpoint": "c"}]"#,
                "entry #2 (`b`): `checkpoint` is used",
            ),
        ];
        for (raw, expected) in cases {
            let err =
                Config::from_env(&env(&[("STATE_TABLE", "t"), ("SYSTEMS", raw)])).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("SYSTEMS"), "{raw}: {text}");
            assert!(
                text.contains(expected),
                "{raw}: expected `{expected}` in {text}"
            );
            assert!(!text.contains('\n'), "one line: {text}");
        }
        let too_many = format!(
            "[{}]",
            (0..=MAX_SYSTEMS)
                .map(|i| format!(r#"{{"name": "s{i}", "secret": "s{i}"}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        let err =
            Config::from_env(&env(&[("STATE_TABLE", "t"), ("SYSTEMS", &too_many)])).unwrap_err();
        assert!(err.to_string().contains("at most 200"), "{err}");
    }

    #[test]
    fn systems_and_the_single_system_variables_do_not_mix() {
        let both = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            ("SUOMIFI_SECRET_ID", "s"),
            ("SYSTEMS", r#"[{"name": "a", "secret": "s"}]"#),
        ]))
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        let stray = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            ("CHECKPOINT_PARAMETER", "/c"),
            ("SYSTEMS", r#"[{"name": "a", "secret": "s"}]"#),
        ]))
        .unwrap_err();
        assert!(
            matches!(&stray, ConfigError::Invalid { name, .. } if *name == "CHECKPOINT_PARAMETER"),
            "{stray:?}"
        );
    }

    #[test]
    fn the_columns_form_the_stack_writes_is_the_same_list() {
        let parse = |raw: &str| Config::from_env(&env(&[("STATE_TABLE", "t"), ("SYSTEMS", raw)]));
        let c = parse(
            r#"{"names":["edu","social"],"secrets":["suomifi/edu","suomifi/social"],"checkpoints":["/edu/cp",""]}"#,
        )
        .unwrap();
        assert_eq!(
            c.systems,
            [
                System {
                    name: "edu".into(),
                    secret_id: "suomifi/edu".into(),
                    checkpoint_parameter: Some("/edu/cp".into())
                },
                System {
                    name: "social".into(),
                    secret_id: "suomifi/social".into(),
                    checkpoint_parameter: None
                },
            ]
        );
        // Names and checkpoints left empty, as the stack's defaults give them.
        let c = parse(
            r#"{"names":[""],"secrets":["suomifi/edu","suomifi/social"],"checkpoints":[""]}"#,
        )
        .unwrap();
        assert_eq!(c.systems[0].name, "suomifi-edu");
        assert_eq!(c.systems[1].name, "suomifi-social");
        assert!(c.systems.iter().all(|s| s.checkpoint_parameter.is_none()));
        let err = parse(r#"{"names":["a","b"],"secrets":["s1","s2","s3"]}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("`names` has 2 entries for 3 secrets"),
            "{err}"
        );
        let err = parse(r#"{"secrets":["s1"],"owners":["x"]}"#).unwrap_err();
        assert!(err.to_string().contains("unknown key `owners`"), "{err}");
        let err = parse(r#"{"secrets":[]}"#).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    fn system(name: &str, secret: &str, checkpoint: Option<&str>) -> System {
        System {
            name: name.into(),
            secret_id: secret.into(),
            checkpoint_parameter: checkpoint.map(Into::into),
        }
    }

    #[test]
    fn the_typed_constructor_builds_what_from_env_builds() {
        let systems = vec![system("edu", "suomifi/edu", Some("/edu/cp"))];
        let typed = Config::new(Settings {
            systems: Some(systems.clone()),
            state_table: " t ".into(),
            alert_topic_arn: Some("arn:aws:sns:eu-north-1:123456789012:alerts".into()),
            heartbeat_max_age: Duration::minutes(45),
            reminder: Duration::hours(6),
            ..Settings::default()
        })
        .unwrap();
        let parsed = Config::from_env(&env(&[
            ("STATE_TABLE", "t"),
            (
                "SYSTEMS",
                r#"[{"name": "edu", "secret": "suomifi/edu", "checkpoint": "/edu/cp"}]"#,
            ),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:eu-north-1:123456789012:alerts",
            ),
            ("HEARTBEAT_MAX_AGE_MINUTES", "45"),
            ("REMINDER_HOURS", "6"),
        ]))
        .unwrap();
        assert_eq!(typed, parsed);
        let one = Config::new(Settings {
            secret_id: Some("suomifi/api".into()),
            state_table: "t".into(),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(one, Config::from_env(&env(MINIMAL)).unwrap());
    }

    #[test]
    fn the_typed_constructor_refuses_what_from_env_refuses() {
        let base = || Settings {
            secret_id: Some("s".into()),
            state_table: "t".into(),
            ..Settings::default()
        };
        let name_of = |s: Settings| match Config::new(s).unwrap_err() {
            ConfigError::Invalid { name, .. } | ConfigError::Missing(name) => name,
        };
        assert_eq!(
            name_of(Settings {
                heartbeat_max_age: Duration::ZERO,
                ..base()
            }),
            "HEARTBEAT_MAX_AGE_MINUTES"
        );
        assert_eq!(
            name_of(Settings {
                backlog_grace: Duration::minutes(MAX_MINUTES as i64 + 1),
                ..base()
            }),
            "BACKLOG_GRACE_MINUTES"
        );
        assert_eq!(
            name_of(Settings {
                password_max_age: Duration::days(366),
                ..base()
            }),
            "PASSWORD_MAX_AGE_DAYS"
        );
        assert_eq!(
            name_of(Settings {
                reminder: Duration::minutes(90),
                ..base()
            }),
            "REMINDER_HOURS"
        );
        assert_eq!(
            name_of(Settings {
                alert_topic_arn: Some("alerts".into()),
                ..base()
            }),
            "ALERT_TOPIC_ARN"
        );
        assert_eq!(
            name_of(Settings {
                state_table: "  ".into(),
                ..base()
            }),
            "STATE_TABLE"
        );
        assert_eq!(
            name_of(Settings {
                secret_id: None,
                ..base()
            }),
            "SYSTEMS"
        );
        let list = Some(vec![system("a", "s", None)]);
        assert_eq!(
            name_of(Settings {
                systems: list.clone(),
                ..base()
            }),
            "SYSTEMS"
        );
        assert_eq!(
            name_of(Settings {
                systems: list,
                secret_id: None,
                checkpoint_parameter: Some("/c".into()),
                ..base()
            }),
            "CHECKPOINT_PARAMETER"
        );
        // A list given as values gets the same checks as a parsed one.
        for (systems, expected) in [
            (vec![], "is empty"),
            (vec![system("a b", "s", None)], "entry #1: `name` must be"),
            (
                vec![system("a", "s1", None), system("a", "s2", None)],
                "entry #2 (`a`): the name is used",
            ),
            (
                vec![system("a", "s1", Some("/c")), system("b", "s2", Some("c"))],
                "entry #2 (`b`): `checkpoint` is used",
            ),
        ] {
            let err = Config::new(Settings {
                systems: Some(systems),
                secret_id: None,
                ..base()
            })
            .unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn a_number_too_large_for_a_duration_is_out_of_range_not_a_panic() {
        let mut pairs = MINIMAL.to_vec();
        pairs.push(("REMINDER_HOURS", "18446744073709551615"));
        let err = Config::from_env(&env(&pairs)).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { name: "REMINDER_HOURS", reason } if reason.contains("outside")),
            "{err:?}"
        );
    }
}
