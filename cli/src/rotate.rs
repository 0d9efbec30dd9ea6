//! `rotate`: start a rotation now and follow it to the end.
//!
//! Secrets Manager does the work: `RotateSecret` makes it create the new version (labelled
//! `AWSPENDING`) and invoke the deployed `rotate-password` function for the four steps. From
//! outside, what can be seen is the version's labels and whether it has a value yet, so this
//! command polls `DescribeSecret` (and `GetSecretValue` on the pending version, without printing
//! it) and reports each stage as it appears:
//!
//! 1. the pending version exists (RotateSecret accepted);
//! 2. it holds a new password (createSecret done);
//! 3. it is `AWSCURRENT` (setSecret and testSecret passed, finishSecret promoted it — the
//!    function promotes only a password Suomi.fi has accepted);
//! 4. no `AWSPENDING` is left anywhere (finishSecret removed the label: complete).
//!
//! A failed step is retried by Secrets Manager and leaves the labels as they are, so a failure
//! shows here as "no progress until --timeout"; the message then says where the reason is.

use crate::error::{CliError, CliResult, exit};
use crate::output::{Style, Tone, span, when};
use clap::Args;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// `rotate`.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The credentials secret (name or ARN).
    #[arg(long, env = "SUOMIFI_SECRET_ID", value_name = "ID")]
    secret_id: String,

    /// Give up following after this many seconds (the rotation itself goes on).
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    timeout: u64,

    /// Seconds between two looks at the secret.
    #[arg(long, default_value_t = 2, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=60))]
    poll_seconds: u64,
}

/// How far a rotation has got, as seen from outside. Ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The pending version exists, without a value yet.
    Started,
    /// The pending version holds the new password.
    Created,
    /// The pending version is `AWSCURRENT`.
    Promoted,
    /// `AWSPENDING` removed: done.
    Complete,
}

impl Stage {
    fn describe(self, version: &str, old: Option<&str>) -> String {
        match self {
            Self::Started => {
                format!("RotateSecret accepted: new version {version} labelled AWSPENDING")
            }
            Self::Created => {
                "createSecret: a new password is stored in the pending version (not shown)".into()
            }
            Self::Promoted => format!(
                "setSecret and testSecret passed; finishSecret made {version} AWSCURRENT{}",
                old.map(|o| format!(" (the old version {o} is AWSPREVIOUS)"))
                    .unwrap_or_default()
            ),
            Self::Complete => "AWSPENDING removed: rotation complete".into(),
        }
    }
}

/// What the labels say about `version`: its stage, or why it will not progress.
pub fn observe(
    version: &str,
    stages: &HashMap<String, Vec<String>>,
    has_value: bool,
) -> Result<Stage, String> {
    let labels = stages
        .get(version)
        .ok_or_else(|| format!("version {version} no longer exists"))?;
    let has = |l: &str| labels.iter().any(|x| x == l);
    let pending_elsewhere = stages
        .iter()
        .any(|(v, s)| v != version && s.iter().any(|x| x == "AWSPENDING"));
    Ok(match (has("AWSCURRENT"), has("AWSPENDING")) {
        (true, false) if !pending_elsewhere => Stage::Complete,
        (true, _) => Stage::Promoted,
        (false, true) if has_value => Stage::Created,
        (false, true) => Stage::Started,
        (false, false) => {
            return Err(format!(
                "version {version} lost its AWSPENDING label without becoming AWSCURRENT: the rotation was cancelled or replaced"
            ));
        }
    })
}

fn to_time(d: Option<&aws_sdk_secretsmanager::primitives::DateTime>) -> Option<OffsetDateTime> {
    d.and_then(|d| OffsetDateTime::from_unix_timestamp_nanos(d.as_nanos()).ok())
}

