//! Events, end-user messages and attachments: what tests add, how they are stored, how pages are cut.
//!
//! Storage is compact because a benchmark needs a million events: generated events are a 32-byte
//! [`StoredEvent`] each and their JSON is produced only when a page is served. Events added one by
//! one keep their JSON (type, metadata, extra fields) exactly as given.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ControlError;

/// The event `type` strings of `GET /v2/events`, as the API description spells them.
pub mod event_types {
    /// An end user sent a message (new or reply) to the organisation.
    pub const END_USER_MESSAGE: &str = "Electronic message from end user";
    /// The organisation's electronic message was created.
    pub const MESSAGE_CREATED: &str = "Electronic message created";
    /// The recipient read the organisation's electronic message.
    pub const MESSAGE_READ: &str = "Electronic message read";
    /// A paper letter was created.
    pub const PAPER_MAIL_CREATED: &str = "Paper mail created";
    /// A paper letter was sent for printing and enveloping.
    pub const SENT_FOR_PRINTING: &str = "Sent for printing and enveloping";
    /// The recipient confirmed receipt.
    pub const RECEIPT_CONFIRMED: &str = "Receipt confirmed";
    /// Posti confirmed receipt of a letter.
    pub const POSTI_RECEIPT_CONFIRMED: &str = "Posti: receipt confirmed";
    /// Posti returned a letter to the sender.
    pub const POSTI_RETURNED_TO_SENDER: &str = "Posti: returned to sender";
    /// Posti could not deliver a letter.
    pub const POSTI_UNRESOLVED: &str = "Posti: unresolved";
    /// All of the above; [`END_USER_MESSAGE`] first.
    pub const ALL: [&str; 9] = [
        END_USER_MESSAGE,
        MESSAGE_CREATED,
        MESSAGE_READ,
        PAPER_MAIL_CREATED,
        SENT_FOR_PRINTING,
        RECEIPT_CONFIRMED,
        POSTI_RECEIPT_CONFIRMED,
        POSTI_RETURNED_TO_SENDER,
        POSTI_UNRESOLVED,
    ];
}

/// The service id used when a test does not name one.
pub const DEFAULT_SERVICE_ID: &str = "sandbox-service";

/// An event to add, of any type (known or not) and with any metadata and extra fields.
///
/// JSON form (control API): `{"eventTime"?: RFC 3339, "type": str, "metadata"?: {...}, ...extra}`.
/// Stored with millisecond precision; without `eventTime` it happens "now" on the sandbox clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// When it happened; `None` means the sandbox's "now" when added.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_time: Option<OffsetDateTime>,
    /// The `type` string; see [`event_types`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The `metadata` object, served as given.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Further top-level fields, served as given (to test that clients ignore unknown fields).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// An event of `kind` with empty metadata, happening "now".
    pub fn new(kind: impl Into<String>) -> Self {
        Self {
            event_time: None,
            kind: kind.into(),
            metadata: Map::new(),
            extra: Map::new(),
        }
    }

    /// An event of `kind` about a message: metadata `{"messageId", "serviceId"}`.
    pub fn for_message(kind: impl Into<String>, message_id: i64, service_id: &str) -> Self {
        Self::new(kind)
            .with_metadata("messageId", message_id)
            .with_metadata("serviceId", service_id)
    }

    /// An end user's message to the organisation. Adding it also makes the message retrievable
    /// from `GET /v2/messages/{message_id}` with a generated title and body.
    pub fn end_user_message(message_id: i64, service_id: &str) -> Self {
        Self::for_message(event_types::END_USER_MESSAGE, message_id, service_id)
    }

    /// The same event happening at `time`.
    pub fn at(mut self, time: OffsetDateTime) -> Self {
        self.event_time = Some(time);
        self
    }

    /// The same event with one more metadata field.
    pub fn with_metadata(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    /// The same event with one more top-level field.
    pub fn with_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }
}

/// Parameters of the bulk event generator.
///
/// JSON form (control API): `{"count": 1000000, "endUserShare": 0.2, "serviceIds": ["a", "b"],
/// "firstEventTime": RFC 3339, "intervalMillis": 1000, "seed": 42}`, every field optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GenerateEvents {
    /// How many events to append.
    pub count: usize,
    /// Share (0.0–1.0) of `Electronic message from end user` events; the rest are spread evenly
    /// over the other eight standard types. Default 0.2.
    pub end_user_share: f64,
    /// Service ids, each event picking one at random. Default `["sandbox-service"]`.
    pub service_ids: Vec<String>,
    /// Time of the first event; default: such that the last event happens "now".
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_event_time: Option<OffsetDateTime>,
    /// Milliseconds between consecutive events. Default 1000.
    pub interval_millis: u64,
    /// Seed for a reproducible mix; default random.
    pub seed: Option<u64>,
}

