//! `bench-runner`: measures the release functions through the Lambda Runtime API on this machine
//! and prints the results as Markdown (and optionally JSON). `tools/bench.sh` builds the binaries
//! it needs and runs it; BENCHMARKS.md explains the method.
//!
//! Parts (all by default; `--only` picks some):
//! - `cold`: process start → first `GET /invocation/next`, each function and the hello-world floor;
//! - `rotation`: four-step rotations against moto and the sandbox, and rotate-password's peak RSS;
//! - `backlog`: check-retrieval scanning 10 k / 100 k / 1 M events next to a bare paging client;
//! - `systems`: check-retrieval checking 1 / 10 / 50 systems in one run, with 0 and 1,000 events
//!   waiting in each;
//! - `certs`: check-certificates probing 50 and 500 local TLS endpoints;
//! - `size`: each release binary zipped as `bootstrap`, as it is deployed.

use clap::Parser;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use suomifi_bench::{Process, Stats, release_dir, start_api};
use suomifi_shared::checkpoint::Checkpoint;

#[derive(Parser, Debug)]
#[command(name = "bench-runner")]
struct Args {
    /// Measured cold starts per binary (after 2 unmeasured ones).
    #[arg(long, default_value_t = 15)]
    cold_runs: usize,
    /// Rotations to time (the first one, on a fresh process, is reported apart).
    #[arg(long, default_value_t = 10)]
    rotations: usize,
    /// Backlog sizes, in events.
    #[arg(long, default_value = "10000,100000,1000000", value_delimiter = ',')]
    backlog: Vec<usize>,
    /// Runs per backlog size (function and floor alternate).
    #[arg(long, default_value_t = 3)]
    backlog_runs: usize,
    /// Numbers of Suomi.fi systems checked in one run.
    #[arg(long, default_value = "1,10,50", value_delimiter = ',')]
    systems: Vec<usize>,
    /// Events waiting in each system's feed, per system count.
    #[arg(long, default_value = "0,1000", value_delimiter = ',')]
    system_events: Vec<usize>,
    /// Runs per system count and event count.
    #[arg(long, default_value_t = 3)]
    system_runs: usize,
    /// Numbers of TLS endpoints to probe.
    #[arg(long, default_value = "50,500", value_delimiter = ',')]
    endpoints: Vec<usize>,
    /// Runs per endpoint count.
    #[arg(long, default_value_t = 3)]
    probe_runs: usize,
    /// Only these parts: cold, rotation, backlog, systems, certs, size.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Function logs and scratch files go here.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// Extra `NAME=VALUE` variables for every function process (experiments, e.g.
    /// `--env SSL_CERT_DIR=/nonexistent`).
    #[arg(long = "env", value_parser = parse_kv)]
    extra_env: Vec<(String, String)>,
    /// Also write the raw results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

const USER: &str = "bench-system";
const PASSWORD: &str = "Bench-initial-password-000000000000000000!";
const COLD_START_TARGET_MS: f64 = 15.0;
const RSS_TARGET_KIB: f64 = 32.0 * 1024.0;
const ZIP_TARGET_BYTES: f64 = 6.0 * 1024.0 * 1024.0;
const SCAN_RATIO_TARGET: f64 = 1.25;
const PROBE_500_TARGET_S: f64 = 10.0;

/// The functions, each with the environment it needs to pass its init phase.
fn functions() -> Vec<(&'static str, Vec<(String, String)>)> {
    let kv = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    vec![
        ("rotate-password", Vec::new()),
        (
            "check-retrieval",
            kv(&[("SUOMIFI_SECRET_ID", "bench"), ("STATE_TABLE", "bench")]),
        ),
        (
            "check-certificates",
            kv(&[
                ("CERT_TARGETS", r#"[{"name":"api","tls":"127.0.0.1:9"}]"#),
                ("STATE_TABLE", "bench"),
            ]),
        ),
        ("check-updates", kv(&[("STATE_TABLE", "bench")])),
    ]
}

/// AWS settings that let the SDK initialise without any network call (cold-start runs).
fn offline_aws_env() -> Vec<(String, String)> {
    [
        ("AWS_REGION", "eu-north-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// One Markdown table row: measure, result, target, verdict.
struct Row {
    measure: String,
    result: String,
    target: String,
    met: Option<bool>,
}

impl Row {
    fn new(measure: impl Into<String>, result: impl Into<String>) -> Row {
        Row {
            measure: measure.into(),
            result: result.into(),
            target: String::new(),
            met: None,
        }
    }

    fn target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = target.into();
        self.met = Some(met);
        self
    }
}

fn table(title: &str, rows: &[Row]) -> String {
    let mut s = format!("#### {title}\n\n| Measure | Result | Target | Met |\n|---|---|---|---|\n");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        s.push_str(&format!(
            "| {} | {} | {} | {met} |\n",
            r.measure, r.result, r.target
        ));
    }
    s
}

fn ms(s: &Stats) -> String {
    format!(
        "{:.1} ms (min {:.1}, max {:.1}, n={})",
        s.median, s.min, s.max, s.n
    )
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

fn bin(name: &str) -> PathBuf {
    let p = release_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build it with `cargo build --release -p <crate>` (tools/bench.sh does)",
        p.display()
    );
    p
}

struct Ctx {
    args: Args,
    logs: PathBuf,
    results: serde_json::Map<String, Value>,
}

// ------------------------------------------------------------------------------------------

/// One binary's cold starts: wall time (spawn → first request for work), the CPU time the
/// process used until then, and its resident memory then.
struct Cold {
    wall: Stats,
    cpu: Stats,
    rss_kib: f64,
}

/// `runs` measured starts of `path` (after 2 unmeasured ones), medians.
async fn cold_start(ctx: &Ctx, path: &Path, env: &[(String, String)]) -> Cold {
    let (mut wall, mut cpu, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..ctx.args.cold_runs + 2 {
        let mut api = start_api().await.expect("runtime API");
        let p = Process::spawn(path, &api, env, &ctx.logs).expect("spawn");
        let Some(first) = api.first_next(Duration::from_secs(10)).await else {
            panic!(
                "{} never asked for work: see {}",
                path.display(),
                ctx.logs.display()
            );
        };
        // Two unmeasured runs first: the binary's pages are then in the page cache, as on a
        // warm Lambda host.
        if run >= 2 {
            wall.push((first - p.spawned_at).as_secs_f64() * 1000.0);
            cpu.extend(p.cpu_ms());
            rss.extend(p.peak_rss_kib().map(|k| k as f64));
        }
        p.kill().await;
    }
    Cold {
        wall: Stats::of(&wall).expect("samples"),
        cpu: Stats::of(&cpu).expect("CPU samples"),
        rss_kib: Stats::of(&rss).map(|s| s.median).unwrap_or(f64::NAN),
    }
}

async fn cold_starts(ctx: &mut Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let floor = cold_start(ctx, &bin("bench-hello"), &offline_aws_env()).await;
    ctx.results.insert(
        "cold_start/floor".into(),
        json!({"wallMs": floor.wall.median, "wallMinMs": floor.wall.min, "wallMaxMs": floor.wall.max,
               "cpuMs": floor.cpu.median, "n": floor.wall.n, "idleRssKib": floor.rss_kib}),
    );
    rows.push(Row::new(
        format!(
            "cold start: hello-world floor (idle RSS {})",
            mib(floor.rss_kib)
        ),
        format!("{}; CPU {:.1} ms", ms(&floor.wall), floor.cpu.median),
    ));
    // Diagnostic: the same start with the OS trust-store *directory* empty. The AWS SDK's
    // default HTTPS client loads the native root certificates at init (rustls-native-certs:
    // the bundle file and every file of the certificate directory); this shows that share.
    let empty_dir = ctx.args.work_dir.join("empty-cert-dir");
    std::fs::create_dir_all(&empty_dir).expect("empty dir");
    for (name, extra) in functions() {
        let mut env = offline_aws_env();
        env.extend(extra);
        env.extend(ctx.args.extra_env.iter().cloned());
        let c = cold_start(ctx, &bin(name), &env).await;
        env.push((
            "SSL_CERT_DIR".to_owned(),
            empty_dir.to_string_lossy().into_owned(),
        ));
        let d = cold_start(ctx, &bin(name), &env).await;
        let ratio = c.wall.median / floor.wall.median;
        let cpu_ratio = c.cpu.median / floor.cpu.median;
        ctx.results.insert(
            format!("cold_start/{name}"),
            json!({"wallMs": c.wall.median, "wallMinMs": c.wall.min, "wallMaxMs": c.wall.max,
                   "cpuMs": c.cpu.median, "n": c.wall.n, "idleRssKib": c.rss_kib,
                   "ratioToFloor": ratio, "cpuRatioToFloor": cpu_ratio,
                   "emptyCertDir": {"wallMs": d.wall.median, "cpuMs": d.cpu.median}}),
        );
        rows.push(
            Row::new(
                format!("cold start: {name} (idle RSS {})", mib(c.rss_kib)),
                format!(
                    "{}, {ratio:.2}× floor; CPU {:.1} ms ({cpu_ratio:.2}×). \
                     With an empty SSL_CERT_DIR: {:.1} ms, CPU {:.1} ms",
                    ms(&c.wall),
                    c.cpu.median,
                    d.wall.median,
                    d.cpu.median
                ),
            )
            .target(
                format!("≤ {COLD_START_TARGET_MS} ms and ≤ 2× floor"),
                c.wall.median <= COLD_START_TARGET_MS && ratio <= 2.0,
            ),
        );
    }
    rows
}

// ------------------------------------------------------------------------------------------

/// The Suomi.fi sandbox as a release process of its own (so that its serving speed is the same
/// for the function and the floor, and none of it is counted in their memory).
struct SandboxProcess {
    child: Child,
    url: String,
}

impl SandboxProcess {
    fn start() -> SandboxProcess {
        Self::with_systems(&[])
    }

    /// A sandbox serving `USER` and these further systems (all with `PASSWORD`).
    fn with_systems(users: &[String]) -> SandboxProcess {
        let mut args = vec![
            "--port".to_owned(),
            "0".into(),
            "--username".into(),
            USER.into(),
        ];
        for u in users {
            args.extend(["--system".to_owned(), u.clone()]);
        }
        let mut child = Command::new(bin("suomifi-sandbox"))
            .args(&args)
            .env("SANDBOX_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start suomifi-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sandbox banner");
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .expect("sandbox URL")
            .to_owned();
        SandboxProcess { child, url }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_env(ctx: &Ctx, moto: &integration_tests::moto::Moto) -> Vec<(String, String)> {
    let mut env = moto.env();
    env.extend(ctx.args.extra_env.iter().cloned());
    env
}

async fn rotation(ctx: &mut Ctx, moto: &integration_tests::moto::Moto) -> Vec<Row> {
    let cfg = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let sandbox = SandboxProcess::start();
    let secret_id = integration_tests::unique("bench-rotation");
    sm.create_secret()
        .name(&secret_id)
        .secret_string(
            json!({"username": USER, "password": PASSWORD, "apiUrl": sandbox.url}).to_string(),
        )
        .send()
        .await
        .expect("create secret");
    let mut api = start_api().await.expect("runtime API");
    let p = Process::spawn(
        &bin("rotate-password"),
        &api,
        &moto_env(ctx, moto),
        &ctx.logs,
    )
    .expect("spawn");
    api.first_next(Duration::from_secs(10))
        .await
        .expect("rotate-password started");
    let mut times = Vec::new();
    for _ in 0..ctx.args.rotations {
        let token = integration_tests::moto::start_rotation(&sm, &secret_id).await;
        let started = Instant::now();
        for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            let answer = api
                .invoke(
                    json!({"Step": step, "SecretId": secret_id, "ClientRequestToken": token}),
                    Duration::from_secs(60),
                )
                .await
                .expect("an answer");
            if let Err(e) = answer {
                panic!("{step} failed: {e}");
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let peak = p.peak_rss_kib().map(|k| k as f64).unwrap_or(f64::NAN);
    p.kill().await;
    let first = times[0];
    let warm = Stats::of(&times[1..])
        .or(Stats::of(&times))
        .expect("samples");
    ctx.results.insert(
        "rotation".into(),
        json!({"firstMs": first, "warm": {"median": warm.median, "min": warm.min, "max": warm.max, "n": warm.n}, "peakRssKib": peak}),
    );
    vec![
        Row::new(
            "full rotation (4 steps), first on a fresh process",
            format!("{first:.1} ms"),
        ),
        Row::new("full rotation (4 steps), warm", ms(&warm)),
        Row::new("rotate-password peak RSS", mib(peak)).target("≤ 32 MiB", peak <= RSS_TARGET_KIB),
    ]
}

// ------------------------------------------------------------------------------------------

/// The continuation token at the current end of the sandbox's feed (where a retriever that has
/// read everything so far would stand), from the API itself.
async fn end_of_feed_token(http: &reqwest::Client, url: &str) -> String {
    end_of_feed_token_of(http, url, USER).await
}

/// [`end_of_feed_token`] of one system.
async fn end_of_feed_token_of(http: &reqwest::Client, url: &str, user: &str) -> String {
    let token: Value = http
        .post(format!("{url}/v1/token"))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let access = token["access_token"].as_str().expect("access_token");
    let page: Value = http
        .get(format!("{url}/v2/events"))
        .bearer_auth(access)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("events JSON");
    page["continuationToken"]
        .as_str()
        .expect("continuationToken")
        .to_owned()
}

fn floor_scan(url: &str, from: &str) -> (f64, f64, u64) {
    let out = Command::new(bin("bench-floor-scan"))
        .args([url, USER, from])
        .env("SUOMIFI_PASSWORD", PASSWORD)
        .output()
        .expect("run bench-floor-scan");
    assert!(
        out.status.success(),
        "bench-floor-scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("floor JSON");
    (
        v["millis"].as_f64().unwrap_or(f64::NAN),
        v["peakRssKib"].as_f64().unwrap_or(f64::NAN),
        v["events"].as_u64().unwrap_or(0),
    )
}

async fn backlog(ctx: &mut Ctx, moto: &integration_tests::moto::Moto) -> Vec<Row> {
    let cfg = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let http = reqwest::Client::new();
    let mut rows = Vec::new();
    let mut peaks = Vec::new();
    for &n in &ctx.args.backlog.clone() {
        let sandbox = SandboxProcess::start();
        let from = end_of_feed_token(&http, &sandbox.url).await;
        let generated: Value = http
            .post(format!("{}/__sandbox/events/generate", sandbox.url))
            .json(&json!({"count": n, "seed": 42}))
            .send()
            .await
            .expect("generate")
            .json()
            .await
            .expect("generate JSON");
        assert_eq!(generated["events"].as_u64(), Some(n as u64), "{generated}");
        let secret_id = integration_tests::unique("bench-backlog");
        sm.create_secret()
            .name(&secret_id)
            .secret_string(
                json!({"username": USER, "password": PASSWORD, "apiUrl": sandbox.url}).to_string(),
            )
            .send()
            .await
            .expect("create secret");
        let parameter = format!("/bench/{}", integration_tests::unique("checkpoint"));
        ssm.put_parameter()
            .name(&parameter)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .value(Checkpoint::new(&from, time::OffsetDateTime::now_utc()).to_json())
            .send()
            .await
            .expect("put checkpoint");

        let (mut f_ms, mut f_rss, mut c_ms, mut c_rss) = (vec![], vec![], vec![], vec![]);
        for _ in 0..ctx.args.backlog_runs {
            let (ms, rss, events) = floor_scan(&sandbox.url, &from);
            assert_eq!(events, n as u64, "the floor read every event");
            f_ms.push(ms);
            f_rss.push(rss);

            // A fresh state table per run: check-retrieval keeps a cursor of its own there.
            let table = integration_tests::moto::create_state_table(&cfg).await;
            let mut env = moto_env(ctx, moto);
            env.extend([
                ("SUOMIFI_SECRET_ID".to_owned(), secret_id.clone()),
                ("CHECKPOINT_PARAMETER".to_owned(), parameter.clone()),
                ("STATE_TABLE".to_owned(), table),
            ]);
            let mut api = start_api().await.expect("runtime API");
            let p = Process::spawn(&bin("check-retrieval"), &api, &env, &ctx.logs).expect("spawn");
            api.first_next(Duration::from_secs(10))
                .await
                .expect("check-retrieval started");
            let started = Instant::now();
            let answer = api
                .invoke(json!({}), Duration::from_secs(900))
                .await
                .expect("an answer");
            c_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            c_rss.extend(p.peak_rss_kib().map(|k| k as f64));
            p.kill().await;
            if let Err(e) = &answer {
                eprintln!("check-retrieval answered an error for {n} events: {e}");
            }
        }
        let f = Stats::of(&f_ms).expect("floor samples");
        let c = Stats::of(&c_ms).expect("function samples");
        let f_peak = f_rss.iter().copied().fold(f64::NAN, f64::max);
        let c_peak = c_rss.iter().copied().fold(f64::NAN, f64::max);
        peaks.push(c_peak);
        let ratio = c.median / f.median;
        ctx.results.insert(
            format!("backlog/{n}"),
            json!({"floorMs": f.median, "functionMs": c.median, "ratio": ratio,
                   "floorPeakRssKib": f_peak, "functionPeakRssKib": c_peak,
                   "runs": ctx.args.backlog_runs}),
        );
        let label = match n {
            n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{} M", n / 1_000_000),
            n if n >= 1_000 && n % 1_000 == 0 => format!("{} k", n / 1_000),
            n => n.to_string(),
        };
        let mut row = Row::new(
            format!(
                "backlog {label} events ({} pages): check-retrieval vs floor",
                n.div_ceil(1000)
            ),
            format!(
                "{:.0} ms vs {:.0} ms = {ratio:.2}×; peak RSS {} vs {}",
                c.median,
                f.median,
                mib(c_peak),
                mib(f_peak)
            ),
        );
        if n >= 1_000_000 {
            row = row.target(
                "≤ 1.25× floor, ≤ 32 MiB",
                ratio <= SCAN_RATIO_TARGET && c_peak <= RSS_TARGET_KIB,
            );
        } else {
            row = row.target("≤ 32 MiB", c_peak <= RSS_TARGET_KIB);
        }
        rows.push(row);
    }
    if let (Some(lo), Some(hi)) = (
        peaks.iter().copied().reduce(f64::min),
        peaks.iter().copied().reduce(f64::max),
    ) {
        // "Flat": the largest backlog needs at most a few MiB more than the smallest.
        rows.push(
            Row::new(
                "check-retrieval peak RSS across backlog sizes",
                format!("{} – {}", mib(lo), mib(hi)),
            )
            .target("flat (spread ≤ 4 MiB)", hi - lo <= 4.0 * 1024.0),
        );
    }
    rows
}

// ------------------------------------------------------------------------------------------

/// check-retrieval over many systems in one run: how the run time grows with the number of
/// systems and with the events waiting in each.
async fn systems(ctx: &mut Ctx, moto: &integration_tests::moto::Moto) -> Vec<Row> {
    let cfg = moto.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let http = reqwest::Client::new();
    let mut rows = Vec::new();
    for &n in &ctx.args.systems.clone() {
        for &events in &ctx.args.system_events.clone() {
            let users: Vec<String> = (0..n).map(|i| format!("bench-system-{i}")).collect();
            let sandbox = SandboxProcess::with_systems(&users);
            let mut entries = Vec::new();
            for user in &users {
                let from = end_of_feed_token_of(&http, &sandbox.url, user).await;
                if events > 0 {
                    let generated: Value = http
                        .post(format!(
                            "{}/__sandbox/events/generate?system={user}",
                            sandbox.url
                        ))
                        .json(&json!({"count": events, "seed": 7}))
                        .send()
                        .await
                        .expect("generate")
                        .json()
                        .await
                        .expect("generate JSON");
                    assert_eq!(generated["events"].as_u64(), Some(events as u64));
                }
                let secret_id = integration_tests::unique("bench-systems");
                sm.create_secret()
                    .name(&secret_id)
                    .secret_string(
                        json!({"username": user, "password": PASSWORD, "apiUrl": sandbox.url})
                            .to_string(),
                    )
                    .send()
                    .await
                    .expect("create secret");
                let parameter = format!("/bench/{}", integration_tests::unique("checkpoint"));
                ssm.put_parameter()
                    .name(&parameter)
                    .r#type(aws_sdk_ssm::types::ParameterType::String)
                    .value(Checkpoint::new(&from, time::OffsetDateTime::now_utc()).to_json())
                    .send()
                    .await
                    .expect("put checkpoint");
                entries.push(json!({"name": user, "secret": secret_id, "checkpoint": parameter}));
            }
            let mut samples = Vec::new();
            let mut rss = Vec::new();
            for _ in 0..ctx.args.system_runs {
                let table = integration_tests::moto::create_state_table(&cfg).await;
                let mut env = moto_env(ctx, moto);
                env.extend([
                    ("SYSTEMS".to_owned(), json!(entries).to_string()),
                    ("STATE_TABLE".to_owned(), table),
                ]);
                let mut api = start_api().await.expect("runtime API");
                let p =
                    Process::spawn(&bin("check-retrieval"), &api, &env, &ctx.logs).expect("spawn");
                api.first_next(Duration::from_secs(10))
                    .await
                    .expect("check-retrieval started");
                let started = Instant::now();
                let answer = api
                    .invoke(json!({}), Duration::from_secs(900))
                    .await
                    .expect("an answer");
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
                rss.extend(p.peak_rss_kib().map(|k| k as f64));
                p.kill().await;
                match &answer {
                    Ok(report) => assert_eq!(
                        report["summary"]["systems"].as_u64(),
                        Some(n as u64),
                        "every system reported: {report}"
                    ),
                    Err(e) => eprintln!("check-retrieval answered an error for {n} systems: {e}"),
                }
            }
            let st = Stats::of(&samples).expect("samples");
            let peak = rss.iter().copied().fold(f64::NAN, f64::max);
            ctx.results.insert(
                format!("systems/{n}/{events}"),
                json!({"ms": st.median, "peakRssKib": peak, "runs": ctx.args.system_runs}),
            );
            let mut row = Row::new(
                format!("{n} system(s), {events} events waiting in each: one run"),
                format!("{:.0} ms; peak RSS {}", st.median, mib(peak)),
            );
            if n >= 50 {
                // The template's timeout, less the margin the function keeps for itself.
                row = row.target("≤ 45 s (timeout 60 s)", st.median <= 45_000.0);
            }
            rows.push(row);
        }
    }
    rows
}

// ------------------------------------------------------------------------------------------

async fn certs(ctx: &mut Ctx, moto: &integration_tests::moto::Moto) -> Vec<Row> {
    let cfg = moto.sdk_config().await;
    let most = ctx.args.endpoints.iter().copied().max().unwrap_or(0);
    let mut farm = Command::new(bin("bench-tls-farm"))
        .arg(most.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start bench-tls-farm");
    let mut line = String::new();
    BufReader::new(farm.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("farm ports");
    let ports: Vec<u16> = serde_json::from_str(&line).expect("ports JSON");
    let mut rows = Vec::new();
    for &n in &ctx.args.endpoints.clone() {
        let targets: Vec<Value> = ports[..n]
            .iter()
            .enumerate()
            .map(|(i, port)| json!({"name": format!("ep-{i}"), "tls": format!("127.0.0.1:{port}")}))
            .collect();
        let (mut times, mut steady, mut rss, mut floor) = (vec![], vec![], vec![], vec![]);
        let mut answer_kind = "ok";
        for _ in 0..ctx.args.probe_runs {
            floor.push(probe_floor(&ports[..n]));
            let table = integration_tests::moto::create_state_table(&cfg).await;
            let mut env = moto_env(ctx, moto);
            env.extend([
                (
                    "CERT_TARGETS".to_owned(),
                    Value::Array(targets.clone()).to_string(),
                ),
                ("STATE_TABLE".to_owned(), table),
            ]);
            let mut api = start_api().await.expect("runtime API");
            let p =
                Process::spawn(&bin("check-certificates"), &api, &env, &ctx.logs).expect("spawn");
            api.first_next(Duration::from_secs(10))
                .await
                .expect("check-certificates started");
            // The first run on a fresh table, then the next scheduled run: same table, alerts
            // already open, nothing new to write.
            for (samples, run) in [(&mut times, "first"), (&mut steady, "next")] {
                let started = Instant::now();
                let answer = api
                    .invoke(json!({}), Duration::from_secs(600))
                    .await
                    .expect("an answer");
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
                if let Err(e) = answer {
                    answer_kind = "error";
                    eprintln!(
                        "check-certificates ({run} run), {n} endpoints, answered an error: {e}"
                    );
                }
            }
            rss.extend(p.peak_rss_kib().map(|k| k as f64));
            p.kill().await;
        }
        let t = Stats::of(&times).expect("samples");
        let st = Stats::of(&steady).expect("steady samples");
        let f = Stats::of(&floor).expect("floor samples");
        let peak = rss.iter().copied().fold(f64::NAN, f64::max);
        ctx.results.insert(
            format!("certs/{n}"),
            json!({"median": t.median, "min": t.min, "max": t.max, "n": t.n, "peakRssKib": peak,
                   "answer": answer_kind, "probeFloorMs": f.median,
                   "steadyMedian": st.median, "steadyMin": st.min, "steadyMax": st.max}),
        );
        let mut row = Row::new(
            format!(
                "check-certificates, {n} TLS endpoints (peak RSS {})",
                mib(peak)
            ),
            format!(
                "first run (every alert opens) {}; next run {:.1} ms; the prober alone: {:.0} ms",
                ms(&t),
                st.median,
                f.median
            ),
        );
        if n == 500 {
            row = row.target(
                "≤ 10 s, ≤ 32 MiB",
                t.median.max(st.median) <= PROBE_500_TARGET_S * 1000.0 && peak <= RSS_TARGET_KIB,
            );
        } else {
            row = row.target("≤ 32 MiB", peak <= RSS_TARGET_KIB);
        }
        rows.push(row);
    }
    drop(farm.stdin.take());
    let _ = farm.wait();
    rows
}

/// The shared TLS prober alone on the same endpoints, with check-certificates' default
/// concurrency.
fn probe_floor(ports: &[u16]) -> f64 {
    let out = Command::new(bin("bench-probe-floor"))
        .arg("16")
        .args(ports.iter().map(u16::to_string))
        .output()
        .expect("run bench-probe-floor");
    assert!(out.status.success(), "bench-probe-floor failed");
    let v: Value = serde_json::from_slice(&out.stdout).expect("probe floor JSON");
    assert_eq!(
        v["ok"], v["probes"],
        "every endpoint answered the floor prober"
    );
    v["millis"].as_f64().unwrap_or(f64::NAN)
}

// ------------------------------------------------------------------------------------------

/// The deployment artefact: the binary as `bootstrap` in a zip (Python's zipfile, deflate, as
/// `cargo lambda build --output-format zip` and the SAM CLI produce).
fn zipped_size(binary: &Path, scratch: &Path) -> u64 {
    let zip = scratch.join(format!(
        "{}.zip",
        binary.file_name().and_then(|n| n.to_str()).unwrap_or("f")
    ));
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
             \x20   z.write(sys.argv[2], 'bootstrap')",
        ])
        .arg(&zip)
        .arg(binary)
        .status()
        .expect("python3 for zipping");
    assert!(status.success(), "zipping {} failed", binary.display());
    std::fs::metadata(&zip).expect("zip").len()
}

fn sizes(ctx: &mut Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut names = vec!["bench-hello"];
    names.extend(functions().into_iter().map(|(n, _)| n));
    for name in names {
        let path = bin(name);
        let raw = std::fs::metadata(&path).expect("binary").len();
        let zipped = zipped_size(&path, &ctx.args.work_dir);
        ctx.results.insert(
            format!("size/{name}"),
            json!({"binaryBytes": raw, "zipBytes": zipped}),
        );
        let label = if name == "bench-hello" {
            "hello-world floor".to_owned()
        } else {
            name.to_owned()
        };
        let mut row = Row::new(
            format!(
                "zipped artefact: {label} (binary {:.1} MiB)",
                raw as f64 / 1048576.0
            ),
            format!("{:.2} MiB", zipped as f64 / 1048576.0),
        );
        if name != "bench-hello" {
            row = row.target("≤ 6 MiB", zipped as f64 <= ZIP_TARGET_BYTES);
        }
        rows.push(row);
    }
    rows
}

// ------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.work_dir).expect("work dir");
    let logs = args.work_dir.join("functions.log");
    let _ = std::fs::remove_file(&logs);
    let wants = |part: &str| args.only.is_empty() || args.only.iter().any(|o| o == part);
    let (cold, rot, back, sys, cert, size) = (
        wants("cold"),
        wants("rotation"),
        wants("backlog"),
        wants("systems"),
        wants("certs"),
        wants("size"),
    );
    let mut ctx = Ctx {
        args,
        logs,
        results: serde_json::Map::new(),
    };
    let mut out = String::new();
    let mut section = |title: &str, rows: Vec<Row>| {
        let t = table(title, &rows);
        println!("{t}");
        let _ = std::io::stdout().flush();
        out.push_str(&t);
        out.push('\n');
    };
    if cold {
        section(
            "Cold start (process start → first request for work)",
            cold_starts(&mut ctx).await,
        );
    }
    let moto = (rot || back || sys || cert).then(integration_tests::moto::Moto::start);
    if let Some(moto) = &moto {
        if rot {
            section("Rotation (moto + sandbox)", rotation(&mut ctx, moto).await);
        }
        if back {
            section(
                "Backlog scan (sandbox, 1,000 events a page)",
                backlog(&mut ctx, moto).await,
            );
        }
        if sys {
            section(
                "Every system in one run (sandbox, check-retrieval, 8 systems at a time)",
                systems(&mut ctx, moto).await,
            );
        }
        if cert {
            section(
                "Certificate probing (local TLS endpoints)",
                certs(&mut ctx, moto).await,
            );
        }
    }
    if size {
        section("Artefact size", sizes(&mut ctx));
    }
    if let Some(path) = &ctx.args.json {
        let doc = json!({"results": ctx.results, "markdown": out});
        std::fs::write(path, serde_json::to_string_pretty(&doc).expect("JSON"))
            .expect("write JSON");
    }
}
