//! The credentials secret kept in AWS Secrets Manager.
//!
//! ```json
//! {"username": "system-id", "password": "...", "apiUrl": "https://api.messages.suomi.fi"}
//! ```
//! `apiUrl` is optional. Keys this project does not know are kept as they are when the secret is
//! rewritten, so operators can store notes or other fields beside the credentials.

use crate::sensitive::Password;
use crate::suomifi::ApiBase;
use serde_json::{Map, Value};
use std::fmt;

/// Production API, used when the secret has no `apiUrl`.
pub const DEFAULT_API_URL: &str = "https://api.messages.suomi.fi";

/// Why a secret string is not usable credentials. Never contains the secret's value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// Not JSON, or not a JSON object.
    #[error(
        "the secret is not a JSON object ({0}); expected {{\"username\": ..., \"password\": ..., \"apiUrl\"?: ...}}"
    )]
    NotJsonObject(String),
    /// A required key is missing or empty.
    #[error("the secret has no non-empty string `{0}`")]
    MissingField(&'static str),
    /// A key has the wrong JSON type.
    #[error("the secret's `{0}` must be a string")]
    WrongType(&'static str),
    /// `apiUrl` is not an acceptable URL.
    #[error("the secret's `apiUrl` is not acceptable: {0}")]
    BadApiUrl(String),
}

/// Credentials for the Suomi.fi Messages REST API, as stored in the secret.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// The organisation's system id, used as the API username.
    pub username: String,
    /// The API password.
    pub password: Password,
    /// Where the API lives (validated: HTTPS, or HTTP on loopback only).
    pub api: ApiBase,
    /// Whether `apiUrl` was written in the secret (it is then written back).
    api_url_explicit: bool,
    /// Every other key, kept verbatim.
    extra: Map<String, Value>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("api", &self.api.as_str())
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// New credentials for the given API base.
    pub fn new(username: impl Into<String>, password: Password, api: ApiBase) -> Self {
        Self {
            username: username.into(),
            password,
            api,
            api_url_explicit: true,
            extra: Map::new(),
        }
    }

    /// Parses the secret string. The error never quotes the input.
    pub fn parse(secret_string: &str) -> Result<Self, SecretError> {
        let value: Value = serde_json::from_str(secret_string).map_err(|e| {
            // serde_json's message gives line/column and category, never the input text.
            SecretError::NotJsonObject(format!(
                "{} at line {} column {}",
                category(&e),
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(mut map) = value else {
            return Err(SecretError::NotJsonObject(
                "top level is not an object".into(),
            ));
        };
        let username = take_string(&mut map, "username")?;
        let password = take_string(&mut map, "password")?;
        let (api, explicit) = match map.remove("apiUrl") {
            None | Some(Value::Null) => (
                ApiBase::parse(DEFAULT_API_URL).expect("default URL is valid"),
                false,
            ),
            Some(Value::String(s)) => (
                ApiBase::parse(&s).map_err(|e| SecretError::BadApiUrl(e.to_string()))?,
                true,
            ),
            Some(_) => return Err(SecretError::WrongType("apiUrl")),
        };
        Ok(Self {
            username,
            password: Password::new(password),
            api,
            api_url_explicit: explicit,
            extra: map,
        })
    }

    /// The same credentials with another password (every other key kept).
    pub fn with_password(&self, password: Password) -> Self {
        Self {
            password,
            ..self.clone()
        }
    }

    /// Whether `other` holds the same values in every key but the password (a person's edit of
    /// one of them, e.g. a key of their own, shows as a difference).
    pub fn same_except_password(&self, other: &Self) -> bool {
        self.username == other.username
            && self.api == other.api
            && self.api_url_explicit == other.api_url_explicit
            && self.extra == other.extra
    }

    /// Serialises back to the secret string, keeping unknown keys.
    pub fn to_secret_string(&self) -> String {
        let mut map = Map::new();
        map.insert("username".into(), Value::String(self.username.clone()));
        map.insert(
            "password".into(),
            Value::String(self.password.expose().to_owned()),
        );
        if self.api_url_explicit {
            map.insert("apiUrl".into(), Value::String(self.api.as_str().to_owned()));
        }
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        Value::Object(map).to_string()
    }
}

fn category(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "JSON syntax error",
        Category::Data => "unexpected JSON data",
        Category::Eof => "JSON ends too early",
    }
}

fn take_string(map: &mut Map<String, Value>, key: &'static str) -> Result<String, SecretError> {
    match map.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(SecretError::MissingField(key)),
        Some(_) => Err(SecretError::WrongType(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_secret_with_default_api() {
        let c = Credentials::parse(r#"{"username":"sys1","password":"pw"}"#).unwrap();
        assert_eq!(c.username, "sys1");
        assert_eq!(c.password.expose(), "pw");
        assert_eq!(c.api.as_str(), "https://api.messages.suomi.fi");
        // The default is not written back: the secret stays as the operator wrote it.
        assert_eq!(
            c.to_secret_string(),
            r#"{"username":"sys1","password":"pw"}"#
        );
    }

    #[test]
    fn keeps_unknown_keys_when_rewritten() {
        let c = Credentials::parse(
            r#"{"username":"u","password":"old","apiUrl":"https://api.messages-qa.suomi.fi","note":"QA","n":{"a":1}}"#,
        )
        .unwrap();
        let out: Value =
            serde_json::from_str(&c.with_password(Password::new("new")).to_secret_string())
                .unwrap();
        assert_eq!(out["password"], "new");
        assert_eq!(out["note"], "QA");
        assert_eq!(out["n"]["a"], 1);
        assert_eq!(out["apiUrl"], "https://api.messages-qa.suomi.fi");
    }

    #[test]
    fn malformed_secrets_are_typed_errors_that_never_quote_the_input() {
        let cases: &[(&str, SecretError)] = &[
            (
                "{not json secretvalue",
                SecretError::NotJsonObject(String::new()),
            ),
            (
                r#"["secretvalue"]"#,
                SecretError::NotJsonObject(String::new()),
            ),
            (
                r#"{"password":"secretvalue"}"#,
                SecretError::MissingField("username"),
            ),
            (r#"{"username":"u"}"#, SecretError::MissingField("password")),
            (
                r#"{"username":"u","password":""}"#,
                SecretError::MissingField("password"),
            ),
            (
                r#"{"username":"u","password":42}"#,
                SecretError::WrongType("password"),
            ),
            (
                r#"{"username":"u","password":"secretvalue","apiUrl":7}"#,
                SecretError::WrongType("apiUrl"),
            ),
        ];
        for (input, expected) in cases {
            let err = Credentials::parse(input).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&err),
                std::mem::discriminant(expected),
                "{input}"
            );
            if let SecretError::MissingField(_) | SecretError::WrongType(_) = expected {
                assert_eq!(&err, expected);
            }
            assert!(!err.to_string().contains("secretvalue"), "{err}");
        }
    }

    #[test]
    fn plain_http_to_a_public_host_is_refused() {
        let err = Credentials::parse(
            r#"{"username":"u","password":"p","apiUrl":"http://api.messages.suomi.fi"}"#,
        )
        .unwrap_err();
        assert!(matches!(err, SecretError::BadApiUrl(_)), "{err:?}");
        let ok = Credentials::parse(
            r#"{"username":"u","password":"p","apiUrl":"http://127.0.0.1:8080"}"#,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Credentials::parse(r#"{"username":"u","password":"secretvalue"}"#).unwrap();
        assert!(!format!("{c:?}").contains("secretvalue"));
    }
}
