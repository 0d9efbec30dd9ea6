//! Common crate of the Suomi.fi Messages maintenance bundle: the Suomi.fi REST client, the
//! credentials secret, notifications to Amazon SNS, AWS adapters, configuration and telemetry.
//!
//! Functions depend on the *ports* (small traits) defined here and get the AWS adapters wired in
//! their `main.rs`; unit tests use in-memory fakes.

pub mod alerts;
pub mod aws;
pub mod checkpoint;
pub mod clock;
pub mod config;
pub mod deps;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod notify;
pub mod secret;
pub mod secrets;
pub mod sensitive;
pub mod state;
pub mod suomifi;
pub mod telemetry;
pub mod tlsprobe;
