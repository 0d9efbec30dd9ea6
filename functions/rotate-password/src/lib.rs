//! Crash-safe rotation of the Suomi.fi Messages REST API password through AWS Secrets Manager.
//!
//! Secrets Manager calls the function four times per rotation (`createSecret`, `setSecret`,
//! `testSecret`, `finishSecret`) and retries the whole rotation after any failure, so any step may
//! come again, in any order, possibly after the password already changed. The invariant kept at
//! every instant: **the password Suomi.fi accepts is stored in the secret as `AWSCURRENT` or
//! `AWSPENDING`.** How:
//!
//! - the new password is stored (`AWSPENDING`) before Suomi.fi is ever told about it;
//! - `setSecret` marks the pending version (`SUOMIFI_CHANGE_ATTEMPTED`) *before* it calls
//!   `/v1/change-password`. Only a marked version can already hold the password Suomi.fi accepts
//!   (lost response, crash, concurrent run), so only then is the pending password probed first: a
//!   healthy rotation makes no failed login at Suomi.fi;
//! - `/v1/change-password` is called once, never retried blindly; after any failure the pending
//!   password is probed again before deciding;
//! - `finishSecret` promotes the pending version only after proving the pending password works.
//!
//! Layout (pure parts import no AWS SDK, no tokio, no HTTP):
//! - [`config`]: the variables, parsed once into types, and the settings derived from them;
//! - [`error`]: the one error type and its `error_type`s (`RotatePassword.<Kind>`);
//! - [`event`]: the rotation event and the steps, parsed into types, and a step's answer (pure);
//! - [`preflight`]: the state check every step starts with, decided on the metadata (pure);
//! - [`advice`]: how a failed change is classified and what a person is told (pure);
//! - [`password`]: the generated passwords;
//! - [`metrics`]: the metrics emitted (`RotationSucceeded`);
//! - [`ports`]: the shared Suomi.fi and Secrets Manager ports and their adapters;
//! - [`rotation`]: the four steps, generic over the ports;
//! - [`recover`]: the one safe way out of a stuck rotation (`suomifi-ops recover`);
//! - `testing`: in-memory fakes of the ports (behind the `testing` feature).
//!
//! `main.rs` only wires.

pub mod advice;
pub mod config;
pub mod error;
pub mod event;
pub mod metrics;
pub mod password;
pub mod ports;
pub mod preflight;
pub mod recover;
pub mod rotation;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use advice::alert_key;
pub use config::Config;
pub use error::RotationError;
pub use event::{RotationEvent, Step, StepOutcome};
pub use ports::{HttpSuomifi, SuomifiApi};
pub use preflight::merged_version_id;
pub use rotation::{RotationSettings, Rotator};

#[cfg(test)]
mod tests;
