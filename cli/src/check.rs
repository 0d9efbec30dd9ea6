//! `check retrieval` / `check certificates` / `check updates`: one run of a check, in-process, with the real AWS
//! adapters and the checks' own library code — the scheduled functions and this command cannot
//! drift apart. Configuration goes through the checks' own parsers (`Config::from_env`,
//! `Config::from_lookup`), fed from the command line, so a value is validated the same way here
//! as in Lambda.

use crate::dryrun::{CliNotifier, CliStore, adapters};
use crate::error::{CliError, CliResult, exit};
use crate::output::{Cell, Style, Table, Tone, days, relative, span, when};
use check_retrieval::fleet::FleetReport;
use clap::Args;
use serde_json::{Value, json};
use std::time::Duration;
use suomifi_shared::clock::SystemClock;
use suomifi_shared::notify::{Alert, Severity};

/// `--json` and `--dry-run`, shared by both checks.
#[derive(Args, Debug, Clone, Copy)]
pub struct RunArgs {
    /// Print the report as JSON (for scripts) instead of tables.
    #[arg(long)]
    json: bool,

    /// Only look: print the notifications instead of publishing them, and change no alert state.
    #[arg(long)]
    dry_run: bool,
}

/// Thresholds of the retrieval check (defaults as in the function).
#[derive(Args, Debug, Clone, Default)]
pub struct RetrievalThresholds {
    /// Warn when the checkpoint's updatedAt is older than this [default: 30].
    #[arg(long, env = "HEARTBEAT_MAX_AGE_MINUTES", value_name = "MINUTES")]
    heartbeat_max_age_minutes: Option<u64>,

    /// Warn when a citizen's message has waited longer than this [default: 60].
    #[arg(long, env = "BACKLOG_GRACE_MINUTES", value_name = "MINUTES")]
    backlog_grace_minutes: Option<u64>,

    /// Warn when the password is older than this, 1-365 [default: 180, DVV's six months].
    #[arg(long, env = "PASSWORD_MAX_AGE_DAYS", value_name = "DAYS")]
    password_max_age_days: Option<u64>,

    /// Repeat an open alert this often [default: 24].
    #[arg(long, env = "REMINDER_HOURS", value_name = "HOURS")]
    reminder_hours: Option<u64>,
}

/// `check retrieval`.
#[derive(Args, Debug)]
pub struct RetrievalArgs {
    /// Every system to check, as the function's SYSTEMS: a JSON array of {"name", "secret",
    /// "checkpoint"?}. Instead of --secret-id.
    #[arg(long, env = "SYSTEMS", value_name = "JSON", conflicts_with_all = ["secret_id", "checkpoint_parameter"])]
    systems: Option<String>,

    /// One system only: its credentials secret (name or ARN).
    #[arg(long, env = "SUOMIFI_SECRET_ID", value_name = "ID")]
    secret_id: Option<String>,

    /// With --secret-id: the retriever's checkpoint parameter. Without it retrieval itself is
    /// not watched (no heartbeat, no backlog).
    #[arg(long, env = "CHECKPOINT_PARAMETER", value_name = "NAME")]
    checkpoint_parameter: Option<String>,

    /// The state table (alert state). Needed for a real run; a dry run reads it when given.
    #[arg(long, env = "STATE_TABLE", value_name = "TABLE")]
    state_table: Option<String>,

    /// The SNS topic for notifications. Needed for a real run.
    #[arg(long, env = "ALERT_TOPIC_ARN", value_name = "ARN")]
    alert_topic_arn: Option<String>,

    #[command(flatten)]
    thresholds: RetrievalThresholds,

    #[command(flatten)]
    run: RunArgs,
}

/// `check certificates`.
#[derive(Args, Debug)]
pub struct CertificatesArgs {
    /// The targets, as the function's CERT_TARGETS: a JSON array of {"name", "tls": "host:port"
    /// | "secret": "<id>" | "acm": "<arn>", "role"?: "signing", ...}.
    #[arg(long, env = "CERT_TARGETS", value_name = "JSON")]
    cert_targets: String,

    /// The state table (alert state, remembered certificates). Needed for a real run; a dry run
    /// reads it when given.
    #[arg(long, env = "STATE_TABLE", value_name = "TABLE")]
    state_table: Option<String>,

