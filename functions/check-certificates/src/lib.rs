//! check-certificates: watches the certificates an organisation's Suomi.fi Messages connection
//! depends on — the API hosts' TLS chains, its own service certificates, and the signing
//! certificate installed on Valtori's Shared Integration Platform (VIA) — and applies DVV's
//! certificate-change rule when a new signing certificate appears. See `docs/certificates.md`.
//!
//! Layout (pure parts import no AWS, no tokio, no HTTP):
//! - [`config`]: the variables, read once from the shared `Env` into a typed [`Config`];
//! - [`targets`]: what to check — the target model and the `CERT_TARGETS` grammar (pure);
//! - [`error`]: the one error type and its `error_type`s (`CheckCertificates.<Kind>`);
//! - [`certs`]: PEM / Base64 DER / PKCS#12 into certificates, and their facts (pure);
//! - [`evaluate`]: the thresholds (`THRESHOLD_DAYS`), and states per certificate and per chain
//!   (pure);
//! - [`advisor`]: DVV's rule (same common name and authority chain, or a submission) (pure);
//! - [`messages`]: the wording of every notification (pure);
//! - [`report`]: the JSON report and the EMF metric lines (pure);
//! - [`sources`]: one port per kind of source, with the AWS and TLS adapters;
//! - [`check`]: one run over all targets, generic over the ports, and the Lambda handler
//!   ([`handle`]);
//! - `testing`: in-memory fakes of the Secrets Manager and Certificate Manager ports (behind the
//!   `testing` feature).
//!
//! `main.rs` only wires.

pub mod advisor;
pub mod certs;
pub mod check;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod messages;
pub mod report;
pub mod sources;
pub mod targets;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use check::{Checker, Ports, RunOutcome, handle, handle_until};
pub use config::Config;
pub use error::HandlerError;
pub use report::Report;
