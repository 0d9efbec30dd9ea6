//! check-updates: watches the bundle itself. A Rust binary carries its dependencies inside it,
//! so when an advisory is published for a crate the functions link (rustls, hyper, the AWS SDK,
//! ...), the deployed functions stay vulnerable until someone rebuilds and redeploys. Daily, this
//! function reads the dependency list embedded in its own binary, asks the OSV database which
//! advisories affect those exact versions, and alerts once per advisory (reminders, `[RESOLVED]`
//! after the redeploy). It also reports dated changes announced by DVV and AWS ahead of time.
//!
//! Layout (pure parts import no AWS, no tokio, no HTTP):
//! - [`config`]: the variables, parsed once into types;
//! - [`error`]: the one error type and its `error_type`s;
//! - [`deps`]: the embedded dependency list;
//! - [`advisories`]: which OSV advisories affect which linked version (pure);
//! - [`deadlines`]: the shipped list of dated changes and its overrides (pure);
//! - [`messages`]: the wording of every notification (pure);
//! - [`report`]: the JSON report and the metric line;
//! - [`osv`]: the OSV port, batching and pagination, and its HTTPS adapter;
//! - [`check`]: one run, generic over the ports;
//! - `testing` (feature `testing`): the in-memory OSV.
//!
//! [`handle`] is the Lambda handler; `main.rs` only wires.

pub mod advisories;
pub mod check;
pub mod config;
pub mod deadlines;
pub mod deps;
pub mod error;
pub mod messages;
pub mod osv;
pub mod report;

pub use check::{Checker, Ports, RunOutcome};
pub use config::Config;
pub use error::HandlerError;
pub use report::Report;

use osv::Osv;
use serde_json::Value;
use suomifi_shared::clock::Clock;
use suomifi_shared::notify::Notifier;
use suomifi_shared::state::StateStore;

/// The Lambda handler. Accepts any JSON event (a scheduler's input, a rule's envelope, `{}`).
/// Prints the metric line, logs one summary line, returns the report; fails (after all that)
/// when a notification or state write failed. An unreachable OSV is the `unknown` status, not
/// an error.
pub async fn handle<O, St, N, C>(
    checker: &Checker<O, St, N, C>,
    event: Value,
) -> Result<Report, HandlerError>
where
    O: Osv,
    St: StateStore + Clone,
    N: Notifier + Clone,
    C: Clock + Clone,
{
    let trigger = event
        .get("detail-type")
        .or_else(|| event.get("source"))
        .and_then(Value::as_str)
        .unwrap_or("direct invocation")
        .to_owned();
    let outcome = checker.run().await;
    println!("{}", outcome.report.metric_line(outcome.at));
    let r = &outcome.report;
    tracing::info!(
        trigger = %trigger,
        status = r.status,
        crates = r.dependency_list.crates,
        affected = r.advisories.len(),
        undetermined = r.undetermined.len(),
        osv_error = r.osv_error.as_deref(),
        failures = outcome.failures.len(),
        "update check finished"
    );
    match outcome.failures.first() {
        None => Ok(outcome.report),
        Some(first) => Err(HandlerError::Alerting {
            count: outcome.failures.len(),
            first: first.clone(),
        }),
    }
}

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
