//! One model of an alert, rendered for e-mail and chat, published to Amazon SNS.
//!
//! Each notification is one SNS `Publish` with `MessageStructure=json`:
//! - `email`: plain text for a person on a phone; the `Subject` starts with the severity tag and
//!   fits SNS's limits (≤ 100 characters, no line breaks);
//! - `default` and `https`: the custom-notification JSON of Amazon Q Developer in chat applications
//!   (formerly AWS Chatbot), which silently drops plain text. SQS and Lambda subscribers get the
//!   same JSON (`default`).
//!
//! No secret ever reaches an [`Alert`]: its fields are plain strings built by the functions from
//! non-secret facts, and tests capture what is published.

use serde_json::{Value, json};
use std::future::Future;

/// How bad it is. Ordered: `Info < Warning < Critical`; `Resolved` closes an alert.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing to do now.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    Critical,
    /// A problem that was reported has cleared.
    Resolved,
}

impl Severity {
    /// `[CRITICAL]`, `[WARNING]`, `[INFO]`, `[RESOLVED]`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Info => "[INFO]",
            Self::Warning => "[WARNING]",
            Self::Critical => "[CRITICAL]",
            Self::Resolved => "[RESOLVED]",
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::Resolved => "resolved",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Self::Info),
            "warning" => Some(Self::Warning),
            "critical" => Some(Self::Critical),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// A notification about one problem (or its resolution).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Stable identity of the problem, e.g. `retrieval/heartbeat/<secret>`; also the chat thread.
    pub key: String,
    /// Severity.
    pub severity: Severity,
    /// One line: what this is about (the subject, after the severity tag).
    pub title: String,
    /// What happened, in a sentence or two.
    pub what_happened: String,
    /// Why it matters to the organisation.
    pub why_it_matters: String,
    /// What to do next, in order.
    pub next_steps: Vec<String>,
    /// Facts as label/value pairs (counts, dates, trace ids), in display order.
    pub details: Vec<(String, String)>,
    /// Which function raised it (`rotate-password`, `check-retrieval`, `check-certificates`).
    pub source: String,
}

impl Alert {
    /// A new alert with empty text fields.
    pub fn new(
        key: impl Into<String>,
        severity: Severity,
        title: impl Into<String>,
        source: &str,
    ) -> Self {
        Self {
            key: key.into(),
            severity,
            title: title.into(),
            what_happened: String::new(),
            why_it_matters: String::new(),
            next_steps: Vec::new(),
            details: Vec::new(),
            source: source.to_owned(),
        }
    }

    /// Adds a detail row.
    pub fn detail(mut self, label: impl Into<String>, value: impl ToString) -> Self {
        self.details.push((label.into(), value.to_string()));
        self
    }

    /// The SNS subject: severity tag first, in the form real SNS accepts (see [`sns_subject`]).
    pub fn subject(&self) -> String {
        sns_subject(&format!("{} Suomi.fi: {}", self.severity.tag(), self.title))
    }

