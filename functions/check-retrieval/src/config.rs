//! Configuration, read once at start-up from the environment into typed values.
//!
//! Parsing works on a snapshot of the environment ([`Env`]), so tests never touch the process
//! environment. An empty variable counts as unset: CloudFormation passes `""` for an optional
//! parameter left blank.

use crate::evaluate::Thresholds;
use serde_json::{Map, Value};
use std::collections::HashSet;
pub use suomifi_shared::config::{ConfigError, Env};
use suomifi_shared::config::{is_valid_name, optional_u64, required};
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
        let systems = match (env.get("SYSTEMS"), text("SUOMIFI_SECRET_ID")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "SYSTEMS",
                    reason: "set SYSTEMS or SUOMIFI_SECRET_ID (with CHECKPOINT_PARAMETER), not \
                             both"
                        .to_owned(),
                });
            }
            (Some(raw), None) => {
                if text("CHECKPOINT_PARAMETER").is_some() {
                    return Err(ConfigError::Invalid {
                        name: "CHECKPOINT_PARAMETER",
                        reason: "with SYSTEMS, each entry names its own `checkpoint`".to_owned(),
                    });
                }
                parse_systems(raw)?
            }
            (None, Some(secret_id)) => vec![System {
                name: legacy_name(&secret_id),
                secret_id,
                checkpoint_parameter: text("CHECKPOINT_PARAMETER"),
            }],
            (None, None) => return Err(ConfigError::Missing("SYSTEMS")),
        };
        Ok(Self {
            systems,
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
    if entries.is_empty() {
        return Err(invalid("is empty: no system to check".to_owned()));
    }
    if entries.len() > MAX_SYSTEMS {
        return Err(invalid(format!(
            "has {} systems; at most {MAX_SYSTEMS} fit one run (split them over two stacks)",
            entries.len()
        )));
    }
    let (mut names, mut secrets, mut checkpoints) =
        (HashSet::new(), HashSet::new(), HashSet::new());
    let mut systems = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = |name: Option<&str>, problem: &str| {
            let label = name.map(|n| format!(" (`{n}`)")).unwrap_or_default();
            invalid(format!("entry #{}{label}: {problem}", i + 1))
        };
        let Value::Object(map) = entry else {
            return Err(at(None, "is not an object"));
        };
        let name = match map.get("name") {
            None | Some(Value::Null) => return Err(at(None, "has no `name`")),
            Some(Value::String(s)) if is_valid_name(s) => s.clone(),
            Some(_) => {
                return Err(at(
                    None,
                    "`name` must be 1–64 characters of letters, digits, `-`, `_` or `.`",
                ));
            }
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
        if !names.insert(name.clone()) {
            return Err(at(n, "the name is used by an earlier entry too"));
        }
        if !secrets.insert(crate::render::secret_label(&secret_id).to_owned()) {
            return Err(at(n, "`secret` is used by an earlier entry too"));
        }
        if let Some(cp) = &checkpoint_parameter
            && !checkpoints.insert(cp.trim_start_matches('/').to_owned())
        {
            return Err(at(n, "`checkpoint` is used by an earlier entry too"));
        }
        systems.push(System {
            name,
            secret_id,
            checkpoint_parameter,
        });
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
}