    /// The SNS topic for notifications. Needed for a real run.
    #[arg(long, env = "ALERT_TOPIC_ARN", value_name = "ARN")]
    alert_topic_arn: Option<String>,

    /// Days before expiry at which to notify, once each [default: 60,30,14,7,3,1].
    #[arg(long, env = "THRESHOLD_DAYS", value_name = "DAYS,...")]
    threshold_days: Option<String>,

    /// Reminder interval below the last threshold and while expired [default: 24].
    #[arg(long, env = "REMINDER_HOURS", value_name = "HOURS")]
    reminder_hours: Option<String>,

    /// Budget for fetching one target's certificate [default: 10].
    #[arg(long, env = "PROBE_TIMEOUT_SECONDS", value_name = "SECONDS")]
    probe_timeout_seconds: Option<String>,

    /// How many targets are fetched at once [default: 16].
    #[arg(long, env = "PROBE_CONCURRENCY", value_name = "N")]
    probe_concurrency: Option<String>,

    #[command(flatten)]
    run: RunArgs,
}

/// Stands in for `STATE_TABLE` when a dry run has no table: the overlay then never reads it.
const NO_TABLE: &str = "(none: dry run on an empty state)";

/// Which systems a retrieval check covers: the function's `SYSTEMS` list, or one secret (and
/// its checkpoint parameter).
#[derive(Debug, Clone, Copy)]
pub enum Systems<'a> {
    /// `SYSTEMS`, as JSON.
    List(&'a str),
    /// `SUOMIFI_SECRET_ID` and `CHECKPOINT_PARAMETER`.
    One {
        /// The secret.
        secret_id: &'a str,
        /// The checkpoint parameter.
        checkpoint: Option<&'a str>,
    },
}

/// The retrieval check's configuration, validated by its own parser.
pub fn retrieval_config(
    systems: Systems<'_>,
    state_table: Option<&str>,
    topic: Option<&str>,
    th: &RetrievalThresholds,
) -> Result<check_retrieval::config::Config, CliError> {
    let mut pairs: Vec<(&str, String)> =
        vec![("STATE_TABLE", state_table.unwrap_or(NO_TABLE).to_owned())];
    let (list, secret_id, checkpoint) = match systems {
        Systems::List(raw) => (Some(raw.to_owned()), None, None),
        Systems::One {
            secret_id,
            checkpoint,
        } => (
            None,
            Some(secret_id.to_owned()),
            checkpoint.map(str::to_owned),
        ),
    };
    let optional = [
        ("SYSTEMS", list),
        ("SUOMIFI_SECRET_ID", secret_id),
        ("CHECKPOINT_PARAMETER", checkpoint),
        ("ALERT_TOPIC_ARN", topic.map(str::to_owned)),
        (
            "HEARTBEAT_MAX_AGE_MINUTES",
            th.heartbeat_max_age_minutes.map(|v| v.to_string()),
        ),
        (
            "BACKLOG_GRACE_MINUTES",
            th.backlog_grace_minutes.map(|v| v.to_string()),
        ),
        (
            "PASSWORD_MAX_AGE_DAYS",
            th.password_max_age_days.map(|v| v.to_string()),
        ),
        ("REMINDER_HOURS", th.reminder_hours.map(|v| v.to_string())),
    ];
    pairs.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    check_retrieval::config::Config::from_env(&check_retrieval::config::Env::from_pairs(pairs))
        .map_err(|e| {
            CliError::usage(e.to_string())
                .hint("the option of the same name (lower case, dashes) sets it")
        })
}

/// How long `check retrieval` may read the events feed: as long as a generous Lambda timeout.
/// The report says when the scan stopped early (its counts are then lower bounds).
pub const CHECK_SCAN_BUDGET: Duration = Duration::from_secs(300);

/// One run of the retrieval check of every configured system over `store` and `notifier`,
/// reading each feed for at most `budget`.
pub async fn run_retrieval(
    sdk: &aws_config::SdkConfig,
    config: &check_retrieval::config::Config,
    store: CliStore,
    notifier: CliNotifier,
    budget: Duration,
) -> Result<FleetReport, check_retrieval::fleet::FleetError> {
    check_retrieval::adapters::wire(sdk, config, store, notifier)
        .run(Some(std::time::Instant::now() + budget))
        .await
}

