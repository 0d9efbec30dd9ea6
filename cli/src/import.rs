//! `import-password`: the one-time import of the password Suomi.fi accepts now.
//!
//! The order matters: read the secret (so a typo in `--secret-id` fails before anyone types a
//! password), read the password from stdin, prove it with DVV's own test (a token, then
//! `GET /v2/events`), and only then store it. A password Suomi.fi refuses is never stored: it would
//! lock every system using the secret out at the next run, and the rotation would then report
//! drift. The password is held in [`Password`] (prints as `***`) and never written anywhere but
//! the request to Suomi.fi and the `PutSecretValue` call.

use crate::error::{CliError, CliResult, exit};
use crate::output::{Style, Tone};
use clap::Args;
use std::io::{BufRead, IsTerminal, Read};
use std::time::Duration;
use suomifi_shared::secret::{Credentials, DEFAULT_API_URL};
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{ApiBase, ApiError, ClientConfig, HttpSuomifi, SuomifiApi};

/// The username the stack's placeholder secret holds until the import.
const PLACEHOLDER_USERNAME: &str = "REPLACE_WITH_SYSTEM_ID";

/// Standard input larger than this is certainly not a password.
const MAX_INPUT_BYTES: u64 = 4096;

/// `import-password`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The credentials secret (name or ARN).
    #[arg(long, env = "SUOMIFI_SECRET_ID", value_name = "ID")]
    secret_id: String,

    /// The API username (your organisation's Suomi.fi Messages system id). Required when the
    /// secret does not hold one yet (the stack's placeholder); otherwise it replaces the stored one.
    #[arg(long, value_name = "SYSTEM_ID")]
    username: Option<String>,

    /// The API base URL, e.g. https://api.messages-qa.suomi.fi for QA. Default: the one in the
    /// secret, or production.
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,

    /// Timeout of one Suomi.fi request, in seconds.
    #[arg(
        long,
        env = "SUOMIFI_TIMEOUT_SECONDS",
        default_value_t = 10,
        value_name = "SECONDS"
    )]
    timeout_seconds: u64,
}

/// Runs the import.
pub async fn run(args: ImportArgs, style: &Style) -> CliResult {
    let sdk = crate::aws_config().await?;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let secret = &args.secret_id;

    // 1. The secret as it is: its username, API URL and any keys of the operator's own.
    let stored = match sm.get_secret_value().secret_id(secret).send().await {
        Ok(out) => out.secret_string().map(str::to_owned),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            // Either the secret does not exist or it has no AWSCURRENT value: tell them apart.
            if sm.describe_secret().secret_id(secret).send().await.is_err() {
                return Err(CliError::new(format!("secret `{secret}` does not exist")).hint(
                    "use the stack's CredentialsSecretArn output (deploying the stack creates the secret)",
                ));
            }
            None
        }
        Err(e) => return Err(crate::aws_error(&format!("reading secret `{secret}`"), &e)),
    };
    let existing = stored.as_deref().and_then(|s| Credentials::parse(s).ok());
    if stored.is_some() && existing.is_none() {
        eprintln!(
            "{} the secret's current value is not valid credentials JSON; it is replaced (and kept as AWSPREVIOUS)",
            style.paint("note:", Tone::Warn)
        );
    }
    let creds = build_credentials(existing, args.username.as_deref(), args.api_url.as_deref())?;
    let stored_password = stored
        .as_deref()
        .and_then(|s| Credentials::parse(s).ok())
        .map(|c| c.password);

    // 2. The password, from stdin only.
    let password = read_password(&creds.username).await?;

    // 3. DVV's test.
    eprintln!(
        "verifying the password with Suomi.fi ({} as {}) ...",
        creds.api.as_str(),
        creds.username
    );
    let suomifi = HttpSuomifi::new(ClientConfig {
        timeout: Duration::from_secs(args.timeout_seconds.max(1)),
        ..ClientConfig::default()
    });
    let verified = suomifi.verify_credentials(&creds.api, &creds.username, &password);
    if let Err(e) = verified.await {
        return Err(refused(&e, &creds));
    }
    println!(
        "{} Suomi.fi accepted the password (token and GET /v2/events)",
        style.paint("verified:", Tone::Good)
    );

    // 4. Store it, unless it is already what the secret holds.
    if stored_password.as_ref() == Some(&password)
        && stored
            .as_deref()
            .and_then(|s| Credentials::parse(s).ok())
            .as_ref()
            == Some(&creds.with_password(password.clone()))
    {
        println!("the secret already holds exactly this; nothing stored");
        return Ok(exit::OK);
    }
    let value = creds.with_password(password).to_secret_string();
    let out = sm
        .put_secret_value()
        .secret_id(secret)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| crate::aws_error(&format!("storing the password in `{secret}`"), &e))?;
    println!(
        "{} as a new AWSCURRENT version {} of {}; the previous value is AWSPREVIOUS",
        style.paint("stored", Tone::Good),
        out.version_id().unwrap_or("?"),
        out.name().unwrap_or(secret),
    );

    // 5. What to do next: a leftover AWSPENDING blocks the next rotation.
    if let Ok(d) = sm.describe_secret().secret_id(secret).send().await {
        let leftover = d.version_ids_to_stages().and_then(|m| {
            m.iter()
                .find(|(_, s)| {
                    s.iter().any(|l| l == "AWSPENDING") && !s.iter().any(|l| l == "AWSCURRENT")
                })
                .map(|(v, _)| v.clone())
        });
        if let Some(v) = leftover {
            println!(
                "{} an unfinished rotation left AWSPENDING on version {v}; before the next rotation run:\n  suomifi-ops recover --secret-id {secret}\n(it removes the label only after proving the password you just stored works)",
                style.paint("next:", Tone::Warn)
            );
        } else if !d.rotation_enabled().unwrap_or(false) {
            println!(
                "{} turn rotation on (deploy with RotationEnabled: true); the first rotation then runs in the next window",
                style.paint("next:", Tone::Dim)
            );
        }
    }
    Ok(exit::OK)
}

