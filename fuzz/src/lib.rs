//! The fuzz checks, one function per target: each feeds outside input to one of the project's
//! parsers and checks that it ends in a value or a typed error (never a panic), plus the
//! properties that input must keep (a value written back parses to the same value, a rendered
//! form re-reads to the same thing, an error message stays on one line).
//!
//! The `fuzz_targets/*.rs` binaries hand libFuzzer's input to these functions; `tests/replay.rs`
//! runs every kept seed and crash file through them under plain `cargo test`.

#![forbid(unsafe_code)]

use check_certificates::Config;
use check_certificates::certs::{
    CertInfo, SecretPayload, certificates_from_bytes, certificates_from_pem,
    certificates_from_pkcs12, certificates_from_secret, parse_chain,
};
use check_certificates::evaluate::Thresholds;
use check_certificates::targets::{Source, parse_host_port, parse_targets};
use rotate_password::{RotationEvent, Step};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use suomifi_shared::checkpoint::Checkpoint;
use suomifi_shared::secret::Credentials;
use suomifi_shared::sensitive::{AccessToken, Password};
use suomifi_shared::suomifi::{
    ApiBase, ApiError, ClientConfig, EventType, EventsPage, Message, RetryPolicy, SuomifiClient,
};

/// A fuzz check: panics when the input breaks a property.
pub type Check = fn(&[u8]);

/// Every target by name, for `tests/replay.rs`.
pub const TARGETS: &[(&str, Check)] = &[
    ("secret_json", secret_json),
    ("events_page", events_page),
    ("suomifi_responses", suomifi_responses),
    ("rotation_event", rotation_event),
    ("checkpoint", checkpoint),
    ("certificates", certificates),
    ("cert_targets", cert_targets),
];

/// The credentials secret (`SecretString`, always UTF-8): [`Credentials::parse`]. What it accepts
/// is written back ([`Credentials::to_secret_string`], as `createSecret` does) and must parse to
/// the same credentials, unknown keys included; the password never shows in `Debug`, and an
/// error never depends on (so never quotes) the password.
pub fn secret_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Credentials::parse(text) {
        Ok(creds) => {
            let written = creds.to_secret_string();
            let again = Credentials::parse(&written)
                .unwrap_or_else(|e| panic!("a secret we wrote does not parse: {e}"));
            assert!(again == creds, "the secret changed when written back");
            assert_eq!(format!("{:?}", creds.password), "***");
        }
        Err(e) => {
            // The error never depends on the password's value (so it can never quote it): the
            // same secret with another password of the same length fails with the same text.
            // (It may quote `apiUrl` and the operator's other text, which is not secret.)
            let message = e.to_string();
            if let Ok(serde_json::Value::Object(mut map)) =
                serde_json::from_str::<serde_json::Value>(text)
                && let Some(serde_json::Value::String(pw)) = map.get("password")
            {
                let other = "Z".repeat(pw.chars().count());
                if other != *pw {
                    map.insert("password".into(), serde_json::Value::String(other));
                    let again = Credentials::parse(&serde_json::Value::Object(map).to_string())
                        .err()
                        .map(|e| e.to_string());
                    assert_eq!(
                        again.as_deref(),
                        Some(message.as_str()),
                        "the error depends on the password"
                    );
                }
            }
        }
    }
}

/// `GET /v2/events` and `GET /v2/messages/{id}` bodies, as the client deserialises them. Unknown
/// event types are kept verbatim and never shadow a known one.
pub fn events_page(data: &[u8]) {
    if let Ok(page) = serde_json::from_slice::<EventsPage>(data) {
        for event in &page.events {
            assert_eq!(
                EventType::from_wire(event.event_type.as_str()),
                event.event_type
            );
        }
    }
    let _ = serde_json::from_slice::<Message>(data);
}

/// Statuses a fuzzed answer can have (1xx is hyper's business, not ours).
const STATUSES: &[u16] = &[
    200, 201, 204, 301, 302, 400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 504, 599,
];

