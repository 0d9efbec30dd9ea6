//! `recover`: the one safe way out of a stuck rotation. The decisions are the rotation crate's
//! own ([`rotate_password::recover`]), over the same Secrets Manager and Suomi.fi adapters the
//! deployed function uses; this module only prints.

use crate::error::{CliError, CliResult, exit};
use crate::output::{Style, Tone};
use clap::Args;
use rotate_password::HttpSuomifi;
use rotate_password::recover::{Probe, Recovery, RecoveryError, VersionProbe};
use std::time::Duration;
use suomifi_shared::secrets::SecretsManager;
use suomifi_shared::suomifi::ClientConfig;

/// `recover`.
#[derive(Args, Debug)]
pub struct RecoverArgs {
    /// The credentials secret (name or ARN).
    #[arg(long, env = "SUOMIFI_SECRET_ID", value_name = "ID")]
    secret_id: String,

    /// Only look and say what would be done; change nothing.
    #[arg(long)]
    dry_run: bool,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,

    /// Timeout of one Suomi.fi request, in seconds.
    #[arg(
        long,
        env = "SUOMIFI_TIMEOUT_SECONDS",
        default_value_t = 10,
        value_name = "SECONDS"
    )]
    timeout_seconds: u64,
}

fn probe_text(p: &Probe) -> (String, Tone) {
    match p {
        Probe::Accepted => ("accepted by Suomi.fi".into(), Tone::Good),
        Probe::Refused => ("refused by Suomi.fi".into(), Tone::Bad),
        Probe::NoValue => ("no value (createSecret never ran)".into(), Tone::Warn),
        Probe::Malformed(why) => (format!("not usable credentials: {why}"), Tone::Bad),
        Probe::Unknown(why) => (format!("could not ask Suomi.fi: {why}"), Tone::Warn),
    }
}

fn print_probe(style: &Style, what: &str, v: &Option<VersionProbe>) {
    if let Some(v) = v {
        let (text, tone) = probe_text(&v.probe);
        println!(
            "  {what:<12} version {} [{}]: {}",
            v.version,
            v.labels.join(", "),
            style.paint(&text, tone)
        );
    }
}

/// Runs the recovery.
pub async fn run(args: RecoverArgs, style: &Style) -> CliResult {
    let sdk = crate::aws_config().await?;
    let recovery = Recovery::new(
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        HttpSuomifi::new(ClientConfig {
            timeout: Duration::from_secs(args.timeout_seconds.max(1)),
            ..ClientConfig::default()
        }),
    );
    let report = recovery
        .run(&args.secret_id, args.dry_run)
        .await
        .map_err(|e| match e {
            RecoveryError::NoCurrent(_) => CliError::new(e.to_string())
                .hint("store the working password first: suomifi-ops import-password"),
            RecoveryError::SecretsManager(_) => CliError::new(e.to_string()).hint(
                "check the secret id and your AWS identity (the stack's operator policy allows recover)",
            ),
        })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::new(e.to_string()))?
        );
    } else {
        println!(
            "{} {}{}",
            style.heading("Recovering"),
            report.secret,
            if report.dry_run { " (dry run)" } else { "" }
        );
        print_probe(style, "AWSPENDING", &report.pending);
        print_probe(style, "AWSCURRENT", &report.current);
        print_probe(style, "AWSPREVIOUS", &report.previous);
        if report.actions.is_empty() {
            println!("  nothing to change");
        }
        for a in &report.actions {
            println!("  {} {a}", style.paint("-", Tone::Good));
        }
        for a in &report.advice {
            println!("{} {a}", style.paint("next:", Tone::Warn));
        }
        if report.consistent {
            println!(
                "{} the password Suomi.fi accepts is AWSCURRENT and no rotation is left half-done",
                style.paint("consistent:", Tone::Good)
            );
        }
    }
    Ok(if report.consistent {
        exit::OK
    } else {
        exit::FAILED
    })
}
