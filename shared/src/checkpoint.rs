//! The retriever's checkpoint: how an organisation's own retrieval process tells `check-retrieval`
//! how far it has got.
//!
//! The retriever keeps one SSM Parameter Store parameter (type `String`) holding
//!
//! ```json
//! {"continuationToken": "<the token its last successful poll returned>", "updatedAt": "2026-11-25T12:00:00Z"}
//! ```
//!
//! and overwrites it after **every** successful `GET /v2/events` poll, also when the page was empty
//! (that is what makes it a heartbeat). The checker only ever reads it: it reads the events from
//! that token onward to count the citizens' messages still waiting, and compares `updatedAt` with
//! the time now to see whether the retriever is alive.
//!
//! A retriever written in Rust calls [`put_checkpoint`]; anything else can use the AWS CLI:
//!
//! ```sh
//! aws ssm put-parameter --name /suomifi/retriever/checkpoint --type String --overwrite \
//!   --tier Intelligent-Tiering \
//!   --value "{\"continuationToken\":\"$TOKEN\",\"updatedAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}"
//! ```
//!
//! Other keys in the JSON are ignored, so a retriever may add its own (a host name, a version).

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parameter values up to this size fit the Standard tier; larger ones need the Advanced tier,
/// which [`put_checkpoint`] gets by asking for Intelligent-Tiering (the size of a continuation
/// token is not documented, so the helper does not bet on it staying small).
pub const STANDARD_TIER_MAX_BYTES: usize = 4096;

/// The retriever's progress, as stored in the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The `continuationToken` the retriever's last successful poll returned: where the next
    /// poll starts, so every event from there on is not yet retrieved.
    pub continuation_token: String,
    /// When the retriever last polled successfully.
    pub updated_at: OffsetDateTime,
}

/// Why a parameter value is not a usable checkpoint. Quotes at most a short part of the value (a
/// checkpoint holds no secret, but it may be long and it ends up in e-mail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Not JSON, or not a JSON object.
    #[error(
        "the checkpoint is not a JSON object ({0}); expected {{\"continuationToken\": \"...\", \"updatedAt\": \"<RFC 3339>\"}}"
    )]
    Malformed(String),
    /// `continuationToken` is absent, null or empty.
    #[error("the checkpoint has no non-empty string `continuationToken`")]
    MissingToken,
    /// `updatedAt` is absent or null.
    #[error("the checkpoint has no `updatedAt`")]
    MissingUpdatedAt,
    /// A key has the wrong JSON type.
    #[error("the checkpoint's `{0}` must be a string")]
    WrongType(&'static str),
    /// `updatedAt` is not an RFC 3339 date-time with an offset.
    #[error(
        "the checkpoint's `updatedAt` ({value}) is not an RFC 3339 date-time such as 2026-11-25T12:00:00Z: {detail}"
    )]
    BadUpdatedAt {
        /// The value found (shortened).
        value: String,
        /// What the parser said.
        detail: String,
    },
}

impl Checkpoint {
    /// A checkpoint at `continuation_token`, written at `updated_at`.
    pub fn new(continuation_token: impl Into<String>, updated_at: OffsetDateTime) -> Self {
        Self {
            continuation_token: continuation_token.into(),
            updated_at,
        }
    }

    /// Parses a parameter value. Unknown keys are ignored.
    pub fn parse(value: &str) -> Result<Self, CheckpointError> {
        let parsed: Value = serde_json::from_str(value).map_err(|e| {
            CheckpointError::Malformed(format!(
                "{} at line {} column {}",
                json_category(&e),
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(map) = parsed else {
            return Err(CheckpointError::Malformed(
                "top level is not an object".into(),
            ));
        };
        let continuation_token = match field(&map, "continuationToken")? {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => return Err(CheckpointError::MissingToken),
        };
        let updated_at = match field(&map, "updatedAt")? {
            None => return Err(CheckpointError::MissingUpdatedAt),
            Some(s) => {
                let parsed = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
                    CheckpointError::BadUpdatedAt {
                        value: shorten(s),
                        detail: e.to_string(),
                    }
                })?;
                // Kept in UTC. A time whose UTC form falls outside the years RFC 3339 can write
                // (found by fuzzing: `0000-01-01T00:30:00+01:00` is year -1 in UTC) is refused:
                // it could not be written back, and no retriever polled then.
                parsed
                    .checked_to_offset(time::UtcOffset::UTC)
                    .filter(|utc| (0..=9999).contains(&utc.year()))
                    .ok_or_else(|| CheckpointError::BadUpdatedAt {
                        value: shorten(s),
                        detail: "outside the years 0000-9999 once converted to UTC".into(),
                    })?
            }
        };
        Ok(Self {
            continuation_token,
            updated_at,
        })
    }

    /// The parameter value: compact JSON, `updatedAt` in UTC to the millisecond.
    pub fn to_json(&self) -> String {
        let at = self
            .updated_at
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(self.updated_at.millisecond() as u32 * 1_000_000)
            .unwrap_or(self.updated_at);
        serde_json::json!({
            "continuationToken": self.continuation_token,
            "updatedAt": at.format(&Rfc3339).unwrap_or_else(|_| at.to_string()),
        })
        .to_string()
    }
}

fn field<'a>(
    map: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, CheckpointError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CheckpointError::WrongType(key)),
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > MAX {
        format!("{}…", clean.chars().take(MAX).collect::<String>())
    } else {
        clean
    }
}

fn json_category(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "JSON syntax error",
        Category::Data => "unexpected JSON data",
        Category::Eof => "JSON ends too early",
    }
}

