//! `check retrieval` / `check certificates` / `check updates`: one run of a check, in-process, with the real AWS
//! adapters and the checks' own library code — the scheduled functions and this command cannot
//! drift apart. Options are parsed into typed values by the checks' own parsers
//! ([`check_retrieval::config::parse_systems`], [`check_certificates::targets::parse_targets`],
//! [`check_certificates::evaluate::Thresholds::parse`], [`check_updates::deadlines`]) as clap
//! value parsers, and the configuration is built by the checks' own typed constructors
//! (`Config::new`), the one validation `Config::from_env` ends in too — so a value is refused
//! here exactly as in Lambda, and the error names the option.

use crate::dryrun::{CliNotifier, CliStore, adapters};
use crate::error::{CliError, CliResult, exit};
use crate::output::Style;
use crate::render::{
    notifications_json, render_certificates, render_fleet, render_notifications, render_updates,
};
use check_retrieval::config::System;
use check_retrieval::fleet::FleetReport;
use clap::Args;
use serde_json::json;
use std::time::Duration;
use suomifi_shared::clock::SystemClock;
use suomifi_shared::config::{ConfigError, saturating_units};

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

/// A whole number, spaces around it allowed (as the functions read their variables).
pub fn whole_number(raw: &str) -> Result<u64, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a whole number"))
}

/// The reason of a configuration error, without the variable: clap (or [`option_error`]) names
/// the option.
fn reason(e: ConfigError) -> String {
    match e {
        ConfigError::Invalid { reason, .. } => reason,
        ConfigError::Missing(_) => "is required".to_owned(),
    }
}

/// `--systems`: the retrieval function's `SYSTEMS`, parsed and checked by its own parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemsList(pub Vec<System>);

/// Parses `--systems` with [`check_retrieval::config::parse_systems`].
pub fn systems_list(raw: &str) -> Result<SystemsList, String> {
    check_retrieval::config::parse_systems(raw)
        .map(SystemsList)
        .map_err(reason)
}

/// `--cert-targets`: the certificate function's `CERT_TARGETS`, parsed by its own parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertTargets(pub Vec<check_certificates::targets::Target>);

/// Parses `--cert-targets` with [`check_certificates::targets::parse_targets`].
pub fn cert_targets(raw: &str) -> Result<CertTargets, String> {
    check_certificates::targets::parse_targets(raw)
        .map(CertTargets)
        .map_err(|e| {
            format!(
                "{e}\n\nhint: a JSON array, e.g. '[{{\"name\":\"api\",\"tls\":\"api.messages.suomi.fi:443\"}}]'"
            )
        })
}

/// Parses `--threshold-days` with [`check_certificates::evaluate::Thresholds::parse`].
pub fn threshold_days(raw: &str) -> Result<check_certificates::evaluate::Thresholds, String> {
    check_certificates::evaluate::Thresholds::parse(raw).map_err(|e| e.to_string())
}

/// `--deadlines`: the shipped deadline list with the update function's `DEADLINES` applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines(pub Vec<check_updates::deadlines::Deadline>);

/// Parses `--deadlines` with [`check_updates::deadlines::with_overrides`].
pub fn deadlines(raw: &str) -> Result<Deadlines, String> {
    check_updates::deadlines::with_overrides(check_updates::deadlines::shipped(), raw)
        .map(Deadlines)
}

/// A check's configuration error as a usage error naming the option of `A` that reads the
/// variable the error names (every such option reads it as its environment fallback).
pub fn option_error<A: Args>(e: ConfigError) -> CliError {
    let var = match &e {
        ConfigError::Invalid { name, .. } | ConfigError::Missing(name) => *name,
    };
    let cmd = A::augment_args(clap::Command::new("suomifi-ops"));
    let option = cmd
        .get_arguments()
        .find(|a| a.get_env().and_then(|v| v.to_str()) == Some(var))
        .and_then(|a| a.get_long())
        .map_or_else(|| var.to_owned(), |l| format!("--{l}"));
    match e {
        ConfigError::Missing(_) => CliError::usage(format!("{option} is required")),
        ConfigError::Invalid { reason, .. } => CliError::usage(format!("{option}: {reason}")),
    }
}

/// Thresholds of the retrieval check (defaults as in the function).
#[derive(Args, Debug, Clone, Default)]
pub struct RetrievalThresholds {
    /// Warn when the checkpoint's updatedAt is older than this [default: 30].
    #[arg(long, env = "HEARTBEAT_MAX_AGE_MINUTES", value_name = "MINUTES", value_parser = whole_number)]
    heartbeat_max_age_minutes: Option<u64>,

    /// Warn when a citizen's message has waited longer than this [default: 60].
    #[arg(long, env = "BACKLOG_GRACE_MINUTES", value_name = "MINUTES", value_parser = whole_number)]
    backlog_grace_minutes: Option<u64>,

    /// Warn when the password is older than this, 1-365 [default: 180, DVV's six months].
    #[arg(long, env = "PASSWORD_MAX_AGE_DAYS", value_name = "DAYS", value_parser = whole_number)]
    password_max_age_days: Option<u64>,

