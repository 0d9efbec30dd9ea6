//! `suomifi-sandbox`: a local stand-in for the Suomi.fi Messages REST API.
//!
//! Serves the token, change-password, events, messages and attachments endpoints plus the control
//! API under `/__sandbox/` (documented in the `suomifi_sandbox` crate docs), on loopback unless
//! `--bind` says otherwise. Prints one line with its URL when ready; stops on SIGINT or SIGTERM.
//!
//! Environment:
//! - `SANDBOX_USERNAME`, `SANDBOX_PASSWORD`: instead of `--username` / `--password` (keeps the
//!   password out of the process list).
//! - `SANDBOX_PASSWORD_<USER>`: the start password of a further `--system USER` (`USER` upper
//!   case, every character but letters and digits as `_`); without it, `--password`'s.
//! - `RUST_LOG`: log filter for the request log on stderr (default `info`).

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use suomifi_sandbox::{GenerateEvents, Sandbox, SandboxConfig, Settings, SystemCredentials};
use tracing_subscriber::EnvFilter;

/// A local stand-in for the Suomi.fi Messages REST API, with fault injection.
///
/// Point any Suomi.fi REST client at the printed URL. The control API under /__sandbox/ (state,
/// faults, events, clock, settings) has no authentication: keep the default loopback address.
#[derive(Parser)]
#[command(name = "suomifi-sandbox", version)]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,

    /// Address to listen on. Anything but loopback exposes the unauthenticated control API.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,

    /// API username (the organisation's system id) that POST /v1/token accepts.
    #[arg(long, env = "SANDBOX_USERNAME")]
    username: String,

    /// Initial API password. Prefer the environment variable: arguments are visible to other users.
    #[arg(long, env = "SANDBOX_PASSWORD", hide_env_values = true)]
    password: String,

    /// A further system (API user) to serve, with its own password, cool-down and events;
    /// repeatable. Its start password comes from SANDBOX_PASSWORD_<USER>, else --password.
    #[arg(long = "system", value_name = "USER")]
    systems: Vec<String>,

    /// Seconds that must pass after a password change before the next one is accepted.
    #[arg(long, default_value_t = 0)]
    cool_down_secs: u64,

    /// Maximum number of events per GET /v2/events answer.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    page_size: u64,

    /// Generate this many events at start (20 % end-user messages, one a second, the last one now).
    #[arg(long, default_value_t = 0)]
    seed_events: usize,

    /// Lifetime (expires_in) of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime_secs: u64,

    /// Make a password change invalidate all tokens issued before it.
    #[arg(long)]
    invalidate_tokens_on_password_change: bool,

    /// Refuse a new password equal to any of this many earlier ones (0: only the current one).
    #[arg(long, default_value_t = 0)]
    password_history: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let more_systems = args
        .systems
        .iter()
        .map(|user| SystemCredentials {
            username: user.clone(),
            password: std::env::var(system_password_variable(user))
                .unwrap_or_else(|_| args.password.clone()),
        })
        .collect();
    let config = SandboxConfig {
        addr: SocketAddr::new(args.bind, args.port),
        username: args.username,
        password: args.password,
        more_systems,
        settings: Settings {
            token_lifetime_secs: args.token_lifetime_secs,
            cool_down_secs: args.cool_down_secs,
            page_size: usize::try_from(args.page_size).unwrap_or(usize::MAX),
            invalidate_tokens_on_password_change: args.invalidate_tokens_on_password_change,
            password_history: args.password_history,
            ..Settings::default()
        },
    };
    let sandbox = match Sandbox::start(config).await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!(
                "suomifi-sandbox: cannot listen on {}:{}: {error}",
                args.bind, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    if args.seed_events > 0
        && let Err(error) = sandbox.generate_events(&GenerateEvents::count(args.seed_events))
    {
        eprintln!("suomifi-sandbox: cannot generate events: {error}");
        return ExitCode::FAILURE;
    }
    println!("suomifi-sandbox listening on {}", sandbox.base_url());
    let _ = std::io::stdout().flush();

    stop_signal().await;
    tracing::info!("stopping");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

/// `SANDBOX_PASSWORD_<USER>`: upper case, every character but ASCII letters and digits as `_`.
fn system_password_variable(user: &str) -> String {
    let suffix: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("SANDBOX_PASSWORD_{suffix}")
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
