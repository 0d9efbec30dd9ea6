//! One integration-test binary (one link on small CI machines): real certificates made by rcgen
//! at test time, a real TLS server on loopback, in-memory AWS stand-ins. The moto-backed tests
//! live in the workspace's `tests/` crate.

mod checker;
mod decoding;
mod support;
mod tlsprobe;