    /// Repeat an open alert this often [default: 24].
    #[arg(long, env = "REMINDER_HOURS", value_name = "HOURS", value_parser = whole_number)]
    reminder_hours: Option<u64>,
}

/// `check retrieval`.
#[derive(Args, Debug)]
pub struct RetrievalArgs {
    /// Every system to check, as the function's SYSTEMS: a JSON array of {"name", "secret",
    /// "checkpoint"?}. Instead of --secret-id.
    #[arg(long, env = "SYSTEMS", value_name = "JSON", value_parser = systems_list, conflicts_with_all = ["secret_id", "checkpoint_parameter"])]
    systems: Option<SystemsList>,

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
    #[arg(long, env = "CERT_TARGETS", value_name = "JSON", value_parser = cert_targets)]
    cert_targets: CertTargets,

    /// The state table (alert state, remembered certificates). Needed for a real run; a dry run
    /// reads it when given.
    #[arg(long, env = "STATE_TABLE", value_name = "TABLE")]
    state_table: Option<String>,

    /// The SNS topic for notifications. Needed for a real run.
    #[arg(long, env = "ALERT_TOPIC_ARN", value_name = "ARN")]
    alert_topic_arn: Option<String>,

    /// Days before expiry at which to notify, once each [default: 60,30,14,7,3,1].
    #[arg(long, env = "THRESHOLD_DAYS", value_name = "DAYS,...", value_parser = threshold_days)]
    threshold_days: Option<check_certificates::evaluate::Thresholds>,

    /// Reminder interval below the last threshold and while expired [default: 24].
    #[arg(long, env = "REMINDER_HOURS", value_name = "HOURS", value_parser = whole_number)]
    reminder_hours: Option<u64>,

    /// Budget for fetching one target's certificate [default: 10].
    #[arg(long, env = "PROBE_TIMEOUT_SECONDS", value_name = "SECONDS", value_parser = whole_number)]
    probe_timeout_seconds: Option<u64>,

    /// How many targets are fetched at once [default: 16].
    #[arg(long, env = "PROBE_CONCURRENCY", value_name = "N", value_parser = whole_number)]
    probe_concurrency: Option<u64>,

    #[command(flatten)]
    run: RunArgs,
}

/// Stands in for `STATE_TABLE` when a dry run has no table: the overlay then never reads it.
const NO_TABLE: &str = "(none: dry run on an empty state)";

/// Which systems a retrieval check covers: the function's `SYSTEMS` list, or one secret (and
/// its checkpoint parameter).
#[derive(Debug, Clone, Copy)]
pub enum Systems<'a> {
    /// `--systems` (`SYSTEMS`), parsed.
    List(&'a [System]),
    /// `--secret-id` and `--checkpoint-parameter`.
    One {
        /// The secret.
        secret_id: &'a str,
        /// The checkpoint parameter.
        checkpoint: Option<&'a str>,
    },
}