    /// The e-mail body: plain text, short lines, readable on a phone.
    pub fn email_body(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("{} {}\n\n", self.severity.tag(), self.title));
        if !self.what_happened.is_empty() {
            out.push_str(&format!("What happened\n{}\n\n", self.what_happened));
        }
        if !self.why_it_matters.is_empty() {
            out.push_str(&format!("Why it matters\n{}\n\n", self.why_it_matters));
        }
        if !self.next_steps.is_empty() {
            out.push_str("Next steps\n");
            for (i, s) in self.next_steps.iter().enumerate() {
                out.push_str(&format!("{}. {}\n", i + 1, s));
            }
            out.push('\n');
        }
        if !self.details.is_empty() {
            out.push_str("Details\n");
            for (k, v) in &self.details {
                out.push_str(&format!("- {k}: {v}\n"));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "Alert key: {}\nSent by: suomifi-ops {}\n",
            self.key, self.source
        ));
        out
    }

    /// The chat body: the Amazon Q Developer in chat applications custom-notification schema.
    pub fn chat_json(&self) -> Value {
        let emoji = match self.severity {
            Severity::Critical => ":rotating_light:",
            Severity::Warning => ":warning:",
            Severity::Info => ":information_source:",
            Severity::Resolved => ":white_check_mark:",
        };
        let mut description = String::new();
        if !self.what_happened.is_empty() {
            description.push_str(&self.what_happened);
        }
        if !self.why_it_matters.is_empty() {
            description.push_str(&format!("\n\n*Why it matters:* {}", self.why_it_matters));
        }
        if !self.details.is_empty() {
            description.push('\n');
            for (k, v) in &self.details {
                description.push_str(&format!("\n• *{k}:* {v}"));
            }
        }
        // The custom-notification schema documents `additionalContext` as a map of strings.
        let mut context = serde_json::Map::new();
        context.insert("severity".into(), self.severity.as_str().into());
        context.insert("alertKey".into(), self.key.clone().into());
        for (k, v) in &self.details {
            context.insert(k.clone(), Value::String(v.clone()));
        }
        json!({
            "version": "1.0",
            "source": "custom",
            "id": self.key,
            "content": {
                "textType": "client-markdown",
                "title": truncate_chars(&format!("{emoji} {} {}", self.severity.tag(), self.title), 250),
                "description": truncate_chars(&description, 8000),
                "nextSteps": self.next_steps,
                "keywords": [self.severity.as_str(), self.source],
            },
            "metadata": {
                "threadId": self.key,
                "summary": self.subject(),
                "eventType": format!("suomifi-ops.{}", self.source),
                "relatedResources": [],
                "additionalContext": context,
            },
        })
    }

    /// The `Message` for SNS `MessageStructure=json`: one body per protocol.
    pub fn sns_message(&self) -> String {
        let chat = self.chat_json().to_string();
        json!({
            "default": chat,
            "https": chat,
            "email": self.email_body(),
        })
        .to_string()
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The longest subject SNS accepts: "must be less than 100 characters long".
pub const SNS_SUBJECT_MAX: usize = 99;

/// `raw` as a subject real SNS accepts (moto accepts anything): "ASCII text that begins with a
/// letter, number, or punctuation mark; must not include line breaks or control characters; and
/// must be less than 100 characters long". Finnish and Swedish letters are transliterated
/// (ä → a, ö → o, å → a), common typographic marks get their ASCII form, any other non-ASCII
/// character is dropped, whitespace runs become one space, and a cut is marked with `...`.
pub fn sns_subject(raw: &str) -> String {
    let mut ascii = String::with_capacity(raw.len());
    for c in raw.chars() {
        let mapped: &str = match c {
            'ä' | 'å' | 'á' | 'à' | 'â' => "a",
            'Ä' | 'Å' | 'Á' | 'À' | 'Â' => "A",
            'ö' | 'ó' | 'ò' | 'ô' | 'ø' => "o",
            'Ö' | 'Ó' | 'Ò' | 'Ô' | 'Ø' => "O",
            'ü' | 'ú' => "u",
            'Ü' | 'Ú' => "U",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'É' | 'È' => "E",
            'š' => "s",
            'Š' => "S",
            'ž' => "z",
            'Ž' => "Z",
            '…' => "...",
            '–' | '—' | '−' => "-",
            '‘' | '’' | '‚' => "'",
            '“' | '”' | '„' | '«' | '»' => "\"",
            '×' => "x",
            c if c.is_ascii_graphic() => {
                ascii.push(c);
                continue;
            }
            c if c.is_whitespace() || c.is_control() => " ",
            _ => "",
        };
        ascii.push_str(mapped);
    }
    // One line, single spaces, starting with a letter, a digit or a punctuation mark.
    let words: Vec<&str> = ascii.split(' ').filter(|w| !w.is_empty()).collect();
    let clean = words.join(" ");
    let clean = if clean.is_empty() {
        "Suomi.fi notification".to_owned()
    } else {
        clean
    };
    if clean.len() <= SNS_SUBJECT_MAX {
        return clean;
    }
    // All ASCII now: byte length is character count. Cut at a word boundary when one is near.
    let room = SNS_SUBJECT_MAX - 3;
    let cut = &clean[..room];
    let cut = match cut.rfind(' ') {
        Some(i) if i >= room - 20 => &cut[..i],
        _ => cut,
    };
    format!("{}...", cut.trim_end())
}

/// Publishing failed; the caller must fail loudly (an alert must never be dropped silently).
#[derive(Debug, thiserror::Error)]
#[error("could not publish alert `{key}` to SNS: {detail}")]
pub struct NotifyError {
    /// The alert's key.
    pub key: String,
    /// What went wrong (the SDK's service error detail).
    pub detail: String,
}

/// Port: where alerts go.
pub trait Notifier: Send + Sync {
    /// Publishes one alert.
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// A notifier that drops everything, for functions deployed without `ALERT_TOPIC_ARN`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotifier;

impl Notifier for NoNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        tracing::info!(alert_key = %alert.key, severity = alert.severity.as_str(), "no ALERT_TOPIC_ARN: alert not published");
        Ok(())
    }
}

/// Amazon SNS adapter.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    /// A publisher to `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        let out = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(alert.subject())
            .message_structure("json")
            .message(alert.sns_message())
            .send()
            .await
            .map_err(|e| NotifyError {
                key: alert.key.clone(),
                detail: crate::aws::sdk_error_detail(&e),
            })?;
        tracing::info!(
            alert_key = %alert.key,
            severity = alert.severity.as_str(),
            message_id = out.message_id().unwrap_or_default(),
            "alert published"
        );
        Ok(())
    }
}

/// Either SNS or nothing, chosen by configuration.
#[derive(Debug, Clone)]
pub enum AnyNotifier {
    /// Publish to SNS.
    Sns(SnsNotifier),
    /// Log only.
    None(NoNotifier),
}

impl AnyNotifier {
    /// What every function's `main` wires: SNS to `topic_arn` (the function's `ALERT_TOPIC_ARN`),
    /// or, without one, alerts that are only logged - said once at start, so a stack that lost
    /// its topic is visible in the log.
    pub fn for_topic(sdk: &aws_types::SdkConfig, topic_arn: Option<&str>) -> Self {
        match topic_arn {
            Some(arn) => Self::Sns(SnsNotifier::new(aws_sdk_sns::Client::new(sdk), arn)),
            None => {
                tracing::warn!("ALERT_TOPIC_ARN is not set: alerts are logged, not published");
                Self::None(NoNotifier)
            }
        }
    }
}

