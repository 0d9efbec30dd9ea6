//! Configuration from environment variables, read once at start and typed. A bad value is an
//! error naming the variable, so a misconfigured function fails at its first start, visibly.

use std::collections::HashMap;

/// A snapshot of the environment (tests build one from pairs; no `set_var` in tests).
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    /// From pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A variable; empty counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// A variable is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Required and not set.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// Set to something unusable.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// Variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// Whether `s` is usable as an operator-chosen name (a system, a certificate target): 1–64
/// letters, digits, `-`, `_` or `.` — safe as a CloudWatch dimension value and in alert keys.
pub fn is_valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A required string.
pub fn required<'a>(env: &'a Env, name: &'static str) -> Result<&'a str, ConfigError> {
    env.get(name).ok_or(ConfigError::Missing(name))
}

/// An optional non-negative integer with a default.
pub fn optional_u64(env: &Env, name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match env.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("`{v}` is not a whole number"),
        }),
    }
}

/// `n` whole `unit`s as a duration, saturating at [`time::Duration::MAX`]: a number too large
/// for a duration is out of every setting's range, so the range check refuses it as such.
pub fn saturating_units(n: u64, unit: time::Duration) -> time::Duration {
    i64::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(unit.whole_seconds()))
        .map_or(time::Duration::MAX, time::Duration::seconds)
}

/// An optional boolean (`true`/`false`/`1`/`0`/`yes`/`no`) with a default.
pub fn optional_bool(env: &Env, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) => match v.as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!("`{v}` is not true or false"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_with_defaults_and_named_errors() {
        let env = Env::from_pairs([("A", "5"), ("B", "yes"), ("C", "x"), ("E", " ")]);
        assert_eq!(optional_u64(&env, "A", 1), Ok(5));
        assert_eq!(optional_u64(&env, "Z", 7), Ok(7));
        assert_eq!(optional_u64(&env, "E", 7), Ok(7));
        assert!(matches!(
            optional_u64(&env, "C", 1),
            Err(ConfigError::Invalid { name: "C", .. })
        ));
        assert_eq!(optional_bool(&env, "B", false), Ok(true));
        assert!(
            optional_bool(&env, "C", false)
                .unwrap_err()
                .to_string()
                .contains("C")
        );
        assert_eq!(required(&env, "Q"), Err(ConfigError::Missing("Q")));
        assert_eq!(
            saturating_units(3, time::Duration::HOUR),
            time::Duration::hours(3)
        );
        assert_eq!(
            saturating_units(u64::MAX, time::Duration::MINUTE),
            time::Duration::MAX
        );
        assert_eq!(
            saturating_units(u64::MAX / 2, time::Duration::HOUR),
            time::Duration::MAX,
            "the product overflows"
        );
    }
}