/// The certificate check's configuration, validated by its own parser.
fn certificates_config(args: &CertificatesArgs) -> Result<check_certificates::Config, CliError> {
    let env = [
        ("CERT_TARGETS", Some(args.cert_targets.clone())),
        (
            "STATE_TABLE",
            Some(
                args.state_table
                    .clone()
                    .unwrap_or_else(|| NO_TABLE.to_owned()),
            ),
        ),
        ("ALERT_TOPIC_ARN", args.alert_topic_arn.clone()),
        ("THRESHOLD_DAYS", args.threshold_days.clone()),
        ("REMINDER_HOURS", args.reminder_hours.clone()),
        ("PROBE_TIMEOUT_SECONDS", args.probe_timeout_seconds.clone()),
        ("PROBE_CONCURRENCY", args.probe_concurrency.clone()),
    ];
    let env = env.into_iter().filter_map(|(k, v)| v.map(|v| (k, v)));
    check_certificates::Config::from_env(&suomifi_shared::config::Env::from_pairs(env))
    .map_err(|e| {
        CliError::usage(e.to_string())
            .hint("CERT_TARGETS is a JSON array, e.g. '[{\"name\":\"api\",\"tls\":\"api.messages.suomi.fi:443\"}]'")
    })
}

/// One run of the certificate check over `store` and `notifier`.
pub async fn run_certificates(
    sdk: &aws_config::SdkConfig,
    config: check_certificates::Config,
    store: CliStore,
    notifier: CliNotifier,
) -> check_certificates::RunOutcome {
    use check_certificates::sources::{AcmClientSource, SecretsManagerSource};
    let ports = check_certificates::Ports {
        tls: suomifi_shared::tlsprobe::TlsProber::new(),
        secrets: SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(sdk)),
        acm: AcmClientSource::new(aws_sdk_acm::Client::new(sdk)),
        store,
        notifier,
        clock: SystemClock,
    };
    check_certificates::Checker::new(config, ports).run().await
}

