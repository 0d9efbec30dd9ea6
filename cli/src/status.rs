//! `status`: one screen of health, read-only.
//!
//! - **Credentials**, per secret: the password's age from Secrets Manager's metadata against DVV's
//!   guidance (at least every six months, at least once a year), last and next rotation, and
//!   whether rotation is failing — evaluated by the retrieval check's own rules, so `status`
//!   and the alerts agree.
//! - **Retrieval**: the retrieval check as a dry run (heartbeat, backlog, days to deletion).
//! - **Certificates**: the certificate check as a dry run when `CERT_TARGETS` is given, otherwise
//!   the certificates as `check-certificates` last saw them (from the state table).
//! - **Who has read the password**: per secret, the people watch-access recorded since its
//!   last rotation, and when the exposure rotation is due (its ledger in the state table).
//! - **Open alerts**: the alert records in the state table.
//!
//! Dry runs read the state table but never write it ([`crate::dryrun`]).

use crate::check::{
    CertTargets, RetrievalThresholds, Systems, SystemsList, cert_targets, certificates_exit,
    option_error, retrieval_config, run_certificates, run_retrieval, systems_list, threshold_days,
};
use crate::dryrun::adapters;
use crate::error::{CliError, CliResult, exit};
use crate::output::{Cell, Style, Table, Tone, day, days, relative, when};
use crate::render::{cert_tone, retrieval_table, severity_tone, systems_table};
use check_retrieval::evaluate::{PasswordAge, RotationTrouble, password_age};
use check_retrieval::ports::RotationMetadata;
use clap::Args;
use serde_json::{Value, json};
use suomifi_shared::alerts::AlertRecord;
use suomifi_shared::notify::Severity;
use suomifi_shared::secrets::{SecretStore, SecretsManager};
use time::OffsetDateTime;
use watch_access::ledger::SecretLedger;

/// How long `status` reads the events feed; the report marks counts as lower bounds when cut.
const STATUS_SCAN_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// `status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Every Suomi.fi system, as the retrieval function's SYSTEMS (a JSON array of {"name",
    /// "secret", "checkpoint"?}): each one's credentials and retrieval are shown.
    #[arg(
        long,
        env = "SYSTEMS",
        value_name = "JSON",
        value_parser = systems_list,
        conflicts_with = "checkpoint_parameter"
    )]
    systems: Option<SystemsList>,

    /// Credentials secrets (names or ARNs), comma-separated or repeated. Without --systems, the
    /// first is the one whose retrieval is checked.
    #[arg(
        long,
        env = "SUOMIFI_SECRET_ID",
        value_delimiter = ',',
        value_name = "ID"
    )]
    secret_id: Vec<String>,

    /// The retriever's checkpoint parameter (turns on the heartbeat and backlog rows).
    #[arg(long, env = "CHECKPOINT_PARAMETER", value_name = "NAME")]
    checkpoint_parameter: Option<String>,

    /// The state table (open alerts; certificates as last seen).
    #[arg(long, env = "STATE_TABLE", value_name = "TABLE")]
    state_table: Option<String>,

    /// The certificate targets, as the function's CERT_TARGETS (checks them live).
    #[arg(long, env = "CERT_TARGETS", value_name = "JSON", value_parser = cert_targets)]
    cert_targets: Option<CertTargets>,

    /// Certificate thresholds, as the function's THRESHOLD_DAYS [default: 60,30,14,7,3,1].
    #[arg(long, env = "THRESHOLD_DAYS", value_name = "DAYS,...", value_parser = threshold_days)]
    threshold_days: Option<check_certificates::evaluate::Thresholds>,

    #[command(flatten)]
    thresholds: RetrievalThresholds,

    /// Print everything as one JSON document (for scripts).
    #[arg(long)]
    json: bool,
}

fn severity_exit(s: Option<Severity>) -> u8 {
    match s {
        Some(Severity::Critical) => exit::CRITICAL,
        Some(Severity::Warning) => exit::WARNING,
        _ => exit::OK,
    }
}

