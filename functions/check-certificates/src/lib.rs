//! check-certificates