impl Default for GenerateEvents {
    fn default() -> Self {
        Self {
            count: 0,
            end_user_share: 0.2,
            service_ids: vec![DEFAULT_SERVICE_ID.to_owned()],
            first_event_time: None,
            interval_millis: 1000,
            seed: None,
        }
    }
}

impl GenerateEvents {
    /// `count` events with the default mix.
    pub fn count(count: usize) -> Self {
        Self {
            count,
            ..Self::default()
        }
    }
}

/// What [`Sandbox::generate_events`](crate::Sandbox::generate_events) appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generated {
    /// Number of events appended.
    pub events: usize,
    /// How many of them are end-user messages (each retrievable from `/v2/messages/{id}`).
    pub end_user_messages: usize,
    /// Every generated event has its own `messageId`: `first_message_id`, the next one, and so on.
    pub first_message_id: i64,
}

/// A message from an end user with chosen content, for
/// [`Sandbox::add_message`](crate::Sandbox::add_message). Adding it also appends its
/// `Electronic message from end user` event.
///
/// JSON form (control API): `{"messageId"?, "serviceId"?, "createdAt"?, "title", "body",
/// "attachments"?: [{"filename", "mediaType", "contentBase64"}], "sender"?: {...}, "thread"?: {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Message {
    /// Its id; `None` picks an unused one.
    pub message_id: Option<i64>,
    /// The service it was sent to; empty means [`DEFAULT_SERVICE_ID`].
    pub service_id: String,
    /// When it was sent; `None` means the sandbox's "now".
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// `electronic.title`.
    pub title: String,
    /// `electronic.body`.
    pub body: String,
    /// Attachments, served by `GET /v1/attachments/{attachmentId}`.
    pub attachments: Vec<Attachment>,
    /// The `sender` object as served; `None` gives a generated fictitious sender.
    pub sender: Option<Value>,
    /// The `electronic.thread` object as served, if any.
    pub thread: Option<Value>,
}

/// An attachment of a [`Message`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attachment {
    /// File name.
    pub filename: String,
    /// Media type, also the `Content-Type` of the download.
    pub media_type: String,
    /// The bytes; in JSON, standard base64 in `contentBase64`.
    #[serde(rename = "contentBase64", with = "base64_bytes")]
    pub content: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(D::Error::custom)
    }
}

/// One stored event. Generated events are only these 32 bytes; the JSON is derived when served.
pub(crate) struct StoredEvent {
    time_ms: i64,
    message_id: i64,
    kind: u32,
    service: u32,
    /// Present for events added one by one: their metadata and extra fields exactly as given.
    custom: Option<Box<CustomEvent>>,
}

struct CustomEvent {
    metadata: Map<String, Value>,
    extra: Map<String, Value>,
}

struct StoredMessage {
    created_ms: i64,
    custom: Option<Box<CustomMessage>>,
}

struct CustomMessage {
    title: String,
    body: String,
    attachments: Vec<String>,
    sender: Option<Value>,
    thread: Option<Value>,
}

/// A stored attachment, as served by `GET /v1/attachments/{id}`.
pub(crate) struct StoredAttachment {
    pub(crate) media_type: String,
    pub(crate) filename: String,
    pub(crate) content: Vec<u8>,
}

/// Strings stored once and referred to by index.
#[derive(Default)]
struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        // More than 4 billion distinct type or service names cannot happen in a test.
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        i
    }

    fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }
}

/// Everything the events and messages endpoints serve.
pub(crate) struct EventStore {
    events: Vec<StoredEvent>,
    kinds: Interner,
    services: Interner,
    messages: HashMap<i64, StoredMessage>,
    /// By `attachmentId`: a UUID string, as in DVV's API description.
    attachments: HashMap<String, StoredAttachment>,
    next_message_id: i64,
    /// Part of every continuation token, so tokens from another sandbox or from before a reset
    /// are refused instead of silently pointing somewhere else.
    nonce: u32,
}