/// DVV's guidance for a password of this age, and how it looks.
fn guidance(p: &PasswordAge, limit_days: i64) -> (String, Tone) {
    match p.age.map(|a| a.whole_days()) {
        None => ("age unknown".into(), Tone::Warn),
        Some(d) if d > 365 => ("over a year: rotate now".into(), Tone::Bad),
        Some(d) if d > limit_days => (format!("over {limit_days} d: rotate"), Tone::Warn),
        Some(_) => (format!("ok (under {limit_days} d)"), Tone::Good),
    }
}

/// Runs `status`.
pub async fn run(args: StatusArgs, style: &Style) -> CliResult {
    let mut secrets: Vec<String> = args
        .secret_id
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if secrets.is_empty()
        && args.systems.is_none()
        && args.state_table.is_none()
        && args.cert_targets.is_none()
    {
        return Err(CliError::usage("nothing to show").hint(
            "give --systems (SYSTEMS) or --secret-id (SUOMIFI_SECRET_ID), --state-table (STATE_TABLE) and/or --cert-targets (CERT_TARGETS): the stack's outputs",
        ));
    }
    let systems = match (&args.systems, secrets.first()) {
        (Some(list), _) => Some(Systems::List(&list.0)),
        (None, Some(first)) => Some(Systems::One {
            secret_id: first,
            checkpoint: args.checkpoint_parameter.as_deref(),
        }),
        (None, None) => None,
    };
    let config = systems
        .map(|systems| {
            retrieval_config(systems, args.state_table.as_deref(), None, &args.thresholds)
                .map_err(option_error::<StatusArgs>)
        })
        .transpose()?;
    for system in config.iter().flat_map(|c| &c.systems) {
        if !secrets.contains(&system.secret_id) {
            secrets.push(system.secret_id.clone());
        }
    }
    let sdk = crate::aws_config().await?;
    let now = OffsetDateTime::now_utc();
    let mut code = exit::OK;
    let mut text = format!(
        "{}  {}\n",
        style.heading("suomifi-ops status"),
        style.paint(&when(now), Tone::Dim)
    );
    let mut doc = json!({"checkedAt": suomifi_shared::alerts::format_time(now)});
    let mut notes: Vec<String> = Vec::new();
    // Each secret as Secrets Manager describes it, to tell a ledger's round from an old one.
    let mut current: std::collections::HashMap<String, watch_access::ledger::SecretState> =
        std::collections::HashMap::new();

    // Credentials, per secret.
    if let Some(config) = &config {
        let th = config.thresholds;
        let limit = th.password_max_age.whole_days();
        let store = SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk));
        let mut table = Table::new(&[
            "SECRET",
            "PASSWORD AGE",
            "DVV GUIDANCE",
            "LAST ROTATION",
            "NEXT ROTATION",
            "ROTATION",
        ]);
        let mut rows = Vec::new();
        for id in &secrets {
            match store.describe(id).await {
                Err(e) => {
                    code = code.max(exit::FAILED);
                    let why = e
                        .code
                        .clone()
                        .unwrap_or_else(|| crate::output::clip(&e.detail, 100));
                    table.row(vec![
                        id.clone().into(),
                        Cell::new("unreadable", Tone::Bad),
                        why.into(),
                    ]);
                    rows.push(json!({"secretId": id, "error": e.to_string()}));
                }
                Ok(meta) => {
                    current.insert(
                        meta.arn.clone(),
                        watch_access::ledger::SecretState::from(meta.clone()),
                    );
                    let m = RotationMetadata::from(&meta);
                    let p = password_age(&m, now, &th);
                    code = code.max(severity_exit(p.severity));
                    let (guide, tone) = guidance(&p, limit);
                    let (rotation, rtone) = match (&p.trouble, meta.rotation_enabled) {
                        (Some(RotationTrouble::LeftoverPending), _) => {
                            ("FAILED: AWSPENDING left behind".to_owned(), Tone::Bad)
                        }
                        (Some(RotationTrouble::Overdue { .. }), _) => {
                            ("FAILING: next rotation overdue".to_owned(), Tone::Bad)
                        }
                        (None, _) if p.rotation_in_progress => {
                            ("running now".to_owned(), Tone::Warn)
                        }
                        (None, true) => ("on, last ok".to_owned(), Tone::Good),
                        (None, false) => ("OFF".to_owned(), Tone::Warn),
                    };
                    table.row(vec![
                        meta.name.clone().into(),
                        Cell::new(
                            p.age
                                .map(|a| days(a.as_seconds_f64() / 86_400.0))
                                .unwrap_or_else(|| "?".into()),
                            tone,
                        ),
                        Cell::new(guide.clone(), tone),
                        meta.last_rotated
                            .map(|t| relative(t, now))
                            .unwrap_or_else(|| "never".into())
                            .into(),
                        meta.next_rotation
                            .map(day)
                            .unwrap_or_else(|| "-".into())
                            .into(),
                        Cell::new(rotation.clone(), rtone),
                    ]);
                    rows.push(json!({
                        "secretId": id,
                        "name": meta.name,
                        "passwordAgeDays": p.age.map(|a| (a.as_seconds_f64() / 8_640.0).round() / 10.0),
                        "changedAt": p.changed_at.map(suomifi_shared::alerts::format_time),
                        "guidance": guide,
                        "severity": p.severity,
                        "lastRotated": meta.last_rotated.map(suomifi_shared::alerts::format_time),
                        "nextRotation": meta.next_rotation.map(suomifi_shared::alerts::format_time),
                        "rotationEnabled": meta.rotation_enabled,
                        "rotationInProgress": p.rotation_in_progress,
                        "rotation": rotation,
                    }));
                }
            }
        }
        text.push_str(&format!("\n{}\n", style.heading("Credentials")));
        text.push_str(&table.render(style, 2));
        doc["secrets"] = Value::Array(rows);

        // Retrieval: the check itself, as a dry run.
        let (store, notifier) = adapters(&sdk, args.state_table.as_deref(), None, true)?;
        let covered = match config.systems.as_slice() {
            [one] => format!("(secret {})", one.secret_id),
            all => format!("({} systems, worst first)", all.len()),
        };
        text.push_str(&format!(
            "\n{} {}\n",
            style.heading("Retrieval"),
            style.paint(&covered, Tone::Dim)
        ));
        // One screen should come quickly: read the feed for a short while at most (an
        // unwatched checker with no cursor would otherwise read up to 60 days of events).
        match run_retrieval(&sdk, config, store, notifier, STATUS_SCAN_BUDGET).await {
            Ok(report) => {
                code = code.max(match report.status {
                    check_retrieval::report::Status::Ok => exit::OK,
                    check_retrieval::report::Status::Unknown => exit::WARNING,
                    check_retrieval::report::Status::Warning => exit::WARNING,
                    check_retrieval::report::Status::Critical => exit::CRITICAL,
                });
                match report.systems.as_slice() {
                    [one] => text.push_str(&retrieval_table(one).render(style, 2)),
                    _ => text.push_str(&systems_table(&report).render(style, 2)),
                }
                doc["retrieval"] = json!(report);
            }
            Err(e) => {
                code = code.max(exit::FAILED);
                text.push_str(&format!("  {}\n", style.paint(&e.to_string(), Tone::Bad)));
                doc["retrieval"] = json!({"error": e.to_string()});
            }
        }
    } else {
        notes.push(
            "credentials and retrieval: give --systems (SYSTEMS) or --secret-id (SUOMIFI_SECRET_ID)"
                .into(),
        );
    }

    // Certificates: live when the targets are known, else as last seen.
    let records = match &args.state_table {
        Some(t) => match scan(&sdk, t).await {
            Ok(r) => Some(r),
            Err(e) => {
                code = code.max(exit::FAILED);
                notes.push(e.message);
                None
            }
        },
        None => None,
    };
    text.push_str(&format!("\n{}\n", style.heading("Certificates")));
    if let Some(targets) = &args.cert_targets {
        let settings = check_certificates::Config::defaults(
            targets.0.clone(),
            args.state_table.as_deref().unwrap_or("-"),
        );
        let config = check_certificates::Config {
            thresholds: args
                .threshold_days
                .clone()
                .unwrap_or(settings.thresholds.clone()),
            ..settings
        }
        .validated()
        .map_err(option_error::<StatusArgs>)?;
        let (store, notifier) = adapters(&sdk, args.state_table.as_deref(), None, true)?;
        let outcome = run_certificates(&sdk, config, store, notifier).await;
        code = code.max(certificates_exit(&outcome.report));
        let mut t = Table::new(&["TARGET", "STATUS", "DAYS LEFT", "EXPIRES"]);
        for target in &outcome.report.targets {
            t.row(vec![
                target.target.clone().into(),
                Cell::new(target.status.as_str(), cert_tone(target.status)),
                target
                    .days_left
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into())
                    .into(),
                target
                    .not_after
                    .clone()
                    .or_else(|| target.error.clone())
                    .unwrap_or_default()
                    .into(),
            ]);
        }
        text.push_str(&t.render(style, 2));
        doc["certificates"] = json!(outcome.report);
    } else if let Some(r) = &records {
        let mut t = Table::new(&["TARGET", "DAYS LEFT", "EXPIRES", "SUBJECT"]);
        let mut rows = Vec::new();
        for (target, data) in &r.certificates {
            let not_after = data["notAfter"]
                .as_str()
                .or_else(|| data["not_after"].as_str())
                .and_then(|s| {
                    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
                });
            let left = not_after.map(|n| (n - now).whole_days());
            let tone = match left {
                Some(d) if d < 7 => Tone::Bad,
                Some(d) if d < 30 => Tone::Warn,
                Some(_) => Tone::Good,
                None => Tone::Dim,
            };
            t.row(vec![
                target.clone().into(),
                Cell::new(
                    left.map(|d| d.to_string()).unwrap_or_else(|| "?".into()),
                    tone,
                ),
                not_after.map(when).unwrap_or_default().into(),
                data["subject"].as_str().unwrap_or_default().into(),
            ]);
            rows.push(json!({"target": target, "daysLeft": left, "notAfter": not_after.map(suomifi_shared::alerts::format_time)}));
        }
        if t.is_empty() {
            text.push_str(&format!(
                "  {}\n",
                style.paint(
                    "none seen yet (check-certificates has not run, or has no targets)",
                    Tone::Dim
                )
            ));
        } else {
            text.push_str(&t.render(style, 2));
            text.push_str(&format!(
                "  {}\n",
                style.paint(
                    "as check-certificates last saw them; give --cert-targets to check now",
                    Tone::Dim
                )
            ));
        }
        doc["rememberedCertificates"] = Value::Array(rows);
    } else {
        text.push_str(&format!(
            "  {}\n",
            style.paint(
                "not shown: give --cert-targets (CERT_TARGETS) or --state-table (STATE_TABLE)",
                Tone::Dim
            )
        ));
    }

    // Who has read the password since its last rotation (watch-access's ledger).
    if let Some(r) = &records {
        text.push_str(&format!(
            "\n{}\n",
            style.heading("Who has read the password since its last rotation")
        ));
        let (table, rows) = readers_table(&r.ledgers, &current, now);
        if table.is_empty() {
            text.push_str(&format!(
                "  {}\n",
                style.paint("nobody recorded", Tone::Good)
            ));
        } else {
            text.push_str(&table.render(style, 2));
        }
        doc["readers"] = Value::Array(rows);
    }

    // Open alerts.
    text.push_str(&format!("\n{}\n", style.heading("Open alerts")));
    match &records {
        Some(r) if r.alerts.is_empty() => {
            text.push_str(&format!("  {}\n", style.paint("none", Tone::Good)));
            doc["openAlerts"] = json!([]);
        }
        Some(r) => {
            let mut t = Table::new(&["SEVERITY", "OPEN FOR", "LAST NOTIFIED", "ALERT"]);
            let mut rows = Vec::new();
            for (key, rec) in &r.alerts {
                code = code.max(severity_exit(Some(rec.severity)));
                t.row(vec![
                    Cell::new(rec.severity.as_str(), severity_tone(rec.severity)),
                    crate::output::span(now - rec.opened_at).into(),
                    relative(rec.last_notified_at, now).into(),
                    rec.title.clone().into(),
                ]);
                rows.push(json!({
                    "key": key,
                    "severity": rec.severity,
                    "openedAt": suomifi_shared::alerts::format_time(rec.opened_at),
                    "lastNotifiedAt": suomifi_shared::alerts::format_time(rec.last_notified_at),
                    "title": rec.title,
                }));
            }
            text.push_str(&t.render(style, 2));
            doc["openAlerts"] = Value::Array(rows);
        }
        None => text.push_str(&format!(
            "  {}\n",
            style.paint("not shown: give --state-table (STATE_TABLE)", Tone::Dim)
        )),
    }
    for n in &notes {
        text.push_str(&format!("{} {n}\n", style.paint("note:", Tone::Dim)));
    }
    doc["notes"] = json!(notes);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{text}");
    }
    Ok(code)
}