/// `check retrieval`.
pub async fn retrieval(args: RetrievalArgs, style: &Style) -> CliResult {
    // An explicit --secret-id wins over the stack's systems (see `stack::with_defaults`).
    let systems = match (&args.secret_id, &args.systems) {
        (Some(secret_id), _) => Systems::One {
            secret_id,
            checkpoint: args.checkpoint_parameter.as_deref(),
        },
        (None, Some(list)) => Systems::List(list),
        (None, None) => {
            return Err(CliError::usage("no system to check")
                .hint("give --systems (SYSTEMS) or --secret-id (SUOMIFI_SECRET_ID)"));
        }
    };
    let config = retrieval_config(
        systems,
        args.state_table.as_deref(),
        args.alert_topic_arn.as_deref(),
        &args.thresholds,
    )?;
    let sdk = crate::aws_config().await?;
    let (store, notifier) = adapters(
        &sdk,
        args.state_table.as_deref(),
        args.alert_topic_arn.as_deref(),
        args.run.dry_run,
    )?;
    let result = run_retrieval(&sdk, &config, store, notifier.clone(), CHECK_SCAN_BUDGET).await;
    let (report, failure) = match result {
        Ok(r) => (r, None),
        Err(e) => {
            let text = e.to_string();
            (*e.report, Some(text))
        }
    };
    let sent = notifier.sent();
    if args.run.json {
        let doc = json!({
            "report": report,
            "dryRun": args.run.dry_run,
            "notifications": notifications_json(&sent, notifier.publishes()),
            "failure": failure,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", render_fleet(&report, style));
        print!(
            "{}",
            render_notifications(&sent, notifier.publishes(), style)
        );
    }
    if let Some(f) = failure {
        return Err(CliError::new(format!(
            "the run could not use the state table or publish every alert: {f}"
        ))
        .hint("check --state-table, the alert topic and your DynamoDB and SNS permissions (names, KMS key policy)"));
    }
    Ok(match report.status {
        check_retrieval::report::Status::Ok => exit::OK,
        check_retrieval::report::Status::Unknown => exit::WARNING,
        check_retrieval::report::Status::Warning => exit::WARNING,
        check_retrieval::report::Status::Critical => exit::CRITICAL,
    })
}

/// `check certificates`.
pub async fn certificates(args: CertificatesArgs, style: &Style) -> CliResult {
    let config = certificates_config(&args)?;
    let sdk = crate::aws_config().await?;
    let (store, notifier) = adapters(
        &sdk,
        args.state_table.as_deref(),
        args.alert_topic_arn.as_deref(),
        args.run.dry_run,
    )?;
    let outcome = run_certificates(&sdk, config, store, notifier.clone()).await;
    print_run(
        args.run,
        &outcome.report,
        render_certificates(&outcome.report, style),
        &notifier,
        &outcome.failures,
        style,
    )?;
    Ok(certificates_exit(&outcome.report))
}

/// Prints a check's run (the report and the notifications, as JSON or for people) and turns
/// failed state-table or publish operations into the run's error.
fn print_run<R: serde::Serialize, F: std::fmt::Display + serde::Serialize>(
    run: RunArgs,
    report: &R,
    human: String,
    notifier: &CliNotifier,
    failures: &[F],
    style: &Style,
) -> Result<(), CliError> {
    let sent = notifier.sent();
    if run.json {
        let doc = json!({
            "report": report,
            "dryRun": run.dry_run,
            "notifications": notifications_json(&sent, notifier.publishes()),
            "failures": failures,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{human}");
        print!(
            "{}",
            render_notifications(&sent, notifier.publishes(), style)
        );
    }
    match failures.first() {
        Some(first) => Err(CliError::new(format!(
            "{} state-table or notification operation(s) failed; first: {first}",
            failures.len()
        ))
        .hint("check the state table and the alert topic (names, permissions, KMS key policy)")),
        None => Ok(()),
    }
}

/// The exit code a certificate report deserves.
pub fn certificates_exit(report: &check_certificates::Report) -> u8 {
    use check_certificates::evaluate::Status;
    report
        .targets
        .iter()
        .map(|t| {
            let untrusted = t.verification.as_deref().is_some_and(|v| v != "ok");
            match t.status {
                _ if untrusted => exit::CRITICAL,
                Status::Ok => exit::OK,
                Status::Warning | Status::NotYetValid | Status::NotChecked => exit::WARNING,
                Status::Critical | Status::Expired | Status::Unreadable | Status::Unreachable => {
                    exit::CRITICAL
                }
            }
        })
        .max()
        .unwrap_or(exit::OK)
}

fn notifications_json(sent: &[Alert], published: bool) -> Vec<Value> {
    sent.iter()
        .map(|a| {
            json!({
                "published": published,
                "key": a.key,
                "severity": a.severity,
                "subject": a.subject(),
                "email": a.email_body(),
                "chat": a.chat_json(),
            })
        })
        .collect()
}

/// The colour of a severity.
pub fn severity_tone(s: Severity) -> Tone {
    match s {
        Severity::Critical => Tone::Bad,
        Severity::Warning => Tone::Warn,
        Severity::Info => Tone::Plain,
        Severity::Resolved => Tone::Good,
    }
}

/// The notifications of a run: published ones by subject, a dry run's in full (as the e-mail
/// reader would get them), since seeing them is the point of a dry run.
pub fn render_notifications(sent: &[Alert], published: bool, style: &Style) -> String {
    let mut out = String::new();
    if sent.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            style.paint(
                if published {
                    "No notification sent."
                } else {
                    "Dry run: no notification would be sent."
                },
                Tone::Dim
            )
        ));
        return out;
    }
    if published {
        out.push_str(&format!("\n{}\n", style.heading("Notifications published")));
        for a in sent {
            out.push_str(&format!(
                "  {}\n",
                style.paint(&a.subject(), severity_tone(a.severity))
            ));
        }
    } else {
        out.push_str(&format!(
            "\n{}\n",
            style.heading("Dry run: these notifications would be sent (nothing was published, no alert state changed)")
        ));
        for a in sent {
            out.push_str(&format!(
                "\n  {} {}\n",
                style.paint("Subject:", Tone::Dim),
                style.paint(&a.subject(), severity_tone(a.severity))
            ));
            for line in a.email_body().lines() {
                out.push_str(&format!("  │ {line}\n"));
            }
        }
    }
    out
}

fn status_tone(s: check_retrieval::report::Status) -> (String, Tone) {
    use check_retrieval::report::Status;
    match s {
        Status::Ok => ("OK".into(), Tone::Good),
        Status::Unknown => ("UNKNOWN (a part could not be checked)".into(), Tone::Warn),
        Status::Warning => ("WARNING".into(), Tone::Warn),
        Status::Critical => ("CRITICAL".into(), Tone::Bad),
    }
}

/// The report of every system: the overall status, one row per system (worst first), then the
/// details of each system that is not ok (of the only one, when there is one).
pub fn render_fleet(r: &FleetReport, style: &Style) -> String {
    let (status, tone) = status_tone(r.status);
    let mut out = format!(
        "{} {}  {}\n",
        style.heading("Retrieval check:"),
        style.paint(&status, tone),
        style.paint(&format!("(checked {})", when(r.checked_at)), Tone::Dim)
    );
    let one = r.systems.len() == 1;
    if !one {
        out.push_str(&systems_table(r).render(style, 2));
    }
    for system in r.worst_first() {
        if one || system.status != check_retrieval::report::Status::Ok {
            out.push('\n');
            out.push_str(&render_retrieval(system, style));
        }
    }
    out
}

/// One row per system, worst first: status, credentials, heartbeat, backlog, days to deletion.
pub fn systems_table(r: &FleetReport) -> Table {
    let mut t = Table::new(&[
        "SYSTEM",
        "STATUS",
        "CREDENTIALS",
        "HEARTBEAT",
        "BACKLOG",
        "DAYS TO DELETION",
    ]);
    for s in r.worst_first() {
        let (status, tone) = status_tone(s.status);
        let status = status.split(' ').next().unwrap_or_default().to_owned();
        let heartbeat = match &s.heartbeat {
            Some(h) => Cell::new(
                span(time::Duration::seconds_f64(h.age_minutes * 60.0)),
                if h.stale { Tone::Warn } else { Tone::Good },
            ),
            None if s.retrieval_watched => Cell::new("-", Tone::Warn),
            None => Cell::new("not watched", Tone::Dim),
        };
        let backlog = s.backlog.as_ref().or(s.seen.as_ref());
        let count = match backlog {
            Some(b) => Cell::new(
                format!("{}{}", b.count, if b.complete { "" } else { "+" }),
                if b.over_grace_count > 0 {
                    Tone::Warn
                } else {
                    Tone::Good
                },
            ),
            None => Cell::new("-", Tone::Dim),
        };
        let left = match backlog.and_then(|b| b.days_until_deletion) {
            Some(d) => Cell::new(
                format!("{d:.1}"),
                if d < 7.0 { Tone::Bad } else { Tone::Dim },
            ),
            None => Cell::new("-", Tone::Dim),
        };
        t.row(vec![
            s.system.clone().into(),
            Cell::new(status, tone),
            Cell::new(
                s.credentials.status,
                if s.credentials.status == "ok" {
                    Tone::Good
                } else {
                    Tone::Bad
                },
            ),
            heartbeat,
            count,
            left,
        ]);
    }
    t
}

/// One system's report as aligned rows, with what this run did to each alert.
pub fn render_retrieval(r: &check_retrieval::report::Report, style: &Style) -> String {
    let (status, tone) = status_tone(r.status);
    let mut out = format!(
        "{} {}\n",
        style.heading(&format!("System {}:", r.system)),
        style.paint(&status, tone),
    );
    out.push_str(&retrieval_table(r).render(style, 2));
    let active: Vec<_> = r
        .alerts
        .iter()
        .filter(|a| a.outcome != "nothingOpen")
        .collect();
    if !active.is_empty() {
        out.push_str(&format!("\n{}\n", style.heading("Alerts")));
        let mut t = Table::new(&["KEY", "SEVERITY", "THIS RUN"]);
        for a in active {
            let (sev, tone) = match a.severity {
                Some(s) => (s.as_str().to_owned(), severity_tone(s)),
                None => ("-".to_owned(), Tone::Dim),
            };
            t.row(vec![
                a.key.clone().into(),
                Cell::new(sev, tone),
                a.outcome.into(),
            ]);
        }
        out.push_str(&t.render(style, 2));
    }
    for n in &r.notes {
        out.push_str(&format!("{} {n}\n", style.paint("note:", Tone::Dim)));
    }
    out
}

/// One row per part of the retrieval check: credentials, password age, checkpoint, heartbeat,
/// backlog.
pub fn retrieval_table(r: &check_retrieval::report::Report) -> Table {
    let mut t = Table::new(&["CHECK", "STATE", "DETAIL"]);
    let c = &r.credentials;
    let ok = c.status == "ok";
    let mut detail = format!(
        "{} at {}",
        c.username.as_deref().unwrap_or("?"),
        c.api_url.as_deref().unwrap_or("?")
    );
    if let Some(ms) = c.token_latency_ms {
        detail.push_str(&format!(", token {ms} ms"));
    }
    if let Some(ms) = c.events_latency_ms {
        detail.push_str(&format!(", events {ms} ms"));
    }
    if let Some(e) = &c.error {
        detail = e.clone();
    }
    t.row(vec![
        "credentials".into(),
        Cell::new(c.status, if ok { Tone::Good } else { Tone::Bad }),
        detail.into(),
    ]);
    let p = &r.password_age;
    let (state, tone) = match (p.rotation_failing, p.age_days) {
        (Some(why), _) => (format!("rotation {why}"), Tone::Bad),
        (None, Some(age)) if age > 365.0 => (days(age), Tone::Bad),
        (None, Some(age)) if age > p.max_age_days as f64 => (days(age), Tone::Warn),
        (None, Some(age)) => (days(age), Tone::Good),
        (None, None) => ("unknown".into(), Tone::Warn),
    };
    let mut detail = format!("limit {} d", p.max_age_days);
    if let Some(on) = p.rotation_enabled {
        detail.push_str(if on {
            ", rotation on"
        } else {
            ", rotation OFF"
        });
    }
    if let Some(n) = p.next_rotation_date {
        detail.push_str(&format!(", next {}", when(n)));
    }
    if p.rotation_in_progress {
        detail.push_str(", a rotation is running now");
    }
    t.row(vec![
        "password age".into(),
        Cell::new(state, tone),
        detail.into(),
    ]);
    match &r.checkpoint {
        None => t.row(vec![
            "checkpoint".into(),
            Cell::new("not watched", Tone::Warn),
            "give the system a checkpoint (SYSTEMS' `checkpoint`, or CHECKPOINT_PARAMETER) to watch retrieval".into(),
        ]),
        Some(cp) => t.row(vec![
            "checkpoint".into(),
            Cell::new(
                cp.status,
                if cp.status == "ok" {
                    Tone::Good
                } else {
                    Tone::Bad
                },
            ),
            cp.error
                .clone()
                .unwrap_or_else(|| cp.parameter.clone())
                .into(),
        ]),
    }
    if let Some(h) = &r.heartbeat {
        let age = time::Duration::seconds_f64(h.age_minutes * 60.0);
        t.row(vec![
            "heartbeat".into(),
            Cell::new(
                if h.stale { "stale" } else { "fresh" },
                if h.stale { Tone::Warn } else { Tone::Good },
            ),
            format!(
                "last poll {} ({}), limit {}",
                span(age),
                when(h.updated_at),
                span(time::Duration::seconds_f64(h.max_age_minutes * 60.0))
            )
            .into(),
        ]);
    }
    for (label, b) in [("backlog", &r.backlog), ("seen", &r.seen)] {
        let Some(b) = b else { continue };
        let overdue = b.over_grace_count > 0;
        let mut detail = format!("{} citizens' message(s) waiting", b.count);
        if let Some(age) = b.oldest_age_minutes {
            detail.push_str(&format!(
                ", oldest {}",
                span(time::Duration::seconds_f64(age * 60.0))
            ));
        }
        if let (Some(d), Some(at)) = (b.days_until_deletion, b.deletion_at) {
            detail.push_str(&format!(
                ", Suomi.fi deletes it in {} ({})",
                days(d),
                when(at)
            ));
        }
        if !b.complete {
            detail.push_str(" (lower bound: scan incomplete)");
        }
        t.row(vec![
            label.into(),
            Cell::new(
                if overdue {
                    format!("{} overdue", b.over_grace_count)
                } else {
                    "ok".into()
                },
                if overdue { Tone::Warn } else { Tone::Good },
            ),
            detail.into(),
        ]);
    }
    t
}

/// The tone of a certificate status name.
pub fn cert_tone(s: check_certificates::evaluate::Status) -> Tone {
    use check_certificates::evaluate::Status;
    match s {
        Status::Ok => Tone::Good,
        Status::Warning | Status::NotYetValid => Tone::Warn,
        _ => Tone::Bad,
    }
}

/// The certificate report as aligned rows, and the DVV submission when one is due.
pub fn render_certificates(r: &check_certificates::Report, style: &Style) -> String {
    let now = time::OffsetDateTime::now_utc();
    let mut out = format!(
        "{} {} target(s)  {}\n",
        style.heading("Certificate check:"),
        r.summary.targets,
        style.paint(&format!("(checked {})", r.checked_at), Tone::Dim)
    );
    let mut t = Table::new(&[
        "TARGET",
        "SOURCE",
        "STATUS",
        "DAYS LEFT",
        "EXPIRES",
        "THIS RUN",
    ]);
    for target in &r.targets {
        let expires = target
            .not_after
            .as_deref()
            .and_then(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(|t| format!("{} ({})", crate::output::day(t), relative(t, now)))
            .unwrap_or_else(|| {
                if target.error.is_some() {
                    "see below".into()
                } else {
                    "-".into()
                }
            });
        let mut notes: Vec<String> = target
            .alerts
            .iter()
            .filter(|a| a.outcome != "unchanged")
            .map(|a| format!("{} {}", a.alert, a.outcome))
            .collect();
        if let Some(c) = &target.change
            && c.verdict != "same"
        {
            notes.push(format!("certificate {}", c.verdict));
        }
        let source = match target.role {
            Some(role) => format!("{} ({role})", target.source),
            None => target.source.to_owned(),
        };
        t.row(vec![
            target.target.clone().into(),
            source.into(),
            Cell::new(target.status.as_str(), cert_tone(target.status)),
            target
                .days_left
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into())
                .into(),
            expires.into(),
            notes.join(", ").into(),
        ]);
    }
    out.push_str(&t.render(style, 2));
    for target in &r.targets {
        if let Some(e) = &target.error {
            out.push_str(&format!(
                "  {} {}\n",
                style.paint(&format!("{}:", target.target), Tone::Bad),
                crate::output::clip(e, 400)
            ));
        }
    }
    for target in &r.targets {
        if let Some(sub) = target
            .change
            .as_ref()
            .and_then(|c| c.dvv_submission.as_ref())
        {
            out.push_str(&format!(
                "\n{} `{}` has a new signing certificate with a different common name or authority chain.\nSend its public part to {} with the subject \"{}\":\n{}",
                style.paint("DVV submission needed:", Tone::Warn),
                target.target,
                sub.to,
                sub.subject,
                sub.certificate_pem
            ));
        }
    }
    out
}

/// `check updates`.
#[derive(Args, Debug)]
pub struct UpdatesArgs {
    /// Check the dependency list embedded in this built binary (for example
    /// .aws-sam/build/CheckUpdatesFunction/bootstrap) instead of this command's own. Both come from
    /// the workspace's one Cargo.lock; this command links every function's code, so its own list
    /// covers all four.
    #[arg(long, value_name = "PATH")]
    binary: Option<std::path::PathBuf>,

    /// The OSV API [default: https://api.osv.dev; https only, http only to loopback].
    #[arg(long, env = "OSV_API_URL", value_name = "URL")]
    osv_api_url: Option<String>,

    /// Amendments of the deadline list, as the function's DEADLINES (a JSON array).
    #[arg(long, env = "DEADLINES", value_name = "JSON")]
    deadlines: Option<String>,

    /// The state table (alert state). Needed for a real run; a dry run reads it when given.
    #[arg(long, env = "STATE_TABLE", value_name = "TABLE")]
    state_table: Option<String>,

    /// The SNS topic for notifications. Needed for a real run.
    #[arg(long, env = "ALERT_TOPIC_ARN", value_name = "ARN")]
    alert_topic_arn: Option<String>,

    #[command(flatten)]
    run: RunArgs,
}

suomifi_shared::embed_dependency_list!();

/// The dependency list to check: from `--binary`, or this command's own.
fn updates_list(args: &UpdatesArgs) -> Result<check_updates::deps::DependencyList, CliError> {
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    match &args.binary {
        None => check_updates::deps::own(DEPENDENCY_LIST).map_err(|e| CliError::new(e.to_string())),
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            suomifi_shared::deps::find_in_binary(&bytes).ok_or_else(|| {
                CliError::usage(format!(
                    "{} carries no dependency list (format {})",
                    path.display(),
                    suomifi_shared::deps::FORMAT
                ))
                .hint("give a function binary built from this workspace (make package)")
            })
        }
    }
}