impl EventStore {
    pub(crate) fn new() -> Self {
        let mut kinds = Interner::default();
        for kind in event_types::ALL {
            kinds.intern(kind);
        }
        Self {
            events: Vec::new(),
            kinds,
            services: Interner::default(),
            messages: HashMap::new(),
            attachments: HashMap::new(),
            next_message_id: 100_001,
            nonce: rand::random(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn message_count(&self) -> usize {
        self.messages.len()
    }

    fn claim_message_id(&mut self, id: i64) {
        self.next_message_id = self.next_message_id.max(id.saturating_add(1));
    }

    pub(crate) fn add(&mut self, event: Event, now: OffsetDateTime) {
        let time_ms = unix_ms(event.event_time.unwrap_or(now));
        if event.kind == event_types::END_USER_MESSAGE
            && let Some(id) = event.metadata.get("messageId").and_then(Value::as_i64)
        {
            self.claim_message_id(id);
            self.messages.entry(id).or_insert(StoredMessage {
                created_ms: time_ms,
                custom: None,
            });
        }
        let kind = self.kinds.intern(&event.kind);
        self.events.push(StoredEvent {
            time_ms,
            message_id: 0,
            kind,
            service: 0,
            custom: Some(Box::new(CustomEvent {
                metadata: event.metadata,
                extra: event.extra,
            })),
        });
    }

    pub(crate) fn add_message(&mut self, message: Message, now: OffsetDateTime) -> i64 {
        let id = message.message_id.unwrap_or(self.next_message_id);
        self.claim_message_id(id);
        let created_at = message.created_at.unwrap_or(now);
        let attachments = message
            .attachments
            .into_iter()
            .map(|a| {
                let attachment_id = attachment_uuid(rand::random());
                self.attachments.insert(
                    attachment_id.clone(),
                    StoredAttachment {
                        media_type: a.media_type,
                        filename: a.filename,
                        content: a.content,
                    },
                );
                attachment_id
            })
            .collect();
        self.messages.insert(
            id,
            StoredMessage {
                created_ms: unix_ms(created_at),
                custom: Some(Box::new(CustomMessage {
                    title: message.title,
                    body: message.body,
                    attachments,
                    sender: message.sender,
                    thread: message.thread,
                })),
            },
        );
        let service_id = if message.service_id.is_empty() {
            DEFAULT_SERVICE_ID
        } else {
            &message.service_id
        };
        self.add(Event::end_user_message(id, service_id).at(created_at), now);
        id
    }

    pub(crate) fn generate(
        &mut self,
        spec: &GenerateEvents,
        now: OffsetDateTime,
    ) -> Result<Generated, ControlError> {
        if !(0.0..=1.0).contains(&spec.end_user_share) {
            return Err(ControlError::new(
                "endUserShare must be between 0.0 and 1.0",
            ));
        }
        if spec.service_ids.is_empty() {
            return Err(ControlError::new("serviceIds must not be empty"));
        }
        let too_many = || ControlError::new("count × intervalMillis is too large");
        let interval = i64::try_from(spec.interval_millis).map_err(|_| too_many())?;
        let steps = i64::try_from(spec.count.saturating_sub(1)).map_err(|_| too_many())?;
        let span = interval.checked_mul(steps).ok_or_else(too_many)?;
        let first_ms = match spec.first_event_time {
            Some(first) => unix_ms(first),
            None => unix_ms(now) - span,
        };
        let services: Vec<u32> = spec
            .service_ids
            .iter()
            .map(|s| self.services.intern(s))
            .collect();
        let mut rng = spec
            .seed
            .map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64);
        let first_message_id = self.next_message_id;
        let mut end_user_messages = 0;
        self.events.reserve(spec.count);
        for step in 0..spec.count {
            let time_ms = first_ms + interval * step as i64;
            let message_id = self.next_message_id;
            self.next_message_id += 1;
            let service = services[rng.random_range(0..services.len())];
            // Indexes 0..9 of `kinds` are `event_types::ALL`, end-user message first.
            let kind = if rng.random_bool(spec.end_user_share) {
                end_user_messages += 1;
                self.messages.insert(
                    message_id,
                    StoredMessage {
                        created_ms: time_ms,
                        custom: None,
                    },
                );
                0
            } else {
                rng.random_range(1..event_types::ALL.len() as u32)
            };
            self.events.push(StoredEvent {
                time_ms,
                message_id,
                kind,
                service,
                custom: None,
            });
        }
        Ok(Generated {
            events: spec.count,
            end_user_messages,
            first_message_id,
        })
    }

    /// The page starting at event index `start`: up to `limit` events not older than `cutoff_ms`,
    /// and the index to continue from.
    pub(crate) fn page(
        &self,
        start: usize,
        limit: usize,
        cutoff_ms: i64,
    ) -> (Vec<EventView<'_>>, usize) {
        let mut page = Vec::with_capacity(limit.min(1000));
        let mut next = self.events.len();
        for (i, event) in self.events.iter().enumerate().skip(start) {
            if page.len() == limit {
                next = i;
                break;
            }
            if event.time_ms >= cutoff_ms {
                page.push(EventView { store: self, event });
            }
        }
        (page, next)
    }

    pub(crate) fn encode_cursor(&self, index: usize) -> String {
        encode_cursor(self.nonce, index as u64)
    }

    pub(crate) fn decode_cursor(&self, token: &str) -> Option<usize> {
        let index = usize::try_from(decode_cursor(self.nonce, token)?).ok()?;
        (index <= self.events.len()).then_some(index)
    }

    /// The `GET /v2/messages/{id}` body, unless unknown or past retention.
    pub(crate) fn message_json(&self, id: i64, cutoff_ms: i64) -> Option<Value> {
        let stored = self
            .messages
            .get(&id)
            .filter(|m| m.created_ms >= cutoff_ms)?;
        let created_at = rfc3339(stored.created_ms);
        let (title, body, attachments, sender, thread) = match &stored.custom {
            Some(custom) => (
                custom.title.clone(),
                custom.body.clone(),
                custom
                    .attachments
                    .iter()
                    .filter_map(|aid| {
                        let a = self.attachments.get(aid)?;
                        Some(json!({
                            "attachmentId": aid,
                            "filename": a.filename,
                            "mediaType": a.media_type,
                            "sizeBytes": a.content.len(),
                        }))
                    })
                    .collect(),
                custom.sender.clone(),
                custom.thread.clone(),
            ),
            None => (
                format!("Sandbox message {id}"),
                format!("Message {id} from a fictitious end user, generated by suomifi-sandbox."),
                Vec::new(),
                None,
                None,
            ),
        };
        let sender = sender.unwrap_or_else(|| {
            let person = format!("sandbox-person-{}", id % 1000);
            json!({ "mailboxOwner": { "id": person, "name": "Sandbox End User" } })
        });
        let mut electronic = json!({
            "messageId": id,
            "createdAt": created_at,
            "title": title,
            "body": body,
            "attachments": attachments,
        });
        if let Some(thread) = thread {
            electronic["thread"] = thread;
        }
        Some(json!({
            "messageId": id,
            "createdAt": created_at,
            "electronic": electronic,
            "sender": sender,
        }))
    }

    pub(crate) fn attachment(&self, id: &str) -> Option<&StoredAttachment> {
        self.attachments.get(id)
    }
}

/// One event of a page, serialized straight from storage.
pub(crate) struct EventView<'a> {
    store: &'a EventStore,
    event: &'a StoredEvent,
}

impl Serialize for EventView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (store, event) = (self.store, self.event);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("eventTime", &rfc3339(event.time_ms))?;
        map.serialize_entry("type", store.kinds.name(event.kind))?;
        match &event.custom {
            Some(custom) => {
                map.serialize_entry("metadata", &custom.metadata)?;
                for (key, value) in &custom.extra {
                    map.serialize_entry(key, value)?;
                }
            }
            None => map.serialize_entry(
                "metadata",
                &GeneratedMetadata {
                    event,
                    service: store.services.name(event.service),
                },
            )?,
        }
        map.end()
    }
}

