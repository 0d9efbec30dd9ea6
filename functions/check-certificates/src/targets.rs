//! What to check: the target model and the grammar of `CERT_TARGETS` (pure: no AWS, no tokio,
//! no HTTP).
//!
//! Everything an operator can get wrong in `CERT_TARGETS` is a [`TargetsError`] that names the
//! entry and the field, so a bad deployment fails at start with a message that says what to fix,
//! instead of at 3 a.m. as a puzzling per-target failure.

use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// A TLS endpoint to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsEndpoint {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Name to send as SNI and verify against, when it differs from `host`.
    pub sni: Option<String>,
}

impl fmt::Display for TlsEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        if let Some(sni) = &self.sni {
            write!(f, " (SNI {sni})")?;
        }
        Ok(())
    }
}

/// Where in Secrets Manager a certificate is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretLocation {
    /// Secret name or ARN.
    pub secret_id: String,
    /// When the secret is a JSON object: the key whose value holds the certificate.
    pub json_key: Option<String>,
    /// When the certificate is PKCS#12: the key (of the same JSON object) holding its password.
    pub password_key: Option<String>,
}

/// Where a target's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Presented by a TLS server.
    Tls(TlsEndpoint),
    /// Kept in AWS Secrets Manager.
    Secret(SecretLocation),
    /// Kept in AWS Certificate Manager (the certificate ARN).
    Acm(String),
}

impl Source {
    /// `tls`, `secret` or `acm`, as written in `CERT_TARGETS`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tls(_) => "tls",
            Self::Secret(_) => "secret",
            Self::Acm(_) => "acm",
        }
    }
}

/// What a target's certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Watched for expiry only.
    #[default]
    Watched,
    /// The signing certificate installed on VIA: DVV's certificate-change rule applies.
    Signing,
}

/// One watched certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Operator-chosen name: metric dimension, alert key, report label.
    pub name: String,
    /// Where the certificate comes from.
    pub source: Source,
    /// What the certificate is for.
    pub role: Role,
}

/// `CERT_TARGETS` cannot be used: the typed reason, with the entry (its position from 0, and its
/// name when it has a usable one) and the field at fault. Its text completes "`CERT_TARGETS` …";
/// [`Config::from_env`](crate::config::Config::from_env) reports it as
/// `ConfigError::Invalid { name: "CERT_TARGETS", reason }` with this text as the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetsError {
    /// `CERT_TARGETS` is not JSON.
    #[error(
        "is not valid JSON ({0}); expected an array like [{{\"name\": \"api\", \"tls\": \"api.messages.suomi.fi:443\"}}]"
    )]
    TargetsNotJson(String),
    /// `CERT_TARGETS` is JSON but not an array.
    #[error("must be a JSON array of targets, found {0}")]
    TargetsNotArray(&'static str),
    /// `CERT_TARGETS` is an empty array.
    #[error("is empty: nothing to check")]
    NoTargets,
    /// One entry of `CERT_TARGETS` is wrong.
    #[error("entry #{index}{}: {problem}", .name.as_deref().map(|n| format!(" (`{n}`)")).unwrap_or_default())]
    Target {
        /// Position in the array, from 0.
        index: usize,
        /// The entry's name, when it has a usable one.
        name: Option<String>,
        /// What is wrong.
        problem: TargetProblem,
    },
}