/// `check updates`.
pub async fn updates(args: UpdatesArgs, style: &Style) -> CliResult {
    let deps = updates_list(&args)?;
    let mut env = vec![(
        "STATE_TABLE",
        args.state_table
            .clone()
            .unwrap_or_else(|| NO_TABLE.to_owned()),
    )];
    for (name, value) in [
        ("OSV_API_URL", &args.osv_api_url),
        ("DEADLINES", &args.deadlines),
        ("ALERT_TOPIC_ARN", &args.alert_topic_arn),
    ] {
        if let Some(v) = value {
            env.push((name, v.clone()));
        }
    }
    let config = check_updates::Config::from_env(&suomifi_shared::config::Env::from_pairs(env))
        .map_err(|e| CliError::usage(e.to_string()))?;
    let osv = check_updates::osv::HttpOsv::new(
        config.osv_api.clone(),
        config.osv_timeout,
        suomifi_shared::suomifi::RetryPolicy::default(),
    )
    .map_err(|e| CliError::new(e.to_string()))?;
    let sdk = crate::aws_config().await?;
    let (store, notifier) = adapters(
        &sdk,
        args.state_table.as_deref(),
        args.alert_topic_arn.as_deref(),
        args.run.dry_run,
    )?;
    let ports = check_updates::Ports {
        osv,
        store,
        notifier: notifier.clone(),
        clock: SystemClock,
    };
    let outcome = check_updates::Checker::new(config, deps, ports).run().await;
    print_run(
        args.run,
        &outcome.report,
        render_updates(&outcome.report, style),
        &notifier,
        &outcome.failures,
        style,
    )?;
    Ok(match outcome.report.status {
        "ok" => exit::OK,
        "affected" => exit::CRITICAL,
        _ => exit::WARNING,
    })
}

