//! `suomifi-ops`: the operator's command line for the Suomi.fi Messages maintenance bundle.
//!
//! It runs the same code as the scheduled Lambda functions, from a terminal, with the ordinary
//! AWS credential chain (profiles, SSO, environment, instance roles) and the same configuration
//! variables as the functions (`SUOMIFI_SECRET_ID`, `STATE_TABLE`, `CERT_TARGETS`, ...) — or,
//! with `--stack NAME` (`SUOMIFI_OPS_STACK`), all of them from the deployed stack's Outputs
//! ([`stack`]).
//!
//! Commands (each has its own `--help`):
//! - `status`: one screen — password age per credentials secret against DVV's guidance, rotation
//!   health, the retriever's heartbeat and backlog, certificate expiry, open alerts;
//! - `rotate`: starts a Secrets Manager rotation now and follows it to the end;
//! - `check retrieval` / `check certificates`: one run of a check, with `--json` and `--dry-run`;
//! - `checkpoint put`: writes the retriever's checkpoint, for retrievers in any language;
//! - `import-password`: stores the current password (read from standard input) after Suomi.fi
//!   accepted it;
//! - `recover`: the safe way out of a stuck rotation: proves which stored password Suomi.fi
//!   accepts, then keeps that one.
//!
//! Exit codes are in [`error::exit`] and in `--help`.

mod check;
mod checkpoint;
mod dryrun;
mod error;
mod import;
mod output;
mod recover;
mod render;
mod rotate;
mod stack;
mod status;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use error::{CliError, exit};
use output::{Style, Tone};
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  done; or the check/status found nothing wrong
  1  failed: the command could not do its job (the error says what to do)
  2  usage error
  3  the check/status found a warning (needs attention soon), or could not look at a part
  4  the check/status found something critical (needs attention now)

AWS access uses the standard credential chain (AWS_PROFILE, SSO, environment variables, instance
roles) and region (AWS_REGION). Every option marked [env: ...] can come from the same environment
variable the Lambda functions use, or from the deployed stack's Outputs with --stack NAME
(SUOMIFI_OPS_STACK); the command line wins over the environment, which wins over the stack.";

/// Keeps an organisation's connection to Suomi.fi Messages healthy: the operator's view of the
/// credentials rotation, the retrieval of citizens' messages and the certificates.
///
/// Runs the same checks as the scheduled Lambda functions, from your terminal, against the same
/// AWS resources (Secrets Manager, SSM Parameter Store, DynamoDB, SNS).
#[derive(Parser, Debug)]
#[command(name = "suomifi-ops", version, after_long_help = EXIT_CODES, after_help = "Exit codes: 0 ok, 1 failed, 2 usage, 3 warning found, 4 critical found (see --help).")]
struct Cli {
    /// Never colour the output. Colour is also off when stdout is not a terminal or NO_COLOR is set.
    #[arg(long, global = true)]
    no_color: bool,

    /// The deployed stack: secret ARNs, state table, topic, checkpoint parameter and
    /// certificate targets come from its Outputs (needs cloudformation:DescribeStacks).
    #[arg(long, global = true, env = stack::STACK_VAR, value_name = "NAME")]
    stack: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// One screen of health: password age and rotation per secret, retrieval heartbeat and
    /// backlog, certificate expiry, open alerts.
    ///
    /// Reads only: the retrieval and certificate checks run as dry runs (nothing is published,
    /// no alert state changes). Sections whose configuration is missing are skipped with a note
    /// saying which option would turn them on.
    Status(status::StatusArgs),

    /// Start a password rotation now and follow it to the end.
    ///
    /// For when a person who knew the password leaves, or to test the setup. Calls Secrets
    /// Manager RotateSecret (the deployed rotate-password function does the work) and reports
    /// each step as Secrets Manager shows it, until the new password is AWSCURRENT, the rotation
    /// fails, or --timeout passes.
    Rotate(rotate::RotateArgs),

    /// Run one check once and print its report.
    #[command(subcommand)]
    Check(CheckCommand),

    /// The retriever's checkpoint in SSM Parameter Store.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),

    /// Store the current Suomi.fi API password in the credentials secret, after Suomi.fi accepted it.
    ///
    /// Reads the password from standard input (a prompt without echo on a terminal, or a pipe:
    /// `pass show suomifi/prod | suomifi-ops import-password ...`), never from the command line.
    /// It is verified the way DVV describes — a token, then GET /v2/events — and stored only if
    /// that works, as a new AWSCURRENT version (the previous value becomes AWSPREVIOUS). Other
    /// keys of the secret are kept.
    ImportPassword(import::ImportArgs),

    /// The safe way out of a stuck rotation: keep the stored password Suomi.fi accepts.
    ///
    /// Logs in with the AWSPENDING and the AWSCURRENT password (DVV's test: a token, then GET
    /// /v2/events) and then: a working AWSPENDING becomes AWSCURRENT (the old one AWSPREVIOUS);
    /// a refused AWSPENDING is removed only when AWSCURRENT works; when neither works nothing is
    /// changed and the next steps are printed. Exits 0 when the secret is consistent afterwards,
    /// 1 otherwise. Never prints a password. --dry-run only reports.
    Recover(recover::RecoverArgs),
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// The retrieval check: credentials and API, the retriever's heartbeat, the backlog of
    /// citizens' messages and the days before Suomi.fi deletes them, password age.
    ///
    /// Without --dry-run it is exactly a scheduled run: alert state is updated and notifications
    /// are published to the alert topic.
    Retrieval(check::RetrievalArgs),

