//! The Suomi.fi client against the sandbox (a real HTTP server), including every fault.

use std::time::Duration;
use suomifi_sandbox::{Endpoint, Event, Fault, FaultRule, RunningSandbox, Sandbox, SandboxConfig};
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{
    ApiBase, ApiError, ClientConfig, EventType, RetryPolicy, SuomifiClient,
};

const USER: &str = "system-1";
const PW: &str = "Initial-password-000000000000000000000!";

async fn sandbox() -> RunningSandbox {
    Sandbox::start(SandboxConfig::new(USER, PW))
        .await
        .expect("sandbox starts")
}

fn client(sb: &RunningSandbox) -> SuomifiClient {
    SuomifiClient::new(
        ApiBase::parse(&sb.base_url()).unwrap(),
        ClientConfig {
            timeout: Duration::from_millis(800),
            connect_timeout: Duration::from_millis(500),
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
            },
        },
    )
    .unwrap()
}

#[tokio::test]
async fn token_and_authentication_failures_are_typed() {
    let sb = sandbox().await;
    let c = client(&sb);
    let t = c.token(USER, &Password::new(PW)).await.unwrap();
    assert!(t.expires_in > 0);
    assert!(t.trace_id.0.is_some(), "traceId kept");
    let err = c.token(USER, &Password::new("wrong")).await.unwrap_err();
    assert!(
        matches!(err, ApiError::AuthenticationFailed { .. }),
        "{err:?}"
    );
    assert!(err.trace_id().is_some());
    assert!(
        !err.to_string().contains("wrong"),
        "no password in the error: {err}"
    );
    let err = c
        .events_page(&suomifi_shared::sensitive::AccessToken::new("nope"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn events_are_paged_with_percent_encoded_tokens_and_unknown_types_kept() {
    let sb = sandbox().await;
    sb.set_page_size(2).unwrap();
    let now = sb.now();
    sb.add_events([
        Event::end_user_message(1, "svc-a").at(now - time::Duration::hours(3)),
        Event::new("Electronic message read").at(now - time::Duration::hours(2)),
        Event::new("A type nobody has seen")
            .with_field("surprise", 1)
            .at(now - time::Duration::hours(1)),
        Event::end_user_message(2, "svc-b").at(now),
        Event::new("Posti: unresolved").at(now),
    ]);
    let c = client(&sb);
    let t = c.token(USER, &Password::new(PW)).await.unwrap();
    use futures::StreamExt;
    let mut pages = c.event_pages(&t.access_token, None);
    let mut sizes = Vec::new();
    let mut types = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        sizes.push(page.events.len());
        types.extend(page.events.into_iter().map(|e| e.event_type));
    }
    assert_eq!(sizes, vec![2, 2, 1, 0]);
    assert_eq!(types[0], EventType::EndUserMessage);
    assert_eq!(types[2], EventType::Other("A type nobody has seen".into()));
    assert_eq!(types[4], EventType::PostiUnresolved);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let sb = sandbox().await;
    let c = client(&sb);
    sb.add_fault(FaultRule::times(
        Endpoint::Token,
        Fault::ServerError { status: 503 },
        2,
    ))
    .unwrap();
    c.token(USER, &Password::new(PW))
        .await
        .expect("third attempt succeeds");
    assert_eq!(sb.state().requests.token, 3);
    sb.add_fault(FaultRule::always(
        Endpoint::Token,
        Fault::ServerError { status: 500 },
    ))
    .unwrap();
    let err = c.token(USER, &Password::new(PW)).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Server {
                status: 500,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
}

#[tokio::test]
async fn change_password_is_never_retried_and_a_lost_answer_is_outcome_unknown() {
    let sb = sandbox().await;
    let c = client(&sb);
    let t = c.token(USER, &Password::new(PW)).await.unwrap();
    let new = Password::new("New-password-1111111111111111111111111!");
    sb.add_fault(FaultRule::once(
        Endpoint::ChangePassword,
        Fault::LoseResponse,
    ))
    .unwrap();
    let err = c
        .change_password(&t.access_token, &Password::new(PW), &new)
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(sb.state().requests.change_password, 1, "not retried");
    assert_eq!(sb.password(), new.expose(), "the change was applied");
    assert!(!format!("{err} {err:?}").contains("New-password"));

    sb.add_fault(FaultRule::once(
        Endpoint::ChangePassword,
        Fault::ServerError { status: 502 },
    ))
    .unwrap();
    let err = c
        .change_password(&t.access_token, &new, &Password::new(PW))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Server { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn slow_answers_time_out() {
    let sb = sandbox().await;
    let c = client(&sb);
    sb.add_fault(FaultRule::always(
        Endpoint::Token,
        Fault::Delay { millis: 3_000 },
    ))
    .unwrap();
    let err = c.token(USER, &Password::new(PW)).await.unwrap_err();
    assert!(matches!(err, ApiError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn refusals_carry_the_servers_reason() {
    let sb = sandbox().await;
    let c = client(&sb);
    let t = c.token(USER, &Password::new(PW)).await.unwrap();
    let err = c
        .change_password(&t.access_token, &Password::new(PW), &Password::new("short"))
        .await
        .unwrap_err();
    match &err {
        ApiError::PasswordChangeRefused { reason, .. } => assert!(!reason.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("short"), "{err}");
    sb.add_fault(FaultRule::once(Endpoint::ChangePassword, Fault::CoolDown))
        .unwrap();
    let err = c
        .change_password(
            &t.access_token,
            &Password::new(PW),
            &Password::new("New-password-1111111111111111111111111!"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::PasswordChangeRefused { .. }),
        "{err:?}"
    );
    sb.add_fault(FaultRule::once(Endpoint::Token, Fault::RefuseToken))
        .unwrap();
    assert!(matches!(
        c.token(USER, &Password::new(PW)).await,
        Err(ApiError::AuthenticationFailed { .. })
    ));
}

#[tokio::test]
async fn a_dead_server_is_a_transport_error() {
    let sb = sandbox().await;
    let c = client(&sb);
    sb.shutdown().await;
    let err = c.token(USER, &Password::new(PW)).await.unwrap_err();
    assert!(
        matches!(err, ApiError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
}
