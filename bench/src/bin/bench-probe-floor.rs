//! The certificate-probing floor: the shared TLS prober (`suomifi_shared::tlsprobe`) probing
//! loopback endpoints with the same concurrency as `check-certificates` (its default, 16), and
//! nothing else — no state table, no alerts. The difference to `check-certificates` on the same
//! endpoints is what the function does besides probing.
//!
//! Usage: `bench-probe-floor <concurrency> <port>...`. Prints `{"probes", "ok", "millis"}`.

use futures::StreamExt;
use std::time::{Duration, Instant};
use suomifi_shared::tlsprobe::{ProbeTarget, TlsProber};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let concurrency: usize = args
        .next()
        .ok_or("usage: bench-probe-floor <concurrency> <port>...")?
        .parse()?;
    let ports: Vec<u16> = args.map(|p| p.parse()).collect::<Result<_, _>>()?;
    let started = Instant::now();
    let prober = TlsProber::new();
    let ok = futures::stream::iter(ports.iter().map(|&port| {
        let prober = prober.clone();
        async move {
            let target = ProbeTarget::new("127.0.0.1", port, Duration::from_secs(10));
            prober.probe(&target).await.is_ok()
        }
    }))
    .buffer_unordered(concurrency)
    .filter(|ok| std::future::ready(*ok))
    .count()
    .await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({"probes": ports.len(), "ok": ok, "millis": millis})
    );
    Ok(())
}
