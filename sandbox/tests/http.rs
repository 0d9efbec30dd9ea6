//! The sandbox driven over real HTTP, as a client under test would see it.

use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use suomifi_sandbox::{
    COOL_DOWN_REASON, Clock, DEFAULT_PASSWORD, DEFAULT_USERNAME, Endpoint, Event, Fault, FaultRule,
    GenerateEvents, Message, RunningSandbox, Sandbox, SandboxConfig, Times, event_types,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A password meeting the policy, different for each `tag`.
fn strong(tag: &str) -> String {
    format!("Strong-Pass-{tag}-0123456789-abcdefghij")
}

struct Fixture {
    sandbox: RunningSandbox,
    http: reqwest::Client,
}

impl Fixture {
    async fn start() -> Self {
        Self::with(SandboxConfig::default()).await
    }

    async fn with(config: SandboxConfig) -> Self {
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self { sandbox, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn request_token(&self, password: &str) -> reqwest::Response {
        self.post(
            "/v1/token",
            json!({"username": DEFAULT_USERNAME, "password": password}),
        )
        .await
    }

    async fn token(&self) -> String {
        let response = self.request_token(&self.sandbox.password()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A token for another system's user.
    async fn token_for(&self, user: &str, password: &str) -> String {
        let answer = self
            .post("/v1/token", json!({"username": user, "password": password}))
            .await;
        assert_eq!(answer.status(), StatusCode::OK, "{user}");
        let body: Value = answer.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn change_password(&self, token: &str, current: &str, new: &str) -> reqwest::Response {
        self.post(
            "/v1/change-password",
            json!({"accessToken": token, "currentPassword": current, "newPassword": new}),
        )
        .await
    }

    /// `GET /v2/events`, the continuation token percent-encoded as a client must.
    async fn events(&self, token: &str, continuation: Option<&str>) -> reqwest::Response {
        let mut url = Url::parse(&self.url("/v2/events")).unwrap();
        if let Some(continuation) = continuation {
            url.query_pairs_mut()
                .append_pair("continuationToken", continuation);
        }
        self.http.get(url).bearer_auth(token).send().await.unwrap()
    }

    async fn events_page(&self, token: &str, continuation: Option<&str>) -> (Vec<Value>, String) {
        let response = self.events(token, continuation).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        (
            body["events"]
                .as_array()
                .expect("events always present")
                .clone(),
            body["continuationToken"]
                .as_str()
                .expect("continuationToken always present")
                .to_owned(),
        )
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(&format!("/__sandbox{path}")));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }
}

async fn reason_of(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["reason"]
        .as_str()
        .expect("error bodies have a reason")
        .to_owned()
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap()
}

/// Whole seconds: stored times have millisecond precision.
fn now_s() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

#[tokio::test]
async fn token_is_issued_for_right_credentials_and_refused_with_400_otherwise() {
    let f = Fixture::start().await;

    let response = f.request_token(DEFAULT_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().len() >= 32);

    let wrong = f.request_token("wrong").await;
    assert_eq!(
        wrong.status(),
        StatusCode::BAD_REQUEST,
        "not 401: as the real API"
    );
    assert!(!reason_of(wrong).await.is_empty());

    let malformed = f
        .http
        .post(f.url("/v1/token"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(reason_of(malformed).await.contains("Malformed"));

    let state = f.sandbox.state();
    assert_eq!(state.tokens_issued, 1);
    assert_eq!(
        state.failed_logins, 1,
        "the wrong password counts, the malformed body does not"
    );
    assert_eq!(state.requests.token, 3);
}

#[tokio::test]
async fn every_response_carries_its_own_trace_id() {
    let f = Fixture::start().await;
    let mut seen = std::collections::HashSet::new();
    for response in [
        f.request_token(DEFAULT_PASSWORD).await,
        f.request_token("wrong").await,
        f.http.get(f.url("/v2/events")).send().await.unwrap(),
        f.http.get(f.url("/no/such/path")).send().await.unwrap(),
        f.http.get(f.url("/__sandbox/state")).send().await.unwrap(),
    ] {
        let trace_id = response
            .headers()
            .get("traceId")
            .expect("traceId header")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(seen.insert(trace_id), "trace ids are unique");
    }
}

#[tokio::test]
async fn events_need_a_valid_token_sent_as_bearer_or_bare() {
    let f = Fixture::start().await;
    let token = f.token().await;

    let missing = f.http.get(f.url("/v2/events")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(!reason_of(missing).await.is_empty());
    assert_eq!(
        f.events("not-a-token", None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    assert_eq!(f.events(&token, None).await.status(), StatusCode::OK);
    let bare = f
        .http
        .get(f.url("/v2/events"))
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::OK);

    f.sandbox.advance_clock(time::Duration::seconds(3601));
    let expired = f.events(&token, None).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert!(reason_of(expired).await.contains("expired"));
}

#[tokio::test]
async fn events_are_paged_with_opaque_tokens_that_must_be_percent_encoded() {
    let f = Fixture::start().await;
    f.sandbox
        .generate_events(&GenerateEvents::count(2_500))
        .unwrap();
    let token = f.token().await;

    let mut sizes = Vec::new();
    let mut continuation: Option<String> = None;
    let mut first_token = None;
    loop {
        let (events, next) = f.events_page(&token, continuation.as_deref()).await;
        sizes.push(events.len());
        first_token.get_or_insert_with(|| next.clone());
        continuation = Some(next);
        if events.is_empty() {
            break;
        }
    }
    assert_eq!(sizes, [1000, 1000, 500, 0]);

    let sample = first_token.unwrap();
    assert!(
        sample.contains('+') && sample.contains('/') && sample.contains('='),
        "{sample}"
    );
    let unencoded = f
        .http
        .get(format!(
            "{}?continuationToken={sample}",
            f.url("/v2/events")
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(unencoded.status(), StatusCode::BAD_REQUEST);
    assert!(reason_of(unencoded).await.contains("continuationToken"));
    assert_eq!(
        f.events(&token, Some("bm90IGEgdG9rZW4=")).await.status(),
        StatusCode::BAD_REQUEST
    );

    // The token handed out at the end resumes there: a poller storing it later sees new events.
    let end = continuation.unwrap();
    let (again, same_place) = f.events_page(&token, Some(&end)).await;
    assert!(again.is_empty());
    f.sandbox
        .add_events((1..=3).map(|i| Event::end_user_message(i, "svc")));
    let (new, _) = f.events_page(&token, Some(&same_place)).await;
    assert_eq!(new.len(), 3);

    f.sandbox.reset();
    let token = f.token().await;
    assert_eq!(
        f.events(&token, Some(&end)).await.status(),
        StatusCode::BAD_REQUEST,
        "tokens from before a reset are refused"
    );
}

#[tokio::test]
async fn page_size_is_configurable() {
    let f = Fixture::start().await;
    f.sandbox.set_page_size(2).unwrap();
    assert!(f.sandbox.set_page_size(0).is_err());
    f.sandbox
        .add_events((1..=5).map(|i| Event::new("Custom").with_metadata("n", i)));
    let token = f.token().await;
    let (page, next) = f.events_page(&token, None).await;
    assert_eq!(page.len(), 2);
    let (page, _) = f.events_page(&token, Some(&next)).await;
    assert_eq!(page[0]["metadata"]["n"], 3);
}

#[tokio::test]
async fn events_are_served_with_unknown_types_and_extra_fields_as_given() {
    let f = Fixture::start().await;
    let at = now_s();
    let event = json!({
        "eventTime": rfc3339(at),
        "type": "Something new",
        "metadata": {"messageId": 7, "serviceId": "svc", "futureField": {"x": [1, 2]}},
        "alsoNew": true,
    });
    f.sandbox
        .add_event(serde_json::from_value(event.clone()).unwrap());
    f.sandbox
        .generate_events(&GenerateEvents {
            end_user_share: 0.0,
            seed: Some(3),
            ..GenerateEvents::count(200)
        })
        .unwrap();
    let token = f.token().await;
    let (events, _) = f.events_page(&token, None).await;
    assert_eq!(events[0], event);

    let generated = &events[1..];
    assert!(generated.iter().all(|e| {
        let kind = e["type"].as_str().unwrap();
        event_types::ALL.contains(&kind)
            && kind != event_types::END_USER_MESSAGE
            && e["metadata"]["messageId"].is_i64()
            && e["metadata"]["serviceId"] == "sandbox-service"
            && OffsetDateTime::parse(e["eventTime"].as_str().unwrap(), &Rfc3339).is_ok()
    }));
    let kinds: std::collections::HashSet<_> = generated
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 8, "all other standard types appear");
    let posti = generated
        .iter()
        .find(|e| e["type"] == event_types::POSTI_RECEIPT_CONFIRMED)
        .unwrap();
    assert!(posti["metadata"]["postiTrackingCode"].is_string());
}

#[tokio::test]
async fn data_past_the_60_day_retention_is_gone() {
    let f = Fixture::start().await;
    let now = now_s();
    f.sandbox.add_events([
        Event::end_user_message(1, "svc").at(now - time::Duration::days(61)),
        Event::end_user_message(2, "svc").at(now - time::Duration::days(59)),
    ]);
    let token = f.token().await;
    let (events, _) = f.events_page(&token, None).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["metadata"]["messageId"], 2);
    let gone = f
        .http
        .get(f.url("/v2/messages/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    f.sandbox
        .set_clock(Clock::Fixed(now + time::Duration::days(2)));
    let token = f.token().await;
    let (events, _) = f.events_page(&token, None).await;
    assert!(events.is_empty(), "{events:?}");
}

#[tokio::test]
async fn end_user_messages_and_attachments_are_retrievable() {
    let f = Fixture::start().await;
    f.sandbox.add_event(Event::end_user_message(4242, "svc"));
    let id = f.sandbox.add_message(Message {
        title: "Hello".into(),
        body: "Body text".into(),
        attachments: vec![suomifi_sandbox::Attachment {
            filename: "a.pdf".into(),
            media_type: "application/pdf".into(),
            content: b"%PDF-1.7".to_vec(),
        }],
        ..Message::default()
    });
    let token = f.token().await;
    let get = |path: String| f.http.get(f.url(&path)).bearer_auth(&token).send();

    let generated: Value = get("/v2/messages/4242".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(generated["messageId"], 4242);
    assert_eq!(generated["electronic"]["messageId"], 4242);
    assert!(generated["electronic"]["title"].is_string());
    assert!(generated["sender"]["mailboxOwner"]["name"].is_string());

    let chosen: Value = get(format!("/v2/messages/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chosen["electronic"]["title"], "Hello");
    let attachment = &chosen["electronic"]["attachments"][0];
    assert_eq!(attachment["sizeBytes"], 8);
    let download = get(format!(
        "/v1/attachments/{}",
        attachment["attachmentId"].as_str().expect("a string id")
    ))
    .await
    .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().as_ref(), b"%PDF-1.7");

    let (events, _) = f.events_page(&token, None).await;
    assert_eq!(events.len(), 2, "add_message also appends its event");
    assert_eq!(events[1]["metadata"]["messageId"], id);

    let unknown = get("/v2/messages/999".into()).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(!reason_of(unknown).await.is_empty());
    assert_eq!(
        get("/v2/messages/abc".into()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get("/v1/attachments/1".into()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let unauthorized = f.http.get(f.url("/v2/messages/4242")).send().await.unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_change_takes_effect_and_earlier_tokens_stay_valid_by_default() {
    let f = Fixture::start().await;
    let token = f.token().await;
    let new = strong("one");

    let response = f.change_password(&token, DEFAULT_PASSWORD, &new).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));

    assert_eq!(
        f.request_token(DEFAULT_PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(f.request_token(&new).await.status(), StatusCode::OK);
    assert_eq!(f.events(&token, None).await.status(), StatusCode::OK);
    let state = f.sandbox.state();
    assert_eq!(state.password, new);
    assert_eq!(state.password_changes, 1);
    assert!(state.last_password_change.is_some());
    assert!(
        !format!("{state:?}").contains(&new),
        "Debug hides the password"
    );
}

#[tokio::test]
async fn earlier_tokens_are_invalidated_when_configured() {
    let mut config = SandboxConfig::default();
    config.settings.invalidate_tokens_on_password_change = true;
    let f = Fixture::with(config).await;
    let token = f.token().await;
    let response = f
        .change_password(&token, DEFAULT_PASSWORD, &strong("x"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        f.events(&token, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn password_change_refusals_say_why() {
    let f = Fixture::start().await;
    let token = f.token().await;
    let good = strong("good");

    let cases = [
        (
            "bad-token",
            DEFAULT_PASSWORD.to_owned(),
            good.clone(),
            "access token",
        ),
        (
            token.as_str(),
            "wrong".to_owned(),
            good.clone(),
            "Current password",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            "Sh0rt-pass".to_owned(),
            "at least 32 characters",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            good.to_lowercase(),
            "upper case",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            good.to_uppercase(),
            "lower case",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            good.replace(char::is_numeric, "n"),
            "number",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            good.replace('-', "x"),
            "symbol",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            format!("{good}\\"),
            "backslash",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            format!("{good} x"),
            "whitespace",
        ),
        (
            token.as_str(),
            DEFAULT_PASSWORD.to_owned(),
            DEFAULT_PASSWORD.to_owned(),
            "differ",
        ),
    ];
    for (access_token, current, new, expected) in cases {
        let response = f.change_password(access_token, &current, &new).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{expected}");
        let reason = reason_of(response).await;
        assert!(
            reason.contains(expected),
            "{reason:?} should mention {expected:?}"
        );
    }
    let body: Value = f
        .change_password(&token, DEFAULT_PASSWORD, "short")
        .await
        .json()
        .await
        .unwrap();
    assert!(body["validationErrors"].as_array().unwrap().len() >= 3);

    let malformed = f
        .post("/v1/change-password", json!({"accessToken": token}))
        .await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(f.sandbox.state().password_changes, 0);
    assert_eq!(f.sandbox.password(), DEFAULT_PASSWORD);
}

#[tokio::test]
async fn recent_passwords_are_refused_when_history_is_on() {
    let mut config = SandboxConfig::default();
    config.settings.password_history = 2;
    let f = Fixture::with(config).await;
    let token = f.token().await;
    let (a, b) = (strong("a"), strong("b"));
    assert!(
        f.change_password(&token, DEFAULT_PASSWORD, &a)
            .await
            .status()
            .is_success()
    );
    assert!(
        f.change_password(&token, &a, &b)
            .await
            .status()
            .is_success()
    );
    let again = f.change_password(&token, &b, DEFAULT_PASSWORD).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(reason_of(again).await.contains("used recently"));
}

#[tokio::test]
async fn cool_down_refuses_changes_until_it_has_passed() {
    let f = Fixture::start().await;
    f.sandbox.set_cool_down(Duration::from_secs(3600));
    let token = f.token().await;
    let (a, b) = (strong("a"), strong("b"));
    assert!(
        f.change_password(&token, DEFAULT_PASSWORD, &a)
            .await
            .status()
            .is_success()
    );

    let early = f.change_password(&token, &a, &b).await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reason_of(early).await, COOL_DOWN_REASON);

    f.sandbox.advance_clock(time::Duration::seconds(3600));
    let token = f.token().await;
    assert!(
        f.change_password(&token, &a, &b)
            .await
            .status()
            .is_success()
    );
}

#[tokio::test]
async fn server_error_fault_answers_5xx_and_changes_nothing() {
    let f = Fixture::start().await;
    let token = f.token().await;
    f.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::ServerError { status: 503 },
        ))
        .unwrap();
    let new = strong("n");
    let failed = f.change_password(&token, DEFAULT_PASSWORD, &new).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(failed.headers().contains_key("traceId"));
    assert!(!reason_of(failed).await.is_empty());
    assert_eq!(f.sandbox.password(), DEFAULT_PASSWORD);

    assert!(
        f.change_password(&token, DEFAULT_PASSWORD, &new)
            .await
            .status()
            .is_success()
    );
    assert!(f.sandbox.faults().is_empty(), "a once-rule is used up");
}

#[tokio::test]
async fn lose_response_fault_applies_the_change_but_the_client_gets_a_transport_error() {
    let f = Fixture::start().await;
    let token = f.token().await;
    f.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::LoseResponse,
        ))
        .unwrap();
    let new = strong("lost");
    let started = Instant::now();
    let error = f
        .http
        .post(f.url("/v1/change-password"))
        .json(
            &json!({"accessToken": token, "currentPassword": DEFAULT_PASSWORD, "newPassword": new}),
        )
        .send()
        .await
        .expect_err("no answer arrives");
    assert!(
        !error.is_timeout(),
        "the connection is closed, not left hanging: {error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let state = f.sandbox.state();
    assert_eq!(state.password, new, "the change happened");
    assert_eq!(state.password_changes, 1);
    assert_eq!(
        f.request_token(&new).await.status(),
        StatusCode::OK,
        "server still serves"
    );
}

#[tokio::test]
async fn lose_response_on_token_issues_a_token_nobody_receives() {
    let f = Fixture::start().await;
    f.sandbox
        .add_fault(FaultRule::once(Endpoint::Any, Fault::LoseResponse))
        .unwrap();
    let result = f
        .http
        .post(f.url("/v1/token"))
        .json(&json!({"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}))
        .send()
        .await;
    assert!(result.is_err());
    assert_eq!(f.sandbox.state().tokens_issued, 1);
}

#[tokio::test]
async fn delay_fault_outlasts_the_client_timeout_but_the_change_is_made() {
    let f = Fixture::start().await;
    let token = f.token().await;
    f.sandbox
        .add_fault(FaultRule::once(
            Endpoint::ChangePassword,
            Fault::Delay { millis: 2_000 },
        ))
        .unwrap();
    let new = strong("slow");
    let error = f
        .http
        .post(f.url("/v1/change-password"))
        .timeout(Duration::from_millis(300))
        .json(
            &json!({"accessToken": token, "currentPassword": DEFAULT_PASSWORD, "newPassword": new}),
        )
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(f.sandbox.password(), new);

    // With a patient client the answer arrives, correct, after the delay.
    f.sandbox
        .add_fault(FaultRule::once(
            Endpoint::Events,
            Fault::Delay { millis: 200 },
        ))
        .unwrap();
    let started = Instant::now();
    assert_eq!(f.events(&token, None).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn cool_down_and_refuse_token_faults_give_the_real_refusals() {
    let f = Fixture::start().await;
    f.sandbox
        .add_fault(FaultRule::once(Endpoint::Any, Fault::CoolDown))
        .unwrap();
    f.sandbox
        .add_fault(FaultRule::times(Endpoint::Token, Fault::RefuseToken, 2))
        .unwrap();

    for _ in 0..2 {
        let refused = f.request_token(DEFAULT_PASSWORD).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
    let token = f.token().await;
    let refused = f
        .change_password(&token, DEFAULT_PASSWORD, &strong("c"))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reason_of(refused).await, COOL_DOWN_REASON);
    assert_eq!(f.sandbox.state().password_changes, 0);
    assert!(
        f.change_password(&token, DEFAULT_PASSWORD, &strong("c"))
            .await
            .status()
            .is_success()
    );
}

#[tokio::test]
async fn an_always_fault_holds_until_cleared() {
    let f = Fixture::start().await;
    let token = f.token().await;
    f.sandbox
        .add_fault(FaultRule::always(
            Endpoint::Any,
            Fault::ServerError { status: 502 },
        ))
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            f.events(&token, None).await.status(),
            StatusCode::BAD_GATEWAY
        );
    }
    assert_eq!(f.sandbox.faults()[0].times, Times::Always);
    f.sandbox.clear_faults();
    assert_eq!(f.events(&token, None).await.status(), StatusCode::OK);
    assert_eq!(f.sandbox.state().requests.events, 4);
}

#[tokio::test]
async fn control_api_works_over_http() {
    use reqwest::Method;
    let f = Fixture::start().await;

    let (status, state) = f.control(Method::GET, "/state", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["password"], DEFAULT_PASSWORD);
    assert_eq!(state["requests"]["events"], 0);

    let new = strong("http");
    let (status, _) = f
        .control(Method::PUT, "/password", Some(json!({"password": new})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(f.sandbox.password(), new);
    assert_eq!(
        f.sandbox.state().password_changes,
        0,
        "setting is not changing"
    );

    let at = rfc3339(now_s());
    let (status, added) = f
        .control(
            Method::POST,
            "/events",
            Some(json!([{"eventTime": at, "type": "Odd", "metadata": {"k": 1}, "x": 2}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["added"], 1);
    let (_, generated) = f
        .control(
            Method::POST,
            "/events/generate",
            Some(json!({"count": 10, "endUserShare": 1.0, "serviceIds": ["s1"], "seed": 1})),
        )
        .await;
    assert_eq!(generated["events"], 10);
    assert_eq!(generated["endUserMessages"], 10);
    let (_, message) = f
        .control(
            Method::POST,
            "/messages",
            Some(json!({"title": "T", "body": "B"})),
        )
        .await;
    assert!(message["messageId"].is_i64());
    let (_, added) = f
        .control(
            Method::POST,
            "/events",
            Some(json!({"events": [{"type": "A"}, {"type": "B"}]})),
        )
        .await;
    assert_eq!(added["added"], 2);
    let (_, added) = f
        .control(Method::POST, "/events", Some(json!({"type": "Single"})))
        .await;
    assert_eq!(added["added"], 1);
    let (status, refused) = f
        .control(Method::POST, "/events", Some(json!([{"metadata": {}}])))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["reason"].as_str().unwrap().contains("type"),
        "{refused}"
    );
    assert_eq!(f.sandbox.state().events_stored, 15);

    let (status, faults) = f
        .control(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": "events", "fault": {"kind": "serverError", "status": 500}, "times": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(faults["faults"][0]["times"], 2);
    let (status, refused) = f
        .control(
            Method::POST,
            "/faults",
            Some(json!({"faults": [
                {"endpoint": "token", "fault": {"kind": "refuseToken"}},
                {"endpoint": "events", "fault": {"kind": "serverError", "status": 404}},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["reason"].as_str().unwrap().contains("500-599"));
    assert_eq!(f.sandbox.faults().len(), 1, "a refused list queues nothing");
    let token = f.token().await;
    assert_eq!(
        f.events(&token, None).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let (_, listed) = f.control(Method::GET, "/faults", None).await;
    assert_eq!(listed["faults"][0]["times"], 1);
    f.control(Method::DELETE, "/faults", None).await;
    assert!(f.sandbox.faults().is_empty());

    let (_, clock) = f
        .control(
            Method::PUT,
            "/clock",
            Some(json!({"now": "2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(clock["now"], "2030-01-01T00:00:00Z");
    let (_, clock) = f
        .control(Method::PUT, "/clock", Some(json!({"advanceSeconds": 60})))
        .await;
    assert_eq!(clock["now"], "2030-01-01T00:01:00Z");
    let (status, _) = f
        .control(
            Method::PUT,
            "/clock",
            Some(json!({"advanceSeconds": 1, "offsetSeconds": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    f.control(Method::PUT, "/clock", Some(json!({}))).await;
    assert!((f.sandbox.now() - OffsetDateTime::now_utc()).abs() < time::Duration::minutes(1));

    let (status, settings) = f
        .control(
            Method::PATCH,
            "/settings",
            Some(json!({"pageSize": 5, "coolDownSecs": 10})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["pageSize"], 5);
    assert_eq!(settings["tokenLifetimeSecs"], 3600, "untouched fields stay");
    let (status, _) = f
        .control(Method::PATCH, "/settings", Some(json!({"pageSize": 0})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .control(
            Method::PATCH,
            "/settings",
            Some(json!({"noSuchSetting": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = f.control(Method::POST, "/reset", None).await;
    assert_eq!(status, StatusCode::OK);
    let state = f.sandbox.state();
    assert_eq!(state.password, DEFAULT_PASSWORD);
    assert_eq!(state.events_stored, 0);
    assert_eq!(state.settings.page_size, 1000);
    assert_eq!(state.requests.events, 0);
}

#[tokio::test]
async fn a_million_generated_events_are_served_from_the_first_page() {
    let f = Fixture::start().await;
    let generated = f
        .sandbox
        .generate_events(&GenerateEvents::count(1_000_000))
        .unwrap();
    let token = f.token().await;
    let (events, next) = f.events_page(&token, None).await;
    assert_eq!(events.len(), 1000);
    assert_eq!(
        events[0]["metadata"]["messageId"],
        generated.first_message_id
    );
    let (events, _) = f.events_page(&token, Some(&next)).await;
    assert_eq!(
        events[0]["metadata"]["messageId"],
        generated.first_message_id + 1000
    );
    assert_eq!(f.sandbox.state().events_stored, 1_000_000);
}

/// The benchmark's load end to end; about 30 s in a debug build, hence opt-in:
/// `cargo test -p suomifi-sandbox -- --ignored`.
#[tokio::test]
#[ignore = "slow in debug builds"]
async fn a_million_events_are_served_in_pages_of_a_thousand() {
    let f = Fixture::start().await;
    let generated = f
        .sandbox
        .generate_events(&GenerateEvents {
            seed: Some(7),
            ..GenerateEvents::count(1_000_000)
        })
        .unwrap();
    assert_eq!(generated.events, 1_000_000);
    let token = f.token().await;
    let mut continuation: Option<String> = None;
    let mut total = 0;
    let mut pages = 0;
    loop {
        let (events, next) = f.events_page(&token, continuation.as_deref()).await;
        if events.is_empty() {
            break;
        }
        assert!(events.len() <= 1000);
        total += events.len();
        pages += 1;
        continuation = Some(next);
    }
    assert_eq!((total, pages), (1_000_000, 1_000));
    assert_eq!(
        f.sandbox.state().messages_stored,
        generated.end_user_messages
    );
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let f = Fixture::start().await;
    let url = f.url("/v1/token");
    f.sandbox.shutdown().await;
    assert!(f.http.post(url).body("{}").send().await.is_err());
}

#[test]
fn start_in_thread_serves_callers_with_their_own_runtime() {
    let sandbox = Sandbox::start_in_thread(SandboxConfig::new("user", strong("t"))).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/v1/token", sandbox.base_url()))
            .json(&json!({"username": "user", "password": strong("t")}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sandbox.state().tokens_issued, 1);
    runtime.block_on(sandbox.shutdown());
}

#[tokio::test]
async fn several_systems_each_have_their_own_password_events_and_cool_down() {
    let f =
        Fixture::with(SandboxConfig::default().with_system("early-education", strong("edu-start")))
            .await;
    f.sandbox.set_cool_down(Duration::from_secs(3600));
    let edu = f
        .sandbox
        .system("early-education")
        .expect("configured system");
    let social = f
        .sandbox
        .add_system("social-services", strong("social-start"))
        .expect("added at run time");
    assert_eq!(
        f.sandbox.systems(),
        [DEFAULT_USERNAME, "early-education", "social-services"]
    );
    assert!(
        f.sandbox.add_system("social-services", "x").is_err(),
        "a duplicate is refused"
    );
    edu.add_event(Event::end_user_message(7, "daycare"));
    social.generate_events(&GenerateEvents::count(3)).unwrap();

    let first = f.token_for(DEFAULT_USERNAME, &f.sandbox.password()).await;
    let edu_token = f.token_for("early-education", &edu.password()).await;
    let social_token = f.token_for("social-services", &social.password()).await;
    // One system's password is not another's.
    let crossed = f
        .post(
            "/v1/token",
            json!({"username": "early-education", "password": social.password()}),
        )
        .await;
    assert_eq!(crossed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(edu.state().failed_logins, 1);
    assert_eq!(social.state().failed_logins, 0);

    // Each token reads its own system's events, and a continuation token is not portable.
    assert_eq!(f.events_page(&first, None).await.0.len(), 0);
    let (edu_events, edu_next) = f.events_page(&edu_token, None).await;
    assert_eq!(edu_events.len(), 1);
    assert_eq!(edu_events[0]["metadata"]["messageId"], 7);
    assert_eq!(f.events_page(&social_token, None).await.0.len(), 3);
    assert_eq!(
        f.events(&social_token, Some(&edu_next)).await.status(),
        StatusCode::BAD_REQUEST
    );

    // A change moves that system's password and starts that system's cool-down only.
    let changed = f
        .change_password(&edu_token, &edu.password(), &strong("edu-next"))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(edu.password(), strong("edu-next"));
    assert_eq!(edu.state().password_changes, 1);
    assert_eq!(social.password(), strong("social-start"));
    let other = f
        .change_password(&social_token, &social.password(), &strong("social-next"))
        .await;
    assert_eq!(other.status(), StatusCode::OK, "no shared cool-down");
    let again = f
        .change_password(&edu_token, &edu.password(), &strong("edu-third"))
        .await;
    assert_eq!(reason_of(again).await, suomifi_sandbox::COOL_DOWN_REASON);

    // Over HTTP: list, add, and per-system control calls with ?system=.
    let (status, listed) = f.control(reqwest::Method::GET, "/systems", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["systems"].as_array().unwrap().len(), 3);
    let (status, _) = f
        .control(
            reqwest::Method::POST,
            "/systems",
            Some(json!({"username": "case-management", "password": strong("case")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .control(
            reqwest::Method::POST,
            "/events?system=case-management",
            Some(json!([{"type": "Electronic message from end user", "metadata": {"messageId": 9, "serviceId": "s"}}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, state) = f
        .control(reqwest::Method::GET, "/state?system=case-management", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["username"], "case-management");
    assert_eq!(state["eventsStored"], 1);
    let (status, _) = f
        .control(reqwest::Method::GET, "/state?system=nobody", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A reset returns to the start configuration: the added systems are gone.
    f.sandbox.reset();
    assert_eq!(f.sandbox.systems(), [DEFAULT_USERNAME, "early-education"]);
    assert_eq!(edu.password(), strong("edu-start"));
}