/// The credentials to store: the secret's own, with `--username`/`--api-url` applied.
fn build_credentials(
    existing: Option<Credentials>,
    username: Option<&str>,
    api_url: Option<&str>,
) -> Result<Credentials, CliError> {
    let api = match api_url {
        Some(u) => Some(ApiBase::parse(u.trim()).map_err(|e| {
            CliError::usage(format!("--api-url: {e}")).hint(
                "production is https://api.messages.suomi.fi, QA https://api.messages-qa.suomi.fi",
            )
        })?),
        None => None,
    };
    let username = username.map(str::trim).filter(|u| !u.is_empty());
    let mut creds = match (existing, username) {
        (Some(c), _) => c,
        (None, Some(u)) => Credentials::new(
            u,
            Password::new("-"),
            ApiBase::parse(DEFAULT_API_URL).expect("the default URL is valid"),
        ),
        (None, None) => {
            return Err(CliError::usage(
                "the secret holds no usable credentials, so the username is needed",
            )
            .hint("add --username <your system id>"));
        }
    };
    if let Some(u) = username {
        creds.username = u.to_owned();
    }
    if let Some(api) = api {
        creds.api = api;
    }
    if creds.username == PLACEHOLDER_USERNAME {
        return Err(
            CliError::usage("the secret still holds the stack's placeholder username")
                .hint("add --username <your Suomi.fi Messages system id>"),
        );
    }
    Ok(creds)
}

/// Why Suomi.fi did not accept the password, and that nothing was stored.
fn refused(e: &ApiError, creds: &Credentials) -> CliError {
    match e {
        ApiError::AuthenticationFailed { .. } => CliError::new(format!(
            "Suomi.fi refused this password for {} at {}: {e}; nothing was stored",
            creds.username,
            creds.api.as_str()
        ))
        .hint("check the username and the password (and --api-url: QA and production have different passwords)"),
        ApiError::ClientSetup { .. } => {
            CliError::new(format!("could not verify the password: {e}; nothing was stored"))
        }
        _ if e.outcome_unknown() => CliError::new(format!(
            "could not verify the password: {e}; nothing was stored"
        ))
        .hint("Suomi.fi accepts only addresses on DVV's allow-list: run this where your integration runs, then try again"),
        _ => CliError::new(format!("could not verify the password: {e}; nothing was stored"))
            .hint("give DVV support the traceId above if the reason is unclear"),
    }
}

