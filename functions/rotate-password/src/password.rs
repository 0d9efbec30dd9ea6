//! New passwords that meet DVV's policy.
//!
//! DVV: at least 32 characters, with at least one lower case letter, upper case letter, number
//! and symbol; avoid the backslash. The backend appears to reject whitespace, and quotes are
//! a hazard in every shell and config file an operator might paste the password into. We use 48
//! characters (~300 bits from a 78-symbol alphabet) drawn from the operating system's CSPRNG.

use rand::rngs::OsRng;
use rand::{RngCore, TryRngCore};
use suomifi_shared::sensitive::Password;

/// Length of generated passwords.
pub const LENGTH: usize = 48;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// ASCII punctuation without backslash, quotes (`"`, `'`, `` ` ``) and space.
const SYMBOLS: &str = "!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// Why a password does not meet the policy (used to check our own output, and in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// Shorter than 32 characters.
    #[error("shorter than 32 characters")]
    TooShort,
    /// A character class is missing.
    #[error("no {0}")]
    Missing(&'static str),
    /// Backslash, quote, whitespace or non-ASCII.
    #[error("contains a character the policy forbids or advises against")]
    Forbidden,
}

/// Checks DVV's policy (and our stricter alphabet).
pub fn check(p: &str) -> Result<(), PolicyViolation> {
    if p.chars().count() < 32 {
        return Err(PolicyViolation::TooShort);
    }
    if p.chars().any(|c| {
        !(LOWER.contains(c) || UPPER.contains(c) || DIGITS.contains(c) || SYMBOLS.contains(c))
    }) {
        return Err(PolicyViolation::Forbidden);
    }
    for (class, name) in [
        (LOWER, "lower case letter"),
        (UPPER, "upper case letter"),
        (DIGITS, "digit"),
        (SYMBOLS, "symbol"),
    ] {
        if !p.chars().any(|c| class.contains(c)) {
            return Err(PolicyViolation::Missing(name));
        }
    }
    Ok(())
}

/// A fresh random password that meets the policy.
pub fn generate() -> Password {
    let alphabet: Vec<char> = [LOWER, UPPER, DIGITS, SYMBOLS].concat().chars().collect();
    let mut rng = OsRng.unwrap_err();
    loop {
        // Uniform choice by rejection sampling on bytes: no modulo bias.
        let limit = 256 - (256 % alphabet.len());
        let mut out = String::with_capacity(LENGTH);
        while out.len() < LENGTH {
            let b = (rng.next_u32() & 0xff) as usize;
            if b < limit {
                out.push(alphabet[b % alphabet.len()]);
            }
        }
        // With 48 characters a class is missing about once in 10^4 draws; draw again then.
        if check(&out).is_ok() {
            return Password::new(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let p = generate();
            assert_eq!(p.expose().len(), LENGTH);
            check(p.expose()).unwrap();
            assert!(!p.expose().contains(['\\', '"', '\'', '`', ' ']));
            assert!(seen.insert(p.expose().to_owned()));
        }
    }

    #[test]
    fn policy_check_names_what_is_wrong() {
        assert_eq!(check("Aa1!"), Err(PolicyViolation::TooShort));
        assert_eq!(
            check(&"a".repeat(40)),
            Err(PolicyViolation::Missing("upper case letter"))
        );
        assert_eq!(check(&format!("Aa1!{}", "x".repeat(30))), Ok(()));
        assert_eq!(
            check(&format!("Aa1!\\{}", "x".repeat(30))),
            Err(PolicyViolation::Forbidden)
        );
        assert_eq!(
            check(&format!("Aa1! {}", "x".repeat(30))),
            Err(PolicyViolation::Forbidden)
        );
    }

    #[test]
    fn os_rng_is_available() {
        // generate() relies on it; fail loudly rather than hang if the platform lacks it.
        let _ = OsRng.unwrap_err().next_u64();
    }
}