/// What the state table holds: open alerts and remembered certificates.
struct Records {
    alerts: Vec<(String, AlertRecord)>,
    certificates: Vec<(String, Value)>,
    ledgers: Vec<SecretLedger>,
}

/// One row per person who read a password in its current round (the round is current unless
/// Secrets Manager shows another `AWSCURRENT` version or a later rotation; a secret `status` did
/// not describe is shown as recorded), with the exposure rotation's due time.
fn readers_table(
    ledgers: &[SecretLedger],
    current: &std::collections::HashMap<String, watch_access::ledger::SecretState>,
    now: OffsetDateTime,
) -> (Table, Vec<Value>) {
    let mut t = Table::new(&[
        "SECRET",
        "READ BY",
        "FIRST READ",
        "LAST READ",
        "READS",
        "EXPOSURE ROTATION",
    ]);
    let mut rows = Vec::new();
    for l in ledgers {
        if current.get(&l.secret).is_some_and(|s| !l.is_current(s)) {
            continue;
        }
        let rotation = match &l.rotation {
            None => "-".to_owned(),
            Some(r) => match r.requested_at {
                Some(at) => format!("requested {}", relative(at, now)),
                None if r.due_at <= now => format!("due since {}", when(r.due_at)),
                None => format!("due {}", when(r.due_at)),
            },
        };
        for reader in &l.readers {
            t.row(vec![
                watch_access::event::display_name(&l.secret)
                    .to_owned()
                    .into(),
                reader.person.display.clone().into(),
                when(reader.first_read_at).into(),
                relative(reader.last_read_at, now).into(),
                reader.reads.to_string().into(),
                Cell::new(rotation.clone(), Tone::Warn),
            ]);
            rows.push(json!({
                "secret": l.secret,
                "readBy": reader.person.display,
                "principal": reader.person.arn,
                "firstReadAt": suomifi_shared::alerts::format_time(reader.first_read_at),
                "lastReadAt": suomifi_shared::alerts::format_time(reader.last_read_at),
                "reads": reader.reads,
                "rotationDueAt": l.rotation.as_ref().map(|r| suomifi_shared::alerts::format_time(r.due_at)),
                "rotationRequestedAt": l.rotation.as_ref().and_then(|r| r.requested_at).map(suomifi_shared::alerts::format_time),
            }));
        }
    }
    (t, rows)
}

/// Reads the whole state table (it holds one item per alert, target and checker cursor: small).
async fn scan(sdk: &aws_config::SdkConfig, table: &str) -> Result<Records, CliError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let mut out = Records {
        alerts: Vec::new(),
        certificates: Vec::new(),
        ledgers: Vec::new(),
    };
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| crate::aws_error(&format!("reading the state table `{table}`"), &e))?;
        for item in page.items() {
            let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(data))) =
                (item.get("pk"), item.get("data"))
            else {
                continue;
            };
            let Ok(data) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(key) = pk.strip_prefix("alert#") {
                if let Ok(rec) = serde_json::from_value::<AlertRecord>(data) {
                    out.alerts.push((key.to_owned(), rec));
                }
            } else if let Some(target) = pk.strip_prefix("certificate#") {
                out.certificates.push((target.to_owned(), data));
            } else if pk.starts_with("access#")
                && let Ok(l) = serde_json::from_value::<SecretLedger>(data)
            {
                out.ledgers.push(l);
            }
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    out.alerts.sort_by(|a, b| {
        b.1.severity
            .cmp(&a.1.severity)
            .then(a.1.opened_at.cmp(&b.1.opened_at))
    });
    out.certificates.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