/// Reads one line from stdin: on a terminal with a prompt and echo turned off; from a pipe as
/// it comes. Ctrl-C at the prompt restores the terminal before exiting.
async fn read_password(username: &str) -> Result<Password, CliError> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprint!("Suomi.fi API password for {username} (input hidden): ");
        set_echo(false).map_err(|e| {
            CliError::new(format!("cannot hide the input on this terminal ({e})"))
                .hint("pipe the password instead, e.g. `pass show suomifi | suomifi-ops import-password ...`")
        })?;
    }
    let reading = tokio::task::spawn_blocking(move || read_stdin(interactive));
    let result = tokio::select! {
        r = reading => r.unwrap_or_else(|e| Err(format!("reading stdin failed: {e}"))),
        _ = tokio::signal::ctrl_c() => {
            if interactive {
                let _ = set_echo(true);
                eprintln!();
            }
            std::process::exit(130);
        }
    };
    if interactive {
        let _ = set_echo(true);
        eprintln!();
    }
    let line = result.map_err(|e| CliError::new(e).hint("give the password on standard input"))?;
    if line.is_empty() {
        return Err(CliError::usage("no password on standard input").hint(
            "type it at the prompt, or pipe it: `pass show suomifi | suomifi-ops import-password ...`",
        ));
    }
    Ok(Password::new(line))
}

/// The first line of stdin without its line ending. A terminal gives one line (Enter ends it);
/// from a pipe everything is read and more non-empty lines are refused (a pasted JSON document
/// or a file of several secrets is not a password).
fn read_stdin(interactive: bool) -> Result<String, String> {
    let mut input = String::new();
    let stdin = std::io::stdin();
    let read = if interactive {
        stdin.lock().read_line(&mut input)
    } else {
        stdin
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_string(&mut input)
    };
    read.map_err(|e| format!("cannot read standard input: {e}"))?;
    first_line(&input)
}

fn first_line(input: &str) -> Result<String, String> {
    if input.len() as u64 > MAX_INPUT_BYTES {
        return Err("standard input is too long to be a password".into());
    }
    let mut lines = input.split('\n');
    let first = lines.next().unwrap_or_default();
    let first = first.strip_suffix('\r').unwrap_or(first);
    if lines.any(|l| !l.trim().is_empty()) {
        return Err("standard input has more than one line; give the password alone".into());
    }
    Ok(first.to_owned())
}

/// Terminal echo on/off through `stty` on the controlling terminal: no unsafe code, no extra
/// crate, and it works wherever an operator has a Unix shell.
fn set_echo(on: bool) -> Result<(), String> {
    let status = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("stty exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_line_is_the_password() {
        assert_eq!(first_line("Secret-1\n").unwrap(), "Secret-1");
        assert_eq!(first_line("Secret-1\r\n").unwrap(), "Secret-1");
        assert_eq!(first_line("Secret-1").unwrap(), "Secret-1");
        assert_eq!(first_line("Secret-1\n\n  \n").unwrap(), "Secret-1");
        let err = first_line("{\"a\":\n\"b\"}\n").unwrap_err();
        assert!(err.contains("more than one line"), "{err}");
        assert!(!err.contains('b'));
    }

    #[test]
    fn the_placeholder_username_must_be_replaced() {
        let placeholder = Credentials::parse(
            r#"{"username":"REPLACE_WITH_SYSTEM_ID","password":"REPLACE_WITH_CURRENT_PASSWORD","apiUrl":"https://api.messages.suomi.fi"}"#,
        )
        .unwrap();
        let err = build_credentials(Some(placeholder.clone()), None, None).unwrap_err();
        assert!(err.message.contains("placeholder"));
        let ok = build_credentials(
            Some(placeholder),
            Some("org-1"),
            Some("https://api.messages-qa.suomi.fi"),
        )
        .unwrap();
        assert_eq!(ok.username, "org-1");
        assert_eq!(ok.api.as_str(), "https://api.messages-qa.suomi.fi");
        assert!(build_credentials(None, None, None).is_err());
        assert!(build_credentials(None, Some("u"), Some("http://example.fi")).is_err());
    }
}
