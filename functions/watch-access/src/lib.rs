//! watch-access: rotates a password when a person has seen it or leaves, and guards who can read
//! it. CloudTrail's reads of the credentials secrets (through EventBridge) are recorded per
//! person in the state table, notified once per person and password, and answered by one
//! rotation `EXPOSURE_ROTATE_AFTER_MINUTES` later (a one-time EventBridge Scheduler schedule);
//! IAM's `DeleteUser` of a recorded reader rotates at once; changes of the secrets' resource
//! policies by anyone but the stack alert at once, and a daily run compares the policies with the
//! stack's (alert on difference, resolved when back). See `docs/watch-access.md`.
//!
//! Layout (pure parts import no AWS, no tokio, no HTTP):
//! - [`config`]: the variables, parsed once into types;
//! - [`error`]: the one error type and its `error_type`s (`WatchAccess.<Kind>`);
//! - [`identity`]: who made a call, from CloudTrail's `userIdentity` (pure);
//! - [`event`]: the events understood, and secret identifiers matched (pure);
//! - [`ledger`]: the ledger documents and every decision on them (pure);
//! - [`policy`]: the stack's resource policy and the comparison (pure);
//! - [`messages`]: the wording of every notification (pure);
//! - [`ports`]: Secrets Manager and EventBridge Scheduler ports and adapters;
//! - [`watch`]: one event, generic over the ports;
//! - `testing` (feature `testing`): in-memory fakes of the ports.
//!
//! `main.rs` only wires.

pub mod config;
pub mod error;
pub mod event;
pub mod identity;
pub mod ledger;
pub mod messages;
pub mod policy;
pub mod ports;
pub mod watch;

pub use config::Config;
pub use error::HandlerError;
pub use watch::{Ports, Watcher};

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
