//! `checkpoint put`: the retriever's heartbeat for retrievers not written in Rust.
//!
//! The value is written by the shared helper ([`suomifi_shared::checkpoint::put_checkpoint`]),
//! the same code a Rust retriever calls, so the contract `check-retrieval` reads has one
//! implementation.

use crate::error::{CliError, CliResult, exit};
use crate::output::{Style, Tone, when};
use suomifi_shared::checkpoint::{Checkpoint, put_checkpoint};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Writes `{"continuationToken": token, "updatedAt": updated_at or now}` to `parameter`.
pub async fn put(
    parameter: &str,
    token: &str,
    updated_at: Option<&str>,
    style: &Style,
) -> CliResult {
    let token = token.trim();
    if token.is_empty() {
        return Err(CliError::usage("--token is empty")
            .hint("pass the continuationToken your last successful GET /v2/events returned"));
    }
    let at = match updated_at {
        None => OffsetDateTime::now_utc(),
        Some(raw) => OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|e| {
            CliError::usage(format!("--updated-at `{raw}` is not an RFC 3339 time: {e}"))
                .hint("write it with an offset, e.g. 2026-11-25T12:00:00Z")
        })?,
    };
    let now = OffsetDateTime::now_utc();
    if at - now > time::Duration::minutes(5) {
        return Err(CliError::usage(format!(
            "--updated-at {} is in the future",
            when(at)
        ))
        .hint("check the clock of the machine that wrote it; check-retrieval distrusts future times"));
    }
    let sdk = crate::aws_config().await?;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    put_checkpoint(&ssm, parameter, token, at)
        .await
        .map_err(|e| {
            CliError::new(e.to_string()).hint(
                "the retriever needs ssm:PutParameter on this parameter; the parameter name is CHECKPOINT_PARAMETER of the stack",
            )
        })?;
    let written = Checkpoint::new(token, at);
    println!(
        "{} checkpoint {parameter}: continuationToken of {} characters, updatedAt {}",
        style.paint("wrote", Tone::Good),
        written.continuation_token.chars().count(),
        when(written.updated_at),
    );
    Ok(exit::OK)
}
