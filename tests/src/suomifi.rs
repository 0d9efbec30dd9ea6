//! The Suomi.fi side of the tests: the client settings the suites use against the sandbox, and
//! what a retriever does.

use std::time::Duration;
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{ApiBase, ClientConfig, HttpSuomifi, RetryPolicy, SuomifiApi};

/// Real retries with tiny delays: a test proves the retrying, not the waiting.
pub fn quick_retries() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
    }
}

/// What a retriever of `username` does: read the whole feed at `base_url`; the continuation
/// token it would resume from (the empty page's). Panics when the sandbox refuses.
pub async fn read_all(base_url: &str, username: &str, password: &str) -> String {
    let api = ApiBase::parse(base_url).expect("the sandbox's URL");
    let suomifi = HttpSuomifi::new(ClientConfig::default());
    let token = suomifi
        .token(&api, username, &Password::new(password))
        .await
        .expect("the sandbox's token");
    let mut from: Option<String> = None;
    loop {
        let page = suomifi
            .events_page(&api, &token.access_token, from.as_deref())
            .await
            .expect("a page of the sandbox's feed");
        from = Some(page.continuation_token);
        if page.events.is_empty() {
            return from.expect("set just above");
        }
    }
}