/// Metadata of a generated event: `messageId`, `serviceId`, and the fields its type adds.
struct GeneratedMetadata<'a> {
    event: &'a StoredEvent,
    service: &'a str,
}

impl Serialize for GeneratedMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let id = self.event.message_id;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("messageId", &id)?;
        map.serialize_entry("serviceId", self.service)?;
        let kind = self.event.kind as usize;
        if kind == 0 {
            // End-user messages carry no externalId.
            return map.end();
        }
        map.serialize_entry("externalId", &format!("sandbox-external-{id}"))?;
        let tracking = || format!("JJFI{id:016}");
        match event_types::ALL.get(kind).copied() {
            Some(event_types::RECEIPT_CONFIRMED) => {
                map.serialize_entry("receiptConfirmedBy", "Sandbox Recipient")?;
            }
            Some(event_types::POSTI_RECEIPT_CONFIRMED) => {
                map.serialize_entry("postiTrackingCode", &tracking())?;
                map.serialize_entry("recipientSignature", "SANDBOX RECIPIENT")?;
            }
            Some(event_types::POSTI_RETURNED_TO_SENDER | event_types::POSTI_UNRESOLVED) => {
                map.serialize_entry("postiTrackingCode", &tracking())?;
            }
            _ => {}
        }
        map.end()
    }
}