/// Whole Suomi.fi answers (status, `traceId` header, body) to each of the client's calls: token,
/// change-password, an events page, a message. Input: byte 0 picks the status, byte 1 the call,
/// byte 2 the length of the `traceId` value that follows; the rest is the body. The client runs
/// against a one-shot loopback server that sends exactly that answer. Every outcome must be a
/// value or a typed [`ApiError`] whose message is one line (it goes to logs and e-mail subjects).
pub fn suomifi_responses(data: &[u8]) {
    let [status, call, trace_len, rest @ ..] = data else {
        return;
    };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let trace_len = usize::from(*trace_len).min(rest.len());
    let (trace, body) = rest.split_at(trace_len);
    let fixture = response_fixture();
    let mut answer = format!(
        "HTTP/1.1 {status} Fuzzed\r\ncontent-length: {}\r\nconnection: close\r\ncontent-type: application/json\r\n",
        body.len()
    )
    .into_bytes();
    if !trace.is_empty() {
        answer.extend_from_slice(b"traceId: ");
        answer.extend_from_slice(trace);
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(b"\r\n");
    answer.extend_from_slice(body);
    *fixture.answer.lock().expect("answer") = answer;

    let client = &fixture.client;
    let token = AccessToken::new("fuzz-access-token");
    let error = fixture.runtime.block_on(async {
        match call % 4 {
            0 => client
                .token("fuzz-user", &Password::new("fuzz-password"))
                .await
                .err(),
            1 => client
                .change_password(
                    &token,
                    &Password::new("fuzz-password"),
                    &Password::new("fuzz-new-password"),
                )
                .await
                .err(),
            2 => client.events_page(&token, Some("a+b/c==")).await.err(),
            _ => client.message(&token, 42).await.err(),
        }
    });
    if let Some(e) = error {
        check_api_error(&e);
    }
}

fn check_api_error(e: &ApiError) {
    let text = e.to_string();
    assert_one_line(&text);
    assert!(!text.contains("fuzz-password"), "a password in an error");
    assert!(!text.contains("fuzz-access-token"), "a token in an error");
    let _ = (e.kind(), e.trace_id(), e.outcome_unknown());
}

struct ResponseFixture {
    runtime: tokio::runtime::Runtime,
    client: SuomifiClient,
    answer: &'static Mutex<Vec<u8>>,
}

/// One loopback server thread and one client for the whole fuzzing process.
fn response_fixture() -> &'static ResponseFixture {
    static ANSWER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    static FIXTURE: OnceLock<ResponseFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                answer_once(conn, &ANSWER);
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = SuomifiClient::new(
            ApiBase::parse(&format!("http://{addr}")).expect("loopback base"),
            ClientConfig {
                timeout: Duration::from_secs(2),
                connect_timeout: Duration::from_secs(1),
                retry: RetryPolicy::none(),
            },
        )
        .expect("client");
        ResponseFixture {
            runtime,
            client,
            answer: &ANSWER,
        }
    })
}

/// Reads one request (head, then `content-length` bytes of body), sends the canned answer, closes.
fn answer_once(mut conn: TcpStream, answer: &Mutex<Vec<u8>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let body_len = loop {
        let Ok(n) = conn.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            break (end + 4 + len).saturating_sub(request.len());
        }
    };
    let mut left = body_len;
    while left > 0 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
    let answer = answer.lock().expect("answer").clone();
    let _ = conn.write_all(&answer);
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// The rotation event (`RotationEvent::from_json`): accepted events name a secret, a token and
/// one of the four steps; everything else is a typed error with a stable `error_type`.
pub fn rotation_event(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match RotationEvent::from_json(value) {
        Ok(ev) => {
            assert!(!ev.secret_id.is_empty() && !ev.token.is_empty());
            assert_eq!(Step::parse(ev.step.as_str()).ok(), Some(ev.step));
        }
        Err(e) => {
            assert!(
                ["RotatePassword.InvalidEvent", "RotatePassword.UnknownStep"]
                    .contains(&e.error_type()),
                "{}",
                e.error_type()
            );
        }
    }
}

