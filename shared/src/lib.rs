//! Common crate of the Suomi.fi Messages maintenance bundle: the Suomi.fi REST client, the
//! credentials secret, notifications to Amazon SNS, AWS adapters, configuration and telemetry.
//!
//! Functions depend on the *ports* (small traits) defined here and get the AWS adapters wired in
//! their `main.rs`; unit tests use the in-memory fakes of [`testing`] (feature `testing`).

pub mod alerts;
pub mod aws;
pub mod checkpoint;
pub mod clock;
pub mod config;
pub mod deps;
pub mod notify;
pub mod secret;
pub mod secrets;
pub mod sensitive;
pub mod state;
pub mod suomifi;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tlsprobe;