impl Notifier for AnyNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        match self {
            Self::Sns(n) => n.publish(alert).await,
            Self::None(n) => n.publish(alert).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Alert {
        let mut a = Alert::new(
            "retrieval/heartbeat/sys-1",
            Severity::Critical,
            "retrieval stalled for 3 h 10 min\nsecond line",
            "check-retrieval",
        )
        .detail("Messages waiting", 12)
        .detail("Oldest", "2026-11-20T10:00:00Z");
        a.what_happened = "The retriever has not polled since 12:00.".into();
        a.why_it_matters = "Suomi.fi deletes end-user messages 60 days after they arrive.".into();
        a.next_steps = vec!["Restart the retrieval job.".into()];
        a
    }

    /// What the Publish API reference requires of a subject, checked character by character.
    fn assert_sns_accepts(s: &str) {
        assert!(s.len() < 100, "{} characters: {s}", s.len());
        assert!(s.is_ascii(), "not ASCII: {s}");
        assert!(
            !s.chars().any(|c| c.is_control()),
            "control character: {s:?}"
        );
        let first = s.chars().next().expect("a subject");
        assert!(
            first.is_ascii_alphanumeric() || first.is_ascii_punctuation(),
            "starts with {first:?}"
        );
    }

    #[test]
    fn subject_is_tagged_single_line_and_short() {
        let mut a = sample();
        a.title = "x".repeat(300) + "\r\n";
        let s = a.subject();
        assert!(s.starts_with("[CRITICAL] "));
        assert_sns_accepts(&s);
        assert!(s.ends_with("..."));
        assert!(!s.contains('\n') && !s.contains('\r'));
        assert!(
            sample()
                .subject()
                .starts_with("[CRITICAL] Suomi.fi: retrieval stalled")
        );
    }

    #[test]
    fn long_non_ascii_subject_is_one_sns_accepts() {
        let mut a = sample();
        a.title = "certificate `jyväskylä-varhaiskasvatus-sosiaalipalvelut-asiakirjahallinta-tuotanto` expires in 3 days – renew it…".into();
        let s = a.subject();
        assert_sns_accepts(&s);
        assert!(
            s.starts_with("[CRITICAL] Suomi.fi: certificate `jyvaskyla-varhaiskasvatus"),
            "{s}"
        );
        assert!(s.ends_with("..."), "{s}");
        assert!(!s.contains('…') && !s.contains('ä'));
    }

    #[test]
    fn subject_transliterates_and_drops_what_sns_refuses() {
        assert_eq!(
            sns_subject("Åbo – Tampere ö ä “x” 🚨 ok"),
            "Abo - Tampere o a \"x\" ok"
        );
        assert_eq!(sns_subject("  \t\n  leading space"), "leading space");
        assert_eq!(sns_subject("🚨🚨"), "Suomi.fi notification");
        assert_eq!(sns_subject(&"ä".repeat(99)), "a".repeat(99));
        assert_sns_accepts(&sns_subject(&"ö".repeat(150)));
        assert_sns_accepts(&sns_subject(&"word ".repeat(40)));
    }

    #[test]
    fn chat_body_follows_the_custom_notification_schema() {
        let v = sample().chat_json();
        assert_eq!(v["version"], "1.0");
        assert_eq!(v["source"], "custom");
        assert_eq!(v["content"]["textType"], "client-markdown");
        assert!(
            v["content"]["title"]
                .as_str()
                .unwrap()
                .contains("[CRITICAL]")
        );
        assert_eq!(v["content"]["nextSteps"][0], "Restart the retrieval job.");
        assert_eq!(v["metadata"]["threadId"], "retrieval/heartbeat/sys-1");
        assert!(
            v["metadata"]["summary"]
                .as_str()
                .unwrap()
                .starts_with("[CRITICAL]")
        );
        let context = v["metadata"]["additionalContext"].as_object().unwrap();
        assert_eq!(context["Messages waiting"], "12");
        assert_eq!(context["alertKey"], "retrieval/heartbeat/sys-1");
        assert!(
            context.values().all(Value::is_string),
            "additionalContext values must be strings: {context:?}"
        );
    }

    #[test]
    fn sns_message_has_a_body_per_protocol() {
        let m: Value = serde_json::from_str(&sample().sns_message()).unwrap();
        let default: Value = serde_json::from_str(m["default"].as_str().unwrap()).unwrap();
        assert_eq!(default["source"], "custom");
        assert_eq!(m["https"], m["default"]);
        let email = m["email"].as_str().unwrap();
        assert!(email.contains("What happened") && email.contains("1. Restart the retrieval job."));
        assert!(email.contains("- Messages waiting: 12"));
    }

    #[test]
    fn severities_order_for_escalation() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        for s in [
            Severity::Info,
            Severity::Warning,
            Severity::Critical,
            Severity::Resolved,
        ] {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
    }
}
