//! The backlog-scan floor: a bare Suomi.fi client that gets a token and pages through
//! `GET /v2/events` from a continuation token to the first empty page, and does nothing else.
//! `check-retrieval` scanning the same backlog is compared with it.
//!
//! Usage: `bench-floor-scan <api-url> <username> <continuation-token>` with the password in
//! `SUOMIFI_PASSWORD`. Prints one JSON line: `{"events", "pages", "millis", "peakRssKib"}`.

use std::time::Instant;
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{ApiBase, ClientConfig, SuomifiClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, username, from] = args.as_slice() else {
        return Err("usage: bench-floor-scan <api-url> <username> <continuation-token>".into());
    };
    let password = Password::new(std::env::var("SUOMIFI_PASSWORD")?);
    let started = Instant::now();
    let client = SuomifiClient::new(ApiBase::parse(url)?, ClientConfig::default())?;
    let token = client.token(username, &password).await?.access_token;
    let (mut events, mut pages) = (0usize, 0u32);
    let mut from = Some(from.clone());
    loop {
        let page = client.events_page(&token, from.as_deref()).await?;
        pages += 1;
        if page.events.is_empty() {
            break;
        }
        events += page.events.len();
        from = Some(page.continuation_token);
    }
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let peak = suomifi_bench::peak_rss_kib(std::process::id());
    println!(
        "{}",
        serde_json::json!({"events": events, "pages": pages, "millis": millis, "peakRssKib": peak})
    );
    Ok(())
}