/// Parameter Store could not be used.
#[derive(Debug, thiserror::Error)]
#[error("SSM parameter `{parameter}`: {detail}")]
pub struct CheckpointStoreError {
    /// The parameter name.
    pub parameter: String,
    /// What went wrong (the SDK's service error detail).
    pub detail: String,
}

/// Writes the checkpoint: `PutParameter` with `Overwrite`, type `String`, tier Intelligent-Tiering
/// (Standard, free, while the value fits in 4 KB). Call it after every successful poll, with the
/// `continuationToken` that poll returned and the time now.
///
/// A failure here must not stop retrieval — log it and carry on; the next poll writes again. (If
/// it keeps failing, `check-retrieval` reports a stale heartbeat, which is the truth: nobody can
/// see that retrieval works.)
pub async fn put_checkpoint(
    ssm: &aws_sdk_ssm::Client,
    parameter_name: &str,
    continuation_token: &str,
    now: OffsetDateTime,
) -> Result<(), CheckpointStoreError> {
    let value = Checkpoint::new(continuation_token, now).to_json();
    ssm.put_parameter()
        .name(parameter_name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .tier(aws_sdk_ssm::types::ParameterTier::IntelligentTiering)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| CheckpointStoreError {
            parameter: parameter_name.to_owned(),
            detail: crate::aws::sdk_error_detail(&e),
        })?;
    Ok(())
}

/// Reads the parameter's value as stored (`None` when the parameter does not exist). Parse it
/// with [`Checkpoint::parse`]: the checker reports a malformed value as a finding of its own.
pub async fn get_checkpoint_value(
    ssm: &aws_sdk_ssm::Client,
    parameter_name: &str,
) -> Result<Option<String>, CheckpointStoreError> {
    match ssm.get_parameter().name(parameter_name).send().await {
        Ok(out) => Ok(Some(
            out.parameter.and_then(|p| p.value).unwrap_or_default(),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(e) => Err(CheckpointStoreError {
            parameter: parameter_name.to_owned(),
            detail: crate::aws::sdk_error_detail(&e),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_time_that_leaves_the_year_range_in_utc_is_refused_not_a_panic() {
        let err = Checkpoint::parse(
            r#"{"continuationToken":"t","updatedAt":"0000-01-01T00:30:00+01:00"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, CheckpointError::BadUpdatedAt { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn round_trips_and_writes_utc() {
        let at = datetime!(2026-11-25 14:00:01.123456 +02:00);
        let cp = Checkpoint::new("abc+/==", at);
        let json = cp.to_json();
        assert_eq!(
            json,
            r#"{"continuationToken":"abc+/==","updatedAt":"2026-11-25T12:00:01.123Z"}"#
        );
        let back = Checkpoint::parse(&json).unwrap();
        assert_eq!(back.continuation_token, "abc+/==");
        assert_eq!(back.updated_at, datetime!(2026-11-25 12:00:01.123 UTC));
    }

    #[test]
    fn accepts_offsets_and_ignores_unknown_keys() {
        let cp = Checkpoint::parse(
            r#"{"continuationToken":"t","updatedAt":"2026-11-25T14:00:00+02:00","host":"r1","n":3}"#,
        )
        .unwrap();
        assert_eq!(cp.updated_at, datetime!(2026-11-25 12:00 UTC));
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        let cases: &[(&str, CheckpointError)] = &[
            ("", CheckpointError::Malformed(String::new())),
            ("{not json", CheckpointError::Malformed(String::new())),
            (r#"["t"]"#, CheckpointError::Malformed(String::new())),
            (
                r#"{"updatedAt":"2026-11-25T12:00:00Z"}"#,
                CheckpointError::MissingToken,
            ),
            (
                r#"{"continuationToken":"","updatedAt":"2026-11-25T12:00:00Z"}"#,
                CheckpointError::MissingToken,
            ),
            (
                r#"{"continuationToken":null,"updatedAt":"2026-11-25T12:00:00Z"}"#,
                CheckpointError::MissingToken,
            ),
            (
                r#"{"continuationToken":7,"updatedAt":"2026-11-25T12:00:00Z"}"#,
                CheckpointError::WrongType("continuationToken"),
            ),
            (
                r#"{"continuationToken":"t"}"#,
                CheckpointError::MissingUpdatedAt,
            ),
            (
                r#"{"continuationToken":"t","updatedAt":1764072000}"#,
                CheckpointError::WrongType("updatedAt"),
            ),
            (
                r#"{"continuationToken":"t","updatedAt":"yesterday"}"#,
                CheckpointError::BadUpdatedAt {
                    value: String::new(),
                    detail: String::new(),
                },
            ),
            (
                // No offset: ambiguous, so refused rather than guessed.
                r#"{"continuationToken":"t","updatedAt":"2026-11-25T12:00:00"}"#,
                CheckpointError::BadUpdatedAt {
                    value: String::new(),
                    detail: String::new(),
                },
            ),
        ];
        for (input, expected) in cases {
            let err = Checkpoint::parse(input).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&err),
                std::mem::discriminant(expected),
                "{input}: {err}"
            );
            if !matches!(
                expected,
                CheckpointError::Malformed(_) | CheckpointError::BadUpdatedAt { .. }
            ) {
                assert_eq!(&err, expected);
            }
        }
    }

    #[test]
    fn a_bad_date_is_quoted_short_and_on_one_line() {
        let long = format!("{}\n", "x".repeat(500));
        let err = Checkpoint::parse(
            &serde_json::json!({"continuationToken": "t", "updatedAt": long}).to_string(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.chars().count() < 300, "{text}");
        assert!(!text.contains('\n'));
    }
}