/// The retriever's checkpoint ([`Checkpoint::parse`]): what it accepts, written back with
/// [`Checkpoint::to_json`], parses again to the same token and the same instant (to the
/// millisecond, the precision it is written with), and writing is then stable.
pub fn checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Checkpoint::parse(text) {
        Ok(cp) => {
            let written = cp.to_json();
            let again = Checkpoint::parse(&written)
                .unwrap_or_else(|e| panic!("a checkpoint we wrote does not parse: {e}"));
            assert_eq!(again.continuation_token, cp.continuation_token);
            let drift = (again.updated_at - cp.updated_at).abs();
            assert!(drift < time::Duration::milliseconds(1), "{drift}");
            assert_eq!(again.to_json(), written);
        }
        Err(e) => assert_one_line(&e.to_string()),
    }
}

/// Certificates in every form `check-certificates` reads: PEM, Base64 DER, raw DER, PKCS#12 with
/// a password, and secrets (text, JSON with keys, binary). Byte 0 picks the reader; for PKCS#12
/// byte 1 is the length of the password that follows. Every certificate a reader returns must
/// have readable facts, and its PEM rendering must read back to the same DER.
pub fn certificates(data: &[u8]) {
    let [mode, rest @ ..] = data else { return };
    let read = match mode % 6 {
        0 => certificates_from_bytes(rest, &Password::new("")),
        1 => certificates_from_pem(rest),
        2 => {
            let [len, rest @ ..] = rest else { return };
            let (pw, der) = rest.split_at(usize::from(*len).min(rest.len()));
            certificates_from_pkcs12(der, &Password::new(String::from_utf8_lossy(pw)))
        }
        3 => certificates_from_secret(
            &SecretPayload::Text(String::from_utf8_lossy(rest).into_owned()),
            Some("certificate"),
            Some("password"),
        ),
        4 => certificates_from_secret(&SecretPayload::Binary(rest.to_vec()), None, None),
        _ => certificates_from_secret(
            &SecretPayload::Text(String::from_utf8_lossy(rest).into_owned()),
            None,
            None,
        ),
    };
    // Errors: only that they are typed and render (their text may quote a secret's JSON keys,
    // which the operator chose; the log format escapes them).
    let chain = match read {
        Ok(chain) => chain,
        Err(e) => return drop(e.to_string()),
    };
    match parse_chain(&chain) {
        Ok(infos) => {
            for info in infos {
                check_pem_round_trip(&info);
            }
        }
        Err(e) => drop(e.to_string()),
    }
}

fn check_pem_round_trip(info: &CertInfo) {
    let back = certificates_from_pem(info.pem().as_bytes())
        .unwrap_or_else(|e| panic!("our own PEM does not read back: {e}"));
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].as_ref(), info.der.as_ref());
}

/// `CERT_TARGETS` and the other variables of `check-certificates` ([`Config::from_env`]):
/// the input is `CERT_TARGETS`, and its lines (split on `\n`) are also tried as `THRESHOLD_DAYS`
/// and as a `host:port`. Accepted TLS targets render back to a `host:port` that parses to the
/// same host and port.
pub fn cert_targets(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines().take(4) {
        let _ = Thresholds::parse(line);
        if let Ok((host, port)) = parse_host_port(line) {
            assert_eq!(parse_host_port(&host_port(&host, port)), Ok((host, port)));
        }
    }
    match parse_targets(text) {
        Ok(targets) => {
            for t in &targets {
                if let Source::Tls(ep) = &t.source {
                    assert_eq!(
                        parse_host_port(&host_port(&ep.host, ep.port)),
                        Ok((ep.host.clone(), ep.port))
                    );
                }
            }
        }
        // The operator's own text, quoted back to them so they can find the entry.
        Err(e) => drop(e.to_string()),
    }
    let mut env = vec![
        ("CERT_TARGETS", text.to_owned()),
        ("STATE_TABLE", "state".to_owned()),
    ];
    if let Some(days) = text.lines().nth(1) {
        env.push(("THRESHOLD_DAYS", days.to_owned()));
    }
    let config = Config::from_env(&suomifi_shared::config::Env::from_pairs(env));
    if let Err(e) = config {
        let _ = e.to_string();
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Error messages end up in log lines, e-mail subjects and chat: one line, no control characters.
fn assert_one_line(message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "an error message with a control character: {message:?}"
    );
}