/// The update report for a terminal.
pub fn render_updates(r: &check_updates::Report, style: &Style) -> String {
    let mut out = String::new();
    let (status, tone) = match r.status {
        "ok" => ("OK: no advisory affects a linked version", Tone::Good),
        "affected" => ("AFFECTED: advisories for linked versions", Tone::Bad),
        _ => (
            "UNKNOWN: OSV could not be asked (this is no all-clear)",
            Tone::Warn,
        ),
    };
    out.push_str(&format!(
        "{}\n{}\n",
        style.heading("Update check"),
        style.paint(status, tone)
    ));
    let l = &r.dependency_list;
    out.push_str(&format!(
        "  {} crates linked by {} {} ({})\n",
        l.crates, l.package, l.version, l.target
    ));
    if let Some(e) = &r.osv_error {
        out.push_str(&format!("  {}\n", style.paint(e, Tone::Warn)));
    }
    for a in &r.advisories {
        let fixed: Vec<String> = a
            .first_fixed
            .iter()
            .map(|f| f.clone().unwrap_or_else(|| "none published".into()))
            .collect();
        out.push_str(&format!(
            "  {} {} {}: {} [{}] first fixed: {}\n",
            style.paint(&a.ids.join(" / "), Tone::Bad),
            a.crate_name,
            a.versions.join(", "),
            a.summary,
            a.severity,
            fixed.join(", ")
        ));
    }
    for u in &r.undetermined {
        out.push_str(&format!("  undetermined {}: {}\n", u.key, u.reason));
    }
    out.push_str(&format!("\n{}\n", style.heading("Deadlines")));
    for d in &r.deadlines {
        let tone = match d.standing {
            "imminent" | "passed" => Tone::Bad,
            "approaching" => Tone::Warn,
            _ => Tone::Dim,
        };
        let when = match (&d.date, d.days_left) {
            (Some(date), Some(n)) if n >= 0 => format!("{date} (in {n} days)"),
            (Some(date), Some(n)) => format!("{date} ({} days ago)", -n),
            _ => "no date announced".into(),
        };
        out.push_str(&format!(
            "  {} {}: {}\n",
            style.paint(&format!("{:<12}", d.standing), tone),
            d.title,
            when
        ));
    }
    out
}