    /// The certificate check: days left per certificate, the TLS chains, and DVV's
    /// certificate-change rule for the signing certificate.
    ///
    /// Without --dry-run it is exactly a scheduled run: alert state and the remembered
    /// certificates are updated and notifications are published to the alert topic.
    Certificates(check::CertificatesArgs),

    /// The update check: security advisories (OSV) for the crates the bundle links, at their
    /// locked versions, and DVV's and AWS's announced deadlines.
    ///
    /// Without --dry-run it is exactly a scheduled run of check-updates: alert state is updated
    /// and notifications are published to the alert topic.
    Updates(check::UpdatesArgs),
}

#[derive(Subcommand, Debug)]
enum CheckpointCommand {
    /// Write the checkpoint: the continuation token of your retriever's last successful poll.
    ///
    /// Call it after every successful GET /v2/events, also when the page was empty — that is
    /// what makes it a heartbeat. Writes {"continuationToken", "updatedAt"} to the parameter
    /// (type String, overwritten).
    Put(CheckpointPutArgs),
}

/// `checkpoint put`.
#[derive(Args, Debug)]
struct CheckpointPutArgs {
    /// The SSM parameter holding the checkpoint.
    #[arg(long, env = "CHECKPOINT_PARAMETER", value_name = "NAME")]
    parameter: String,

    /// The continuationToken your last successful GET /v2/events returned.
    #[arg(long, value_name = "TOKEN")]
    token: String,

    /// When that poll happened (RFC 3339, e.g. 2026-11-25T12:00:00Z). Default: now.
    #[arg(long, value_name = "TIME")]
    updated_at: Option<String>,
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report_error(&CliError::new(format!("cannot start the runtime: {e}"))),
    };
    let cli = match stack::requested(Cli::command()) {
        None => Cli::parse(),
        Some(name) => match runtime.block_on(stack::outputs(&name)) {
            Ok(outputs) => {
                let matches = stack::with_defaults(Cli::command(), &outputs).get_matches();
                Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
            }
            Err(e) => return report_error(&e),
        },
    };
    let style = Style::detect(cli.no_color);
    let result = runtime.block_on(async {
        match cli.command {
            Command::Status(args) => status::run(args, &style).await,
            Command::Rotate(args) => rotate::run(args, &style).await,
            Command::Check(CheckCommand::Retrieval(args)) => check::retrieval(args, &style).await,
            Command::Check(CheckCommand::Updates(args)) => check::updates(args, &style).await,
            Command::Check(CheckCommand::Certificates(args)) => {
                check::certificates(args, &style).await
            }
            Command::Checkpoint(CheckpointCommand::Put(args)) => {
                checkpoint::put(
                    &args.parameter,
                    &args.token,
                    args.updated_at.as_deref(),
                    &style,
                )
                .await
            }
            Command::ImportPassword(args) => import::run(args, &style).await,
            Command::Recover(args) => recover::run(args, &style).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => report_error(&e),
    }
}

/// Prints `error: ...` (and `hint: ...`) on stderr, coloured when stderr is a terminal.
fn report_error(e: &CliError) -> ExitCode {
    let style = Style::for_stderr();
    eprintln!("{} {}", style.paint("error:", Tone::Bad), e.message);
    if let Some(h) = &e.hint {
        eprintln!("{} {h}", style.paint("hint:", Tone::Warn));
    }
    ExitCode::from(if e.code == exit::OK {
        exit::FAILED
    } else {
        e.code
    })
}

/// The AWS SDK configuration, the standard way (`AWS_PROFILE`, SSO, environment, instance role;
/// `AWS_ENDPOINT_URL` for local stand-ins). A missing region is the one mistake worth catching
/// before the first call, because the SDK's own message does not say how to fix it.
pub(crate) async fn aws_config() -> Result<aws_config::SdkConfig, CliError> {
    let config = suomifi_shared::aws::load_config().await.map_err(|e| {
        CliError::new(e.to_string()).hint(
            "point AWS_ENDPOINT_URL* (or endpoint_url in ~/.aws/config) at https://, or at http:// on 127.0.0.1 for local stand-ins",
        )
    })?;
    if config.region().is_none() {
        return Err(CliError::new("no AWS region configured").hint(
            "set AWS_REGION (for example AWS_REGION=eu-north-1) or a region in your AWS profile",
        ));
    }
    Ok(config)
}

/// An SDK error with the service's code and message, never just "service error" — and never the
/// whole raw response either (headers, body, request ids) that the error's full context prints.
pub(crate) fn aws_error<E, R>(
    what: &str,
    e: &aws_sdk_secretsmanager::error::SdkError<E, R>,
) -> CliError
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = suomifi_shared::aws::sdk_error_detail(e);
    let hint = if detail.contains("credentials") || detail.contains("ExpiredToken") {
        "check your AWS credentials (aws sts get-caller-identity; aws sso login)"
    } else if detail.contains("AccessDenied") || detail.contains("not authorized") {
        "your AWS identity lacks the permission named above; use the operator role of the stack"
    } else if e.as_service_error().is_none() {
        "AWS could not be reached: check the network, AWS_REGION and AWS_ENDPOINT_URL"
    } else {
        "the message above is AWS's own; it names the resource or parameter to fix"
    };
    CliError::new(format!("{what}: {detail}")).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_explains_itself() {
        let mut cmd = Cli::command();
        let help = cmd.render_long_help().to_string();
        for name in [
            "status",
            "rotate",
            "check",
            "checkpoint",
            "import-password",
            "recover",
        ] {
            assert!(help.contains(name), "{name} missing from --help");
        }
        for sub in cmd.get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no about", sub.get_name());
        }
    }
}
