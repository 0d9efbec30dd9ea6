//! check-certificates: watches the certificates an organisation's Suomi.fi Messages connection
//! depends on — the API hosts' TLS chains, its own service certificates, and the signing
//! certificate installed on Valtori's Shared Integration Platform (VIA) — and applies DVV's
//! certificate-change rule when a new signing certificate appears.
//!
//! Layout (pure parts import no AWS, no tokio):
//! - [`config`]: `CERT_TARGETS` and the other variables, parsed once into types;
//! - [`certs`]: PEM / Base64 DER / PKCS#12 into certificates, and their facts;
//! - [`evaluate`]: thresholds and states, per certificate and per chain;
//! - [`advisor`]: DVV's rule (same common name and authority chain, or a submission);
//! - [`messages`]: the wording of every notification;
//! - [`report`]: the JSON report and the EMF metric lines;
//! - [`sources`]: one port per kind of source, with the AWS and TLS adapters;
//! - [`check`]: one run over all targets, generic over the ports.
//!
//! [`handle`] is the Lambda handler; `main.rs` only wires the adapters in.

pub mod advisor;
pub mod certs;
pub mod check;
pub mod config;
pub mod evaluate;
pub mod messages;
pub mod report;
pub mod sources;

pub use check::{Checker, Ports, RunOutcome};
pub use config::{Config, ConfigError};
pub use report::Report;

use serde_json::Value;
use sources::{AcmSource, SecretSource, TlsSource};
use suomifi_shared::clock::Clock;
use suomifi_shared::notify::Notifier;
use suomifi_shared::state::StateStore;

/// The run could not do all it had to. Every target was still checked, reported and measured;
/// the error makes the invocation fail so Lambda's `Errors` metric (and its alarm) sees it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The state table or SNS failed for some targets: a notification may be missing.
    #[error("{count} state-table or notification operation(s) failed; first: {first}")]
    Alerting {
        /// How many.
        count: usize,
        /// The first, with the target and alert it concerned.
        first: String,
    },
}

impl HandlerError {
    /// Stable `errorType` for alarms and log filters.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Alerting { .. } => "CheckCertificates.AlertingFailed",
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        Self {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The Lambda handler. Accepts any JSON event — an EventBridge rule's scheduled-event envelope,
/// EventBridge Scheduler's verbatim input, or `{}` — since the check needs nothing from it.
///
/// Prints one EMF line per target with a certificate, logs one summary line, and returns the
/// report; fails (after all that) when a notification or state write failed.
pub async fn handle<T, S, A, St, N, C>(
    checker: &Checker<T, S, A, St, N, C>,
    event: Value,
) -> Result<Report, HandlerError>
where
    T: TlsSource,
    S: SecretSource,
    A: AcmSource,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    handle_until(checker, event, None).await
}

/// [`handle`] that answers before `deadline` (see [`Checker::run_until`]).
pub async fn handle_until<T, S, A, St, N, C>(
    checker: &Checker<T, S, A, St, N, C>,
    event: Value,
    deadline: Option<std::time::Instant>,
) -> Result<Report, HandlerError>
where
    T: TlsSource,
    S: SecretSource,
    A: AcmSource,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    let trigger = event
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or("direct invocation")
        .to_owned();
    let outcome = checker.run_until(deadline).await;
    for line in outcome.report.metric_lines(outcome.at) {
        println!("{line}");
    }
    let s = &outcome.report.summary;
    tracing::info!(
        trigger = %trigger,
        targets = s.targets,
        ok = s.ok,
        warning = s.warning,
        critical = s.critical,
        expired = s.expired,
        not_yet_valid = s.not_yet_valid,
        unreadable = s.unreadable,
        unreachable = s.unreachable,
        untrusted = s.untrusted,
        soonest_target = s.soonest_target.as_deref(),
        soonest_days_left = s.soonest_days_left,
        failures = outcome.failures.len(),
        "certificate check finished"
    );
    match outcome.failures.first() {
        None => Ok(outcome.report),
        Some(first) => Err(HandlerError::Alerting {
            count: outcome.failures.len(),
            first: first.clone(),
        }),
    }
}