/// The retrieval check's configuration, validated by its own constructor; an error names the
/// variable (see [`option_error`] for the option).
pub fn retrieval_config(
    systems: Systems<'_>,
    state_table: Option<&str>,
    topic: Option<&str>,
    th: &RetrievalThresholds,
) -> Result<check_retrieval::config::Config, ConfigError> {
    use check_retrieval::config::{Config, Settings};
    let d = Settings::default();
    let or = |n: Option<u64>, default, unit| n.map_or(default, |n| saturating_units(n, unit));
    let (list, secret_id, checkpoint_parameter) = match systems {
        Systems::List(list) => (Some(list.to_vec()), None, None),
        Systems::One {
            secret_id,
            checkpoint,
        } => (
            None,
            Some(secret_id.to_owned()),
            checkpoint.map(str::to_owned),
        ),
    };
    Config::new(Settings {
        systems: list,
        secret_id,
        checkpoint_parameter,
        state_table: state_table.unwrap_or(NO_TABLE).to_owned(),
        alert_topic_arn: topic.map(str::to_owned),
        heartbeat_max_age: or(
            th.heartbeat_max_age_minutes,
            d.heartbeat_max_age,
            time::Duration::MINUTE,
        ),
        backlog_grace: or(
            th.backlog_grace_minutes,
            d.backlog_grace,
            time::Duration::MINUTE,
        ),
        password_max_age: or(
            th.password_max_age_days,
            d.password_max_age,
            time::Duration::DAY,
        ),
        reminder: or(th.reminder_hours, d.reminder, time::Duration::HOUR),
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

/// The certificate check's configuration, validated by its own constructor.
fn certificates_config(args: &CertificatesArgs) -> Result<check_certificates::Config, CliError> {
    let d = check_certificates::Config::defaults(
        args.cert_targets.0.clone(),
        args.state_table.as_deref().unwrap_or(NO_TABLE),
    );
    check_certificates::Config {
        alert_topic_arn: args.alert_topic_arn.clone(),
        thresholds: args.threshold_days.clone().unwrap_or(d.thresholds.clone()),
        reminder: args
            .reminder_hours
            .map_or(d.reminder, |h| saturating_units(h, time::Duration::HOUR)),
        probe_timeout: args
            .probe_timeout_seconds
            .map_or(d.probe_timeout, Duration::from_secs),
        concurrency: args
            .probe_concurrency
            .map_or(d.concurrency, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        ..d
    }
    .validated()
    .map_err(option_error::<CertificatesArgs>)
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
        (None, Some(list)) => Systems::List(&list.0),
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
    )
    .map_err(option_error::<RetrievalArgs>)?;
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
    #[arg(long, env = "DEADLINES", value_name = "JSON", value_parser = deadlines)]
    deadlines: Option<Deadlines>,

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
    let mut settings =
        check_updates::Config::defaults(args.state_table.as_deref().unwrap_or(NO_TABLE));
    // Parsed here, not by clap: clap's error would echo the URL, credentials and all.
    if let Some(url) = &args.osv_api_url {
        settings.osv_api = suomifi_shared::suomifi::ApiBase::parse(url)
            .map_err(|e| CliError::usage(format!("--osv-api-url: {e}")))?;
    }
    if let Some(list) = &args.deadlines {
        settings.deadlines = list.0.clone();
    }
    settings.alert_topic_arn = args.alert_topic_arn.clone();
    let config = settings.validated().map_err(option_error::<UpdatesArgs>)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        retrieval: RetrievalArgs,
    }

    fn parse(args: &[&str]) -> Result<RetrievalArgs, clap::Error> {
        let m = Probe::command()
            .try_get_matches_from(std::iter::once("probe").chain(args.iter().copied()))?;
        Probe::from_arg_matches(&m).map(|p| p.retrieval)
    }

    #[test]
    fn a_bad_systems_list_is_a_usage_error_naming_the_option_and_the_entry() {
        let err = parse(&["--systems", r#"[{"name":"a"}]"#]).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(text.contains("--systems"), "{text}");
        assert!(text.contains("entry #1 (`a`): has no `secret`"), "{text}");
        assert!(!text.contains("environment variable"), "{text}");
        let ok = parse(&["--systems", r#"[{"name":"a","secret":"s"}]"#]).unwrap();
        assert_eq!(ok.systems.unwrap().0[0].secret_id, "s");
    }

    #[test]
    fn a_value_out_of_range_names_the_option_not_the_variable() {
        let args = parse(&["--secret-id", "s", "--heartbeat-max-age-minutes", "0"]).unwrap();
        let e = retrieval_config(
            Systems::One {
                secret_id: "s",
                checkpoint: None,
            },
            None,
            Some("alerts"),
            &args.thresholds,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Invalid {
                name: "HEARTBEAT_MAX_AGE_MINUTES",
                ..
            }
        ));
        let cli = option_error::<RetrievalArgs>(e);
        assert_eq!(cli.code, exit::USAGE);
        assert!(
            cli.message
                .starts_with("--heartbeat-max-age-minutes: `0` is outside"),
            "{}",
            cli.message
        );
        let topic = option_error::<RetrievalArgs>(ConfigError::Invalid {
            name: "ALERT_TOPIC_ARN",
            reason: "x".into(),
        });
        assert_eq!(topic.message, "--alert-topic-arn: x");
        let secret = option_error::<RetrievalArgs>(ConfigError::Missing("SUOMIFI_SECRET_ID"));
        assert_eq!(secret.message, "--secret-id is required");
    }

    #[test]
    fn numbers_and_certificate_values_parse_with_the_functions_parsers() {
        assert_eq!(whole_number(" 45 "), Ok(45));
        assert!(whole_number("soon").is_err());
        assert!(
            threshold_days("30,,7")
                .unwrap_err()
                .contains("an empty item")
        );
        let err = cert_targets(r#"[{"name":1}]"#).unwrap_err();
        assert!(err.contains("entry #") && err.contains("hint:"), "{err}");
        assert_eq!(
            cert_targets(r#"[{"name":"api","tls":"api.messages.suomi.fi:443"}]"#)
                .unwrap()
                .0
                .len(),
            1
        );
        assert!(deadlines("[{\"id\": \"new\"}]").is_err());
    }

    #[test]
    fn the_typed_retrieval_config_equals_the_functions_own_from_the_same_values() {
        let args = parse(&[
            "--systems",
            r#"[{"name":"edu","secret":"suomifi/edu","checkpoint":"/edu/cp"}]"#,
            "--state-table",
            "t",
            "--password-max-age-days",
            "90",
        ])
        .unwrap();
        let list = args.systems.clone().unwrap();
        let ours = retrieval_config(
            Systems::List(&list.0),
            args.state_table.as_deref(),
            None,
            &args.thresholds,
        )
        .unwrap();
        let theirs =
            check_retrieval::config::Config::from_env(&suomifi_shared::config::Env::from_pairs([
                (
                    "SYSTEMS",
                    r#"[{"name":"edu","secret":"suomifi/edu","checkpoint":"/edu/cp"}]"#,
                ),
                ("STATE_TABLE", "t"),
                ("PASSWORD_MAX_AGE_DAYS", "90"),
            ]))
            .unwrap();
        assert_eq!(ours, theirs);
    }
}
