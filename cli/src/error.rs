//! Errors for people at a terminal: what went wrong, and what to do about it.

use std::fmt;

/// The process exit codes, so scripts can tell "it failed" from "it found a problem".
pub mod exit {
    /// Done; or a check/status found nothing wrong.
    pub const OK: u8 = 0;
    /// The command could not do its job (AWS or Suomi.fi refused, a rotation failed or timed out,
    /// a password was refused and not stored).
    pub const FAILED: u8 = 1;
    /// The command line was wrong (clap's own code for usage errors).
    pub const USAGE: u8 = 2;
    /// A check or `status` ran and found something that needs attention soon (warning).
    pub const WARNING: u8 = 3;
    /// A check or `status` ran and found something that needs attention now (critical).
    pub const CRITICAL: u8 = 4;
}

/// A failed command: the message, an optional hint with the next step, and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// What went wrong, one line.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// The exit code.
    pub code: u8,
}

impl CliError {
    /// A failure ([`exit::FAILED`]).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            code: exit::FAILED,
        }
    }

    /// A usage problem clap cannot see (two flags that only make sense together).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: exit::USAGE,
            ..Self::new(message)
        }
    }

    /// Adds what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Shorthand for command results: the exit code on success.
pub type CliResult = Result<u8, CliError>;