/// What is wrong with one `CERT_TARGETS` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetProblem {
    /// The entry is not a JSON object.
    #[error("must be a JSON object")]
    NotObject,
    /// No `name`.
    #[error("has no `name`")]
    MissingName,
    /// The name is not usable as a metric dimension and alert key.
    #[error("`name` must be 1–64 characters of letters, digits, `-`, `_` or `.`")]
    BadName,
    /// Two entries share a name.
    #[error("the name is used by an earlier entry too")]
    DuplicateName,
    /// None of `tls`, `secret`, `acm`.
    #[error("has no source: give exactly one of `tls`, `secret`, `acm`")]
    NoSource,
    /// More than one source.
    #[error("has {0} sources: give exactly one of `tls`, `secret`, `acm`")]
    SeveralSources(String),
    /// A field is not a non-empty string.
    #[error("`{0}` must be a non-empty string")]
    NotAString(&'static str),
    /// `tls` is not `host:port`.
    #[error(
        "`tls` = `{value}` {reason}; expected host:port, e.g. api.messages.suomi.fi:443 or [2001:db8::1]:443"
    )]
    BadHostPort {
        /// The value as written.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `sni` (or a `tls` host used as the name) is not a DNS name or IP address.
    #[error("`{0}` is not a valid TLS server name")]
    BadServerName(String),
    /// A key that only makes sense with another source.
    #[error("`{0}` only applies to a `secret` source")]
    FieldNeedsSecret(&'static str),
    /// `sni` without `tls`.
    #[error("`sni` only applies to a `tls` source")]
    SniNeedsTls,
    /// `passwordKey` needs the secret to be a JSON object, named by `jsonKey`.
    #[error(
        "`passwordKey` needs `jsonKey`: the password sits beside the certificate in one JSON secret"
    )]
    PasswordKeyWithoutJsonKey,
    /// `role` is not known.
    #[error("`role` = `{0}` is unknown; the only role is \"signing\"")]
    UnknownRole(String),
    /// A key this function does not know (most often a typo).
    #[error(
        "unknown key `{0}`; known keys: name, tls, sni, secret, jsonKey, passwordKey, acm, role"
    )]
    UnknownKey(String),
}

const KNOWN_KEYS: &[&str] = &[
    "name",
    "tls",
    "sni",
    "secret",
    "jsonKey",
    "passwordKey",
    "acm",
    "role",
];

/// Parses `CERT_TARGETS`.
pub fn parse_targets(raw: &str) -> Result<Vec<Target>, TargetsError> {
    let value: Value =
        serde_json::from_str(raw).map_err(|e| TargetsError::TargetsNotJson(e.to_string()))?;
    let Value::Array(entries) = value else {
        return Err(TargetsError::TargetsNotArray(json_kind(&value)));
    };
    if entries.is_empty() {
        return Err(TargetsError::NoTargets);
    }
    let mut seen = HashSet::new();
    let mut targets = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let fail = |name: Option<&str>, problem| TargetsError::Target {
            index,
            name: name.map(str::to_owned),
            problem,
        };
        let Value::Object(map) = entry else {
            return Err(fail(None, TargetProblem::NotObject));
        };
        let name = match map.get("name") {
            None | Some(Value::Null) => return Err(fail(None, TargetProblem::MissingName)),
            Some(Value::String(s)) if suomifi_shared::config::is_valid_name(s) => s.as_str(),
            Some(_) => return Err(fail(None, TargetProblem::BadName)),
        };
        let target = parse_target(name, map).map_err(|p| fail(Some(name), p))?;
        if !seen.insert(name.to_owned()) {
            return Err(fail(Some(name), TargetProblem::DuplicateName));
        }
        targets.push(target);
    }
    Ok(targets)
}

fn parse_target(name: &str, map: &Map<String, Value>) -> Result<Target, TargetProblem> {
    if let Some(unknown) = map.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        return Err(TargetProblem::UnknownKey(unknown.clone()));
    }
    let sources: Vec<&str> = ["tls", "secret", "acm"]
        .into_iter()
        .filter(|k| map.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let source_kind = match sources.as_slice() {
        [] => return Err(TargetProblem::NoSource),
        [one] => *one,
        many => return Err(TargetProblem::SeveralSources(many.join(" and "))),
    };
    let sni = optional_string(map, "sni")?;
    let json_key = optional_string(map, "jsonKey")?;
    let password_key = optional_string(map, "passwordKey")?;
    if source_kind != "tls" && sni.is_some() {
        return Err(TargetProblem::SniNeedsTls);
    }
    if source_kind != "secret" {
        if json_key.is_some() {
            return Err(TargetProblem::FieldNeedsSecret("jsonKey"));
        }
        if password_key.is_some() {
            return Err(TargetProblem::FieldNeedsSecret("passwordKey"));
        }
    }
    let source = match source_kind {
        "tls" => {
            let raw = required_string(map, "tls")?;
            let (host, port) = parse_host_port(raw)?;
            let endpoint = TlsEndpoint { host, port, sni };
            // Refuse at start what the probe would refuse on every run.
            let server_name = endpoint.sni.as_deref().unwrap_or(&endpoint.host);
            if rustls_pki_types::ServerName::try_from(server_name).is_err() {
                return Err(TargetProblem::BadServerName(server_name.to_owned()));
            }
            Source::Tls(endpoint)
        }
        "secret" => {
            if password_key.is_some() && json_key.is_none() {
                return Err(TargetProblem::PasswordKeyWithoutJsonKey);
            }
            Source::Secret(SecretLocation {
                secret_id: required_string(map, "secret")?.to_owned(),
                json_key,
                password_key,
            })
        }
        _ => Source::Acm(required_string(map, "acm")?.to_owned()),
    };
    let role = match optional_string(map, "role")?.as_deref() {
        None => Role::Watched,
        Some("signing") => Role::Signing,
        Some(other) => return Err(TargetProblem::UnknownRole(other.to_owned())),
    };
    Ok(Target {
        name: name.to_owned(),
        source,
        role,
    })
}

