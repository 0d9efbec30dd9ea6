//! The sandbox answers as DVV's published OpenAPI description says (`openapi/`, a verbatim copy):
//! every answer a client written against that description reads is checked against the schema
//! the description gives for it — types, required fields, enums, `format: uuid` and `date-time`,
//! and the `type` discriminator of events.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use suomifi_sandbox::{
    Attachment, DEFAULT_USERNAME, Event, GenerateEvents, Message, Sandbox, SandboxConfig,
};

const DESCRIPTION: &str = include_str!("../openapi/suomifi-messages-api.yaml");

/// DVV's description as JSON.
fn description() -> Value {
    serde_norway::from_str(DESCRIPTION).expect("DVV's description parses as YAML")
}

/// The schema of `path`'s `method` answer with `status` (application/json).
fn response_schema(doc: &Value, path: &str, method: &str, status: &str) -> Value {
    doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
}

/// Follows `$ref`s within the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut s = schema;
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let pointer = r.strip_prefix('#').expect("local references only");
        s = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{r} resolves"));
    }
    s
}

/// Every way `value` breaks `schema`, with JSON paths.
fn violations(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut out = Vec::new();
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let chosen = schema["discriminator"]["propertyName"]
            .as_str()
            .and_then(|p| value.get(p))
            .and_then(Value::as_str)
            .and_then(|t| schema["discriminator"]["mapping"].get(t));
        match chosen {
            Some(target) => out.extend(violations(doc, target, value, at)),
            None if options
                .iter()
                .any(|o| violations(doc, o, value, at).is_empty()) => {}
            None => out.push(format!("{at}: matches none of oneOf")),
        }
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let type_ok = match ty {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => panic!("unknown type {other}"),
    };
    if !type_ok {
        out.push(format!("{at}: {value} is not of type {}", ty.unwrap_or("")));
        return out;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(format), Some(text)) =
        (schema.get("format").and_then(Value::as_str), value.as_str())
    {
        let ok = match format {
            "uuid" => is_uuid(text),
            "date-time" => {
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            }
            _ => true,
        };
        if !ok {
            out.push(format!("{at}: `{text}` is not a {format}"));
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for field in required.iter().filter_map(Value::as_str) {
            if value.get(field).is_none() {
                out.push(format!("{at}: required `{field}` missing"));
            }
        }
    }
    if let (Some(props), Some(object)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (name, sub) in props {
            if let Some(v) = object.get(name) {
                out.extend(violations(doc, sub, v, &format!("{at}.{name}")));
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            out.extend(violations(doc, items, v, &format!("{at}[{i}]")));
        }
    }
    out
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn assert_conforms(doc: &Value, schema: &Value, value: &Value, what: &str) {
    assert!(!schema.is_null(), "{what}: the description has a schema");
    let found = violations(doc, schema, value, "$");
    assert!(
        found.is_empty(),
        "{what} breaks DVV's description: {found:#?}\n{value:#}"
    );
}

#[test]
fn the_checker_catches_what_a_described_client_would_trip_over() {
    let doc = description();
    let schema = response_schema(&doc, "/v2/messages/{id}", "get", "200");
    let good = json!({
        "messageId": 1, "createdAt": "2026-11-30T10:00:00Z",
        "electronic": {"messageId": 1, "createdAt": "2026-11-30T10:00:00Z", "title": "t",
            "body": "b", "attachments": [{"attachmentId": "0b7e1f2c-3d4a-4b5c-8d6e-7f8091a2b3c4",
            "filename": "a.pdf", "mediaType": "application/pdf", "sizeBytes": 8}]},
    });
    assert!(violations(&doc, &schema, &good, "$").is_empty());
    // The sandbox's old shape: a numeric attachmentId.
    let mut numeric = good.clone();
    numeric["electronic"]["attachments"][0]["attachmentId"] = json!(500001);
    assert!(!violations(&doc, &schema, &numeric, "$").is_empty());
    let mut missing = good;
    missing["electronic"]
        .as_object_mut()
        .unwrap()
        .remove("title");
    assert!(!violations(&doc, &schema, &missing, "$").is_empty());
}

#[tokio::test]
async fn every_answer_a_client_reads_follows_dvvs_description() {
    let doc = description();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    sandbox
        .generate_events(&GenerateEvents::count(50))
        .expect("events generated");
    let message_id = sandbox.add_message(Message {
        title: "Hakemus".into(),
        body: "Liitteenä hakemus.".into(),
        attachments: vec![Attachment {
            filename: "hakemus.pdf".into(),
            media_type: "application/pdf".into(),
            content: b"%PDF-1.7".to_vec(),
        }],
        ..Message::default()
    });
    sandbox.add_event(Event::end_user_message(4242, "svc"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", sandbox.base_url());

    let answer = http
        .post(url("/v1/token"))
        .json(&json!({"username": DEFAULT_USERNAME, "password": sandbox.password()}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_conforms(
        &doc,
        &response_schema(&doc, "/v1/token", "post", "200"),
        &body,
        "token",
    );
    let token = body["access_token"].as_str().unwrap().to_owned();

    let refused: Value = http
        .post(url("/v1/token"))
        .json(&json!({"username": DEFAULT_USERNAME, "password": "wrong"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let error_schema = response_schema(&doc, "/v1/token", "post", "400");
    assert_conforms(&doc, &error_schema, &refused, "token refused");

    let events: Value = http
        .get(url("/v2/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 52);
    assert_conforms(
        &doc,
        &response_schema(&doc, "/v2/events", "get", "200"),
        &events,
        "events",
    );

    let message: Value = http
        .get(url(&format!("/v2/messages/{message_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message_schema = response_schema(&doc, "/v2/messages/{id}", "get", "200");
    assert_conforms(&doc, &message_schema, &message, "message with attachment");
    let attachment_id = message["electronic"]["attachments"][0]["attachmentId"]
        .as_str()
        .expect("attachmentId is a string");
    assert!(is_uuid(attachment_id), "{attachment_id}");
    let download = http
        .get(url(&format!("/v1/attachments/{attachment_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().as_ref(), b"%PDF-1.7");

    let generated: Value = http
        .get(url("/v2/messages/4242"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_conforms(&doc, &message_schema, &generated, "generated message");

    // A policy refusal: `validationErrors` items as DVV's `ValidationError` (no errorCode
    // outside its enum).
    let weak: Value = http
        .post(url("/v1/change-password"))
        .json(&json!({"accessToken": token, "currentPassword": sandbox.password(), "newPassword": "short"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schema = json!({"$ref": "#/components/schemas/ValidationErrorResponseV1"});
    assert_conforms(&doc, &schema, &weak, "change-password refusal");
    let item = json!({"$ref": "#/components/schemas/ValidationError"});
    for error in weak["validationErrors"]
        .as_array()
        .expect("validationErrors")
    {
        assert_conforms(&doc, &item, error, "validation error");
    }
    sandbox.shutdown().await;
}
