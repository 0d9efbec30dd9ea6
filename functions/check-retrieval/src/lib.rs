//! check-retrieval: proves, every scheduled run, that citizens' messages sent to the organisation
//! through Suomi.fi Messages are retrieved in time — and alerts when they are not.
//!
//! Suomi.fi watches whether an organisation retrieves its end users' messages but does not tell
//! the organisation when that alarm triggers, and since 2025 it deletes end-user data from the
//! API 60 days after it was recorded. A stalled retrieval that nobody notices becomes lost
//! messages. Each run therefore checks:
//!
//! 1. **Credentials and API**: a token with the secret's `AWSCURRENT` password (catching a
//!    rotation gone wrong), `GET /v2/events` answering 200, latency and TLS version.
//! 2. **Retriever heartbeat**: the retriever's checkpoint parameter
//!    ([`suomifi_shared::checkpoint`]) must have been written recently.
//! 3. **Backlog**: the events from the retriever's continuation token onward, read-only, counting
//!    `Electronic message from end user` events: how many wait, per service, the oldest's age and
//!    the days left before Suomi.fi deletes it.
//! 4. **Password age**: from the secret's rotation metadata.
//!
//! Every finding goes through the shared [`AlertLifecycle`] (open once, remind, escalate,
//! resolve). The rules are in [`evaluate`] (pure), the alert texts in [`render`], the report in
//! [`report`]; [`Checker::run`] ties them together over the [`ports`] for one system, and
//! [`fleet::Fleet`] runs every system the organisation has (`SYSTEMS`) in one invocation.
//!
//! # Failing loudly, but only for the right reason
//!
//! A run whose subject is broken — Suomi.fi unreachable (5xx after retries, timeout), the
//! password refused, the checkpoint missing — is a **successful run** that returns a report with
//! status `critical` and publishes an alert: that is the check doing its job. The Lambda
//! invocation fails only when the watcher itself is broken: the state table (DynamoDB) or the
//! alert topic (SNS) cannot be used, so an alert could be lost. An alarm on the function's
//! `Errors` metric therefore always means "the watcher is broken", never "Suomi.fi is down".

//!
//! # Layout
//!
//! Pure parts import no AWS SDK, no tokio, no HTTP:
//! - [`config`]: the variables (`SYSTEMS` and the thresholds), parsed once into types;
//! - [`error`]: the one error type and its `error_type`s (`CheckRetrieval.<Kind>`);
//! - [`evaluate`]: the rules — heartbeat age, backlog and days to deletion, password age (pure);
//! - [`backlog`]: counting end-user messages page by page over the Suomi.fi port;
//! - [`render`]: the wording of every alert (pure);
//! - [`report`]: the JSON report and its metrics (pure);
//! - [`ports`]: the credentials, checkpoint and TLS ports ([`SuomifiApi`] is the shared Suomi.fi
//!   port); [`adapters`]: their AWS and TLS adapters, and [`adapters::wire`], the wiring
//!   `main.rs` and `suomifi-ops check` share;
//! - [`check`]: one system's run, generic over the ports; [`fleet`]: every system in one run;
//! - `testing` (feature `testing`): in-memory fakes of the ports, shared with other crates' tests.
//!
//! `main.rs` only wires.
//!
//! [`SuomifiApi`]: suomifi_shared::suomifi::SuomifiApi

pub mod adapters;
pub mod backlog;
pub mod check;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod fleet;
pub mod ports;
pub mod render;
pub mod report;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use check::{Checker, DEADLINE_MARGIN, Ports, Settings, scan_deadline};
pub use error::CheckError;