/// A random (version 4) UUID in its canonical text form, from 128 random bits.
fn attachment_uuid(bits: u128) -> String {
    let v4 = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{v4:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

pub(crate) fn unix_ms(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Decodes as base64 "+/+/": every token contains `+` and `/` (and ends in `==`), so a client
/// that forgets to percent-encode it gets a 400 instead of passing by luck.
const CURSOR_MAGIC: [u8; 3] = [0xFB, 0xFF, 0xBF];

fn checksum(bytes: &[u8]) -> u8 {
    // FNV-1a folded to a byte: enough to catch a mangled token.
    let hash = bytes.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash.to_be_bytes().iter().fold(0, |acc, b| acc ^ b)
}

fn encode_cursor(nonce: u32, index: u64) -> String {
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&CURSOR_MAGIC);
    bytes.extend_from_slice(&nonce.to_be_bytes());
    bytes.extend_from_slice(&index.to_be_bytes());
    bytes.push(checksum(&bytes));
    STANDARD.encode(bytes)
}

fn decode_cursor(nonce: u32, token: &str) -> Option<u64> {
    let bytes = STANDARD.decode(token).ok()?;
    let (check, body) = bytes.split_last()?;
    if body.len() != 15 || !body.starts_with(&CURSOR_MAGIC) || checksum(body) != *check {
        return None;
    }
    if body[3..7] != nonce.to_be_bytes() {
        return None;
    }
    Some(u64::from_be_bytes(body[7..15].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_needs_percent_encoding() {
        let token = encode_cursor(7, 123_456);
        assert!(
            token.starts_with("+/+/") && token.ends_with("=="),
            "{token}"
        );
        assert_eq!(decode_cursor(7, &token), Some(123_456));
        assert_eq!(decode_cursor(8, &token), None, "another sandbox's token");
        assert_eq!(
            decode_cursor(7, &token.replace('+', " ")),
            None,
            "not percent-encoded"
        );
        assert_eq!(decode_cursor(7, "garbage"), None);
    }

    #[test]
    fn generated_events_are_compact() {
        assert!(std::mem::size_of::<StoredEvent>() <= 32);
    }

    #[test]
    fn page_skips_events_past_retention_and_resumes_at_end() {
        let mut store = EventStore::new();
        let now = OffsetDateTime::now_utc();
        store.add(Event::new("old").at(now - time::Duration::days(61)), now);
        store.add(Event::new("new").at(now), now);
        let cutoff = unix_ms(now - time::Duration::days(60));
        let (page, next) = store.page(0, 10, cutoff);
        assert_eq!(page.len(), 1);
        assert_eq!(next, 2);
        let (page, next) = store.page(next, 10, cutoff);
        assert!(page.is_empty());
        assert_eq!(next, 2);
    }

    #[test]
    fn generator_honours_seed_share_and_spacing() {
        let mut a = EventStore::new();
        let mut b = EventStore::new();
        let now = OffsetDateTime::now_utc();
        let spec = GenerateEvents {
            seed: Some(1),
            ..GenerateEvents::count(10_000)
        };
        let ga = a.generate(&spec, now).unwrap();
        let gb = b.generate(&spec, now).unwrap();
        assert_eq!(ga, gb);
        assert!((1500..2500).contains(&ga.end_user_messages), "{ga:?}");
        assert_eq!(a.events.last().unwrap().time_ms, unix_ms(now));
        assert_eq!(a.events[1].time_ms - a.events[0].time_ms, 1000);
        assert!(
            a.generate(
                &GenerateEvents {
                    end_user_share: 1.5,
                    ..GenerateEvents::count(1)
                },
                now
            )
            .is_err()
        );
    }
}
