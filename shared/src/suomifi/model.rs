use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

/// One page of `GET /v2/events`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventsPage {
    /// Where the next call continues; opaque.
    #[serde(rename = "continuationToken")]
    pub continuation_token: String,
    /// At most 1,000 events; empty means "no more events at this time".
    pub events: Vec<Event>,
}

/// One event. Unknown fields are ignored and unknown types kept as [`EventType::Other`]: the API
/// may add both without notice.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// When it happened.
    #[serde(rename = "eventTime", with = "time::serde::rfc3339")]
    pub event_time: OffsetDateTime,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Identifiers of the message concerned.
    #[serde(default)]
    pub metadata: EventMetadata,
}

/// Metadata of an event; every field optional (types differ in what they carry).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventMetadata {
    /// Suomi.fi's message id.
    #[serde(rename = "messageId", default)]
    pub message_id: Option<i64>,
    /// The organisation's service the message belongs to.
    #[serde(rename = "serviceId", default)]
    pub service_id: Option<String>,
    /// The organisation's own id of a message it sent.
    #[serde(rename = "externalId", default)]
    pub external_id: Option<String>,
}

/// Event types of `/v2/events`, as the API spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    /// `Electronic message from end user`: a citizen wrote to the organisation.
    EndUserMessage,
    /// `Electronic message created`.
    MessageCreated,
    /// `Electronic message read`.
    MessageRead,
    /// `Paper mail created`.
    PaperMailCreated,
    /// `Sent for printing and enveloping`.
    SentForPrinting,
    /// `Receipt confirmed`.
    ReceiptConfirmed,
    /// `Posti: receipt confirmed`.
    PostiReceiptConfirmed,
    /// `Posti: returned to sender`.
    PostiReturnedToSender,
    /// `Posti: unresolved`.
    PostiUnresolved,
    /// A type this client does not know yet.
    Other(String),
}

impl EventType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::EndUserMessage => "Electronic message from end user",
            Self::MessageCreated => "Electronic message created",
            Self::MessageRead => "Electronic message read",
            Self::PaperMailCreated => "Paper mail created",
            Self::SentForPrinting => "Sent for printing and enveloping",
            Self::ReceiptConfirmed => "Receipt confirmed",
            Self::PostiReceiptConfirmed => "Posti: receipt confirmed",
            Self::PostiReturnedToSender => "Posti: returned to sender",
            Self::PostiUnresolved => "Posti: unresolved",
            Self::Other(s) => s,
        }
    }

    /// Parses a wire string; never fails.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "Electronic message from end user" => Self::EndUserMessage,
            "Electronic message created" => Self::MessageCreated,
            "Electronic message read" => Self::MessageRead,
            "Paper mail created" => Self::PaperMailCreated,
            "Sent for printing and enveloping" => Self::SentForPrinting,
            "Receipt confirmed" => Self::ReceiptConfirmed,
            "Posti: receipt confirmed" => Self::PostiReceiptConfirmed,
            "Posti: returned to sender" => Self::PostiReturnedToSender,
            "Posti: unresolved" => Self::PostiUnresolved,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::from_wire(&s))
    }
}

/// `GET /v2/messages/{id}`: the parts this project reads. The full JSON stays available in `raw`.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Suomi.fi's message id.
    #[serde(rename = "messageId")]
    pub message_id: i64,
    /// When it was created.
    #[serde(rename = "createdAt", with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Everything, as received.
    #[serde(flatten)]
    pub raw: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_known_types_and_keeps_unknown_ones() {
        let json = r#"{"continuationToken":"abc+/=","events":[
          {"eventTime":"2026-01-02T03:04:05Z","type":"Electronic message from end user","metadata":{"messageId":7,"serviceId":"svc-1"}},
          {"eventTime":"2026-01-02T03:04:05.123+02:00","type":"Posti: returned to sender","metadata":{"messageId":8,"serviceId":"s","externalId":"x","postiTrackingCode":"JJ1"},"newField":true},
          {"eventTime":"2026-01-02T03:04:05Z","type":"Something brand new"},
          {"eventTime":"2026-01-02T03:04:05Z","type":"Receipt confirmed","metadata":{"messageId":9,"receiptConfirmedBy":"x"}}
        ],"extra":{"a":1}}"#;
        let page: EventsPage = serde_json::from_str(json).unwrap();
        assert_eq!(page.continuation_token, "abc+/=");
        assert_eq!(page.events.len(), 4);
        assert_eq!(page.events[0].event_type, EventType::EndUserMessage);
        assert_eq!(page.events[0].metadata.service_id.as_deref(), Some("svc-1"));
        assert_eq!(page.events[1].event_type, EventType::PostiReturnedToSender);
        assert_eq!(
            page.events[2].event_type,
            EventType::Other("Something brand new".into())
        );
        assert_eq!(page.events[2].metadata.message_id, None);
        for t in [
            "Electronic message from end user",
            "Electronic message created",
            "Electronic message read",
            "Paper mail created",
            "Sent for printing and enveloping",
            "Receipt confirmed",
            "Posti: receipt confirmed",
            "Posti: returned to sender",
            "Posti: unresolved",
        ] {
            let parsed = EventType::from_wire(t);
            assert!(!matches!(parsed, EventType::Other(_)), "{t}");
            assert_eq!(parsed.as_str(), t);
        }
    }

    #[test]
    fn a_page_without_its_required_fields_is_an_error() {
        assert!(serde_json::from_str::<EventsPage>(r#"{"events":[]}"#).is_err());
        assert!(serde_json::from_str::<EventsPage>(r#"{"continuationToken":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<EventsPage>(
                r#"{"continuationToken":"x","events":[{"eventTime":"yesterday","type":"Receipt confirmed"}]}"#
            )
            .is_err()
        );
    }
}
