//! Scale check of the backlog scan: 1,000,000 events (1,000 pages) from the Suomi.fi sandbox,
//! read once by a bare paging loop and once by `backlog::scan`, alternately, reporting the time
//! ratio and the process's peak memory after each phase.
//!
//! `cargo run --release -p suomifi-bench --bin bench-backlog-scale [EVENTS]`
//!
//! The sandbox runs on its own thread (its own runtime), so client and server share the machine
//! as they would share nothing in production; what matters is the ratio, not the absolute time.

use check_retrieval::backlog::{self, ScanLimits};
use std::time::{Duration, Instant};
use suomifi_sandbox::{GenerateEvents, Sandbox, SandboxConfig};
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{ApiBase, ClientConfig, HttpSuomifi, SuomifiApi};

const USER: &str = "scale-system";
const PASSWORD: &str = "Scale-Test-Password-0123456789-abcdef!";

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let sandbox = Sandbox::start_in_thread(SandboxConfig::new(USER, PASSWORD)).expect("sandbox");
    let generated = sandbox
        .generate_events(&GenerateEvents {
            count: events,
            service_ids: (0..20).map(|i| format!("service-{i}")).collect(),
            seed: Some(1),
            interval_millis: 1,
            ..GenerateEvents::default()
        })
        .expect("generate");
    let api = ApiBase::parse(&sandbox.base_url()).unwrap();
    let suomifi = HttpSuomifi::new(ClientConfig {
        timeout: Duration::from_secs(60),
        ..ClientConfig::default()
    });
    let token = suomifi
        .token(&api, USER, &Password::new(PASSWORD))
        .await
        .unwrap();
    println!(
        "{events} events, {} end-user messages; peak RSS after setup {:.0} MiB",
        generated.end_user_messages,
        peak_rss_mib()
    );

    let (mut bare_total, mut scan_total) = (Duration::ZERO, Duration::ZERO);
    for round in 1..=2 {
        let started = Instant::now();
        let mut from: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = suomifi
                .events_page(&api, &token.access_token, from.as_deref())
                .await
                .unwrap();
            pages += 1;
            from = Some(page.continuation_token);
            if page.events.is_empty() {
                break;
            }
        }
        let bare = started.elapsed();
        println!(
            "round {round}: bare paging {pages} pages in {:.2} s; peak RSS {:.0} MiB",
            bare.as_secs_f64(),
            peak_rss_mib()
        );

        let started = Instant::now();
        let out = backlog::scan(
            &suomifi,
            &api,
            &token.access_token,
            None,
            time::OffsetDateTime::now_utc(),
            ScanLimits::default(),
        )
        .await;
        let scan = started.elapsed();
        assert!(out.is_complete(), "{:?}", out.stop);
        assert_eq!(out.counter.count, generated.end_user_messages as u64);
        println!(
            "round {round}: scan {} pages, {} messages in {:.2} s; peak RSS {:.0} MiB",
            out.counter.pages,
            out.counter.count,
            scan.as_secs_f64(),
            peak_rss_mib()
        );
        bare_total += bare;
        scan_total += scan;
    }
    println!(
        "scan / bare paging = {:.3}",
        scan_total.as_secs_f64() / bare_total.as_secs_f64()
    );
}