/// Starts the rotation and follows it.
pub async fn run(args: RotateArgs, style: &Style) -> CliResult {
    let sdk = crate::aws_config().await?;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let secret = args.secret_id.as_str();
    let describe = |sm: aws_sdk_secretsmanager::Client| async move {
        sm.describe_secret()
            .secret_id(secret)
            .send()
            .await
            .map_err(|e| crate::aws_error(&format!("DescribeSecret on `{secret}`"), &e))
    };

    // Preflight: say what is wrong before Secrets Manager says it less clearly.
    let before = describe(sm.clone()).await?;
    let name = before.name().unwrap_or(secret).to_owned();
    if !before.rotation_enabled().unwrap_or(false) {
        return Err(CliError::new(format!("rotation is not turned on for `{name}`")).hint(
            "import the current password first (suomifi-ops import-password), then deploy the stack with RotationEnabled: true",
        ));
    }
    let stages = before.version_ids_to_stages().cloned().unwrap_or_default();
    let old = stages
        .iter()
        .find(|(_, s)| s.iter().any(|l| l == "AWSCURRENT"))
        .map(|(v, _)| v.clone());
    if let Some((v, _)) = stages
        .iter()
        .find(|(v, s)| s.iter().any(|l| l == "AWSPENDING") && Some(*v) != old.as_ref())
    {
        let since = to_time(before.last_changed_date())
            .map(|t| format!(" (last change {})", when(t)))
            .unwrap_or_default();
        return Err(CliError::new(format!(
            "a previous rotation of `{name}` is not finished: version {v} is still AWSPENDING{since}"
        ))
        .hint(format!(
            "if it is not running any more, run `suomifi-ops recover --secret-id {secret}`: it proves which stored password Suomi.fi accepts and keeps that one (the AWSPENDING one may be the only password that works), then rotate again"
        )));
    }
    let function = before.rotation_lambda_arn().unwrap_or("(none)").to_owned();
    println!("{} {name}", style.heading("Rotating"));
    println!("  rotation function  {function}");
    if let Some(o) = &old {
        let since = to_time(before.last_rotated_date())
            .map(|t| format!(", last rotated {}", when(t)))
            .unwrap_or_default();
        println!("  current version    {o}{since}");
    }

    let started = Instant::now();
    let out = sm
        .rotate_secret()
        .secret_id(secret)
        .send()
        .await
        .map_err(|e| {
            crate::aws_error("Secrets Manager could not start the rotation", &e).hint(format!(
                "the secret's rotation function ({function}) must exist and let secretsmanager.amazonaws.com invoke it; redeploying the stack sets both"
            ))
        })?;
    let version = out
        .version_id()
        .ok_or_else(|| CliError::new("RotateSecret answered without a VersionId"))?
        .to_owned();

    let step = |s: Stage| {
        println!(
            "  {:>6}  {} {}",
            span(time::Duration::seconds(started.elapsed().as_secs() as i64)),
            style.paint("✓", Tone::Good),
            s.describe(&version, old.as_deref())
        );
    };
    step(Stage::Started);
    let mut reached = Stage::Started;
    let deadline = started + Duration::from_secs(args.timeout);
    let mut last_note = Instant::now();
    loop {
        if reached == Stage::Complete {
            let after = describe(sm.clone()).await?;
            let at = to_time(after.last_rotated_date())
                .map(when)
                .unwrap_or_else(|| "now".into());
            println!(
                "{} in {}: the new password is AWSCURRENT (rotated {at}); the old one no longer works",
                style.paint("Rotation complete", Tone::Good),
                span(time::Duration::seconds(started.elapsed().as_secs() as i64))
            );
            return Ok(exit::OK);
        }
        if Instant::now() >= deadline {
            return Err(CliError::new(format!(
                "the rotation of `{name}` did not finish within {} s; it is at: {}",
                args.timeout,
                reached.describe(&version, old.as_deref())
            ))
            .hint(format!(
                "Secrets Manager retries failed steps by itself. The reason is in the rotate-password log group (/suomifi-ops/<stack>/rotate-password) and the RotationFailedAlarm; `suomifi-ops status --secret-id {secret}` shows whether it is still pending"
            )));
        }
        tokio::time::sleep(Duration::from_secs(args.poll_seconds)).await;
        let now = describe(sm.clone()).await?;
        let stages = now.version_ids_to_stages().cloned().unwrap_or_default();
        let has_value = reached >= Stage::Created || pending_has_value(&sm, secret, &version).await;
        match observe(&version, &stages, has_value) {
            Ok(s) => {
                // Report every stage passed since the last look, in order.
                for passed in [Stage::Created, Stage::Promoted, Stage::Complete] {
                    if passed > reached && passed <= s {
                        step(passed);
                        reached = passed;
                    }
                }
                if last_note.elapsed() >= Duration::from_secs(30) && reached < Stage::Complete {
                    println!(
                        "  {:>6}  {} waiting for the rotation function ...",
                        span(time::Duration::seconds(started.elapsed().as_secs() as i64)),
                        style.paint("…", Tone::Dim)
                    );
                    last_note = Instant::now();
                }
            }
            Err(why) => {
                return Err(CliError::new(why).hint(
                    "someone cancelled the rotation (cancel-rotate-secret) or started another; run `suomifi-ops status` to see the secret's versions",
                ));
            }
        }
    }
}

/// Whether the pending version holds a value yet (createSecret done). An identity without
/// `GetSecretValue` simply sees this stage together with the next one.
async fn pending_has_value(
    sm: &aws_sdk_secretsmanager::Client,
    secret: &str,
    version: &str,
) -> bool {
    sm.get_secret_value()
        .secret_id(secret)
        .version_id(version)
        .version_stage("AWSPENDING")
        .send()
        .await
        .is_ok_and(|o| o.secret_string().is_some() || o.secret_binary().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(v, s)| ((*v).to_owned(), s.iter().map(|x| (*x).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn the_labels_tell_how_far_a_rotation_got() {
        let started = stages(&[("old", &["AWSCURRENT"]), ("new", &["AWSPENDING"])]);
        assert_eq!(observe("new", &started, false), Ok(Stage::Started));
        assert_eq!(observe("new", &started, true), Ok(Stage::Created));
        let promoted = stages(&[
            ("old", &["AWSPREVIOUS"]),
            ("new", &["AWSCURRENT", "AWSPENDING"]),
        ]);
        assert_eq!(observe("new", &promoted, true), Ok(Stage::Promoted));
        let done = stages(&[("old", &["AWSPREVIOUS"]), ("new", &["AWSCURRENT"])]);
        assert_eq!(observe("new", &done, true), Ok(Stage::Complete));
    }

    #[test]
    fn a_cancelled_or_replaced_rotation_is_reported() {
        let cancelled = stages(&[("old", &["AWSCURRENT"]), ("new", &[])]);
        assert!(
            observe("new", &cancelled, true)
                .unwrap_err()
                .contains("cancelled")
        );
        let gone = stages(&[("old", &["AWSCURRENT"])]);
        assert!(
            observe("new", &gone, true)
                .unwrap_err()
                .contains("no longer exists")
        );
    }
}