fn required_string<'a>(
    map: &'a Map<String, Value>,
    key: &'static str,
) -> Result<&'a str, TargetProblem> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        _ => Err(TargetProblem::NotAString(key)),
    }
}

fn optional_string(
    map: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, TargetProblem> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(TargetProblem::NotAString(key)),
    }
}

/// `host:port`, `[ipv6]:port`. The port is required: a certificate monitor that silently probes
/// 443 when the operator meant 8443 watches the wrong certificate.
pub fn parse_host_port(raw: &str) -> Result<(String, u16), TargetProblem> {
    let bad = |reason| TargetProblem::BadHostPort {
        value: raw.to_owned(),
        reason,
    };
    if raw.contains("://") || raw.contains('/') {
        return Err(bad("is a URL, not host:port"));
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(bad("contains whitespace"));
    }
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("has an unclosed `[`"))?;
        let port = after.strip_prefix(':').ok_or_else(|| bad("has no port"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("has no IPv6 address inside `[ ]`"));
        }
        (host, port)
    } else {
        let (host, port) = raw.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        if host.contains(':') {
            return Err(bad("looks like an IPv6 address without `[ ]`"));
        }
        (host, port)
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad("has a port that is not a number from 1 to 65535"))?;
    if port == 0 {
        return Err(bad("has a port that is not a number from 1 to 65535"));
    }
    Ok((host.to_owned(), port))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(entry: &str) -> Result<Target, TargetsError> {
        parse_targets(&format!("[{entry}]")).map(|mut v| v.remove(0))
    }

    fn problem(entry: &str) -> TargetProblem {
        match one(entry) {
            Err(TargetsError::Target { problem, .. }) => problem,
            other => panic!("expected a target problem for {entry}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_three_source_kinds_and_the_signing_role() {
        let targets = parse_targets(
            r#"[
              {"name": "api", "tls": "api.messages.suomi.fi:443"},
              {"name": "api-by-ip", "tls": "[2001:db8::1]:8443", "sni": "api.messages.suomi.fi"},
              {"name": "via-signing", "secret": "prod/via", "jsonKey": "p12", "passwordKey": "pw", "role": "signing"},
              {"name": "web", "acm": "arn:aws:acm:eu-north-1:123456789012:certificate/abc"}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            targets[0].source,
            Source::Tls(TlsEndpoint {
                host: "api.messages.suomi.fi".into(),
                port: 443,
                sni: None
            })
        );
        assert_eq!(
            targets[1].source,
            Source::Tls(TlsEndpoint {
                host: "2001:db8::1".into(),
                port: 8443,
                sni: Some("api.messages.suomi.fi".into())
            })
        );
        assert_eq!(targets[2].role, Role::Signing);
        assert_eq!(
            targets[2].source,
            Source::Secret(SecretLocation {
                secret_id: "prod/via".into(),
                json_key: Some("p12".into()),
                password_key: Some("pw".into())
            })
        );
        assert_eq!(targets[3].source.kind(), "acm");
        assert_eq!(targets[3].role, Role::Watched);
    }

    #[test]
    fn an_entry_needs_exactly_one_source() {
        assert_eq!(problem(r#"{"name": "x"}"#), TargetProblem::NoSource);
        assert_eq!(
            problem(r#"{"name": "x", "tls": "h:1", "acm": "arn"}"#),
            TargetProblem::SeveralSources("tls and acm".into())
        );
    }

    #[test]
    fn malformed_targets_are_config_errors() {
        assert!(matches!(
            parse_targets("{"),
            Err(TargetsError::TargetsNotJson(_))
        ));
        assert_eq!(
            parse_targets(r#"{"name": "api"}"#),
            Err(TargetsError::TargetsNotArray("an object"))
        );
        assert_eq!(parse_targets("[]"), Err(TargetsError::NoTargets));
        assert_eq!(problem(r#""api""#), TargetProblem::NotObject);
        assert_eq!(problem(r#"{"tls": "h:1"}"#), TargetProblem::MissingName);
        assert_eq!(
            problem(r#"{"name": "a b", "tls": "h:1"}"#),
            TargetProblem::BadName
        );
        assert_eq!(
            problem(r#"{"name": "x", "tls": 443}"#),
            TargetProblem::NotAString("tls")
        );
        assert_eq!(
            problem(r#"{"name": "x", "acm": "a", "jsonkey": "k"}"#),
            TargetProblem::UnknownKey("jsonkey".into())
        );
        assert_eq!(
            problem(r#"{"name": "x", "acm": "a", "role": "tls"}"#),
            TargetProblem::UnknownRole("tls".into())
        );
        assert_eq!(
            problem(r#"{"name": "x", "secret": "s", "passwordKey": "pw"}"#),
            TargetProblem::PasswordKeyWithoutJsonKey
        );
        assert_eq!(
            problem(r#"{"name": "x", "acm": "a", "jsonKey": "k"}"#),
            TargetProblem::FieldNeedsSecret("jsonKey")
        );
        assert_eq!(
            problem(r#"{"name": "x", "secret": "s", "sni": "h"}"#),
            TargetProblem::SniNeedsTls
        );
        assert_eq!(
            problem(r#"{"name": "x", "tls": "h:1", "sni": "not a name"}"#),
            TargetProblem::BadServerName("not a name".into())
        );
        let dup =
            parse_targets(r#"[{"name": "a", "acm": "x"}, {"name": "a", "acm": "y"}]"#).unwrap_err();
        assert!(
            matches!(
                &dup,
                TargetsError::Target {
                    index: 1,
                    problem: TargetProblem::DuplicateName,
                    ..
                }
            ),
            "{dup:?}"
        );
        assert!(dup.to_string().contains("entry #1 (`a`)"), "{dup}");
    }

    #[test]
    fn bad_host_port_is_refused_with_the_reason() {
        for (raw, reason) in [
            ("api.messages.suomi.fi", "has no port"),
            (
                "api.messages.suomi.fi:",
                "has a port that is not a number from 1 to 65535",
            ),
            (
                "api.messages.suomi.fi:https",
                "has a port that is not a number from 1 to 65535",
            ),
            (
                "api.messages.suomi.fi:70000",
                "has a port that is not a number from 1 to 65535",
            ),
            (
                "api.messages.suomi.fi:0",
                "has a port that is not a number from 1 to 65535",
            ),
            (":443", "has no host"),
            (
                "https://api.messages.suomi.fi:443",
                "is a URL, not host:port",
            ),
            (
                "2001:db8::1:443",
                "looks like an IPv6 address without `[ ]`",
            ),
            ("[2001:db8::1]", "has no port"),
            ("[nonsense]:443", "has no IPv6 address inside `[ ]`"),
            ("api messages:443", "contains whitespace"),
        ] {
            assert_eq!(
                parse_host_port(raw),
                Err(TargetProblem::BadHostPort {
                    value: raw.into(),
                    reason
                }),
                "{raw}"
            );
        }
        assert_eq!(
            parse_host_port("127.0.0.1:8443"),
            Ok(("127.0.0.1".into(), 8443))
        );
    }
}
