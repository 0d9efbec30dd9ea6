//! The password policy of `POST /v1/change-password`, as the API description states it.
//!
//! Pure rules with no I/O, so they can be tested directly and reused by callers that want to check a
//! candidate password before sending it.

use std::fmt;

/// Minimum length of a password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 32;

/// One rule of the password policy that a password breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    TooShort,
    /// No lower case letter.
    NoLowerCase,
    /// No upper case letter.
    NoUpperCase,
    /// No digit.
    NoDigit,
    /// No symbol (a character that is neither a letter, a digit nor whitespace).
    NoSymbol,
    /// Contains a backslash, which the API description says to avoid.
    Backslash,
    /// Contains whitespace, which the backend appears to reject.
    Whitespace,
}

impl PolicyViolation {
    /// A stable machine-readable code, used as `errorCode` in `validationErrors`.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "TOO_SHORT",
            Self::NoLowerCase => "NO_LOWER_CASE",
            Self::NoUpperCase => "NO_UPPER_CASE",
            Self::NoDigit => "NO_DIGIT",
            Self::NoSymbol => "NO_SYMBOL",
            Self::Backslash => "BACKSLASH",
            Self::Whitespace => "WHITESPACE",
        }
    }
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::TooShort => "must be at least 32 characters long",
            Self::NoLowerCase => "must contain a lower case letter",
            Self::NoUpperCase => "must contain an upper case letter",
            Self::NoDigit => "must contain a number",
            Self::NoSymbol => "must contain a symbol",
            Self::Backslash => "must not contain a backslash",
            Self::Whitespace => "must not contain whitespace",
        };
        f.write_str(text)
    }
}

/// Every rule `password` breaks, in a fixed order; empty when the password is acceptable.
pub fn check_password_policy(password: &str) -> Vec<PolicyViolation> {
    let has = |pred: fn(char) -> bool| password.chars().any(pred);
    let mut broken = Vec::new();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        broken.push(PolicyViolation::TooShort);
    }
    if !has(char::is_lowercase) {
        broken.push(PolicyViolation::NoLowerCase);
    }
    if !has(char::is_uppercase) {
        broken.push(PolicyViolation::NoUpperCase);
    }
    if !has(|c| c.is_ascii_digit()) {
        broken.push(PolicyViolation::NoDigit);
    }
    if !has(|c| !c.is_alphanumeric() && !c.is_whitespace() && c != '\\') {
        broken.push(PolicyViolation::NoSymbol);
    }
    if has(|c| c == '\\') {
        broken.push(PolicyViolation::Backslash);
    }
    if has(char::is_whitespace) {
        broken.push(PolicyViolation::Whitespace);
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Abcdefghijklmnopqrstuvwxyz-0123456789";

    #[test]
    fn accepts_a_password_meeting_every_rule() {
        assert_eq!(check_password_policy(GOOD), vec![]);
    }

    #[test]
    fn names_each_broken_rule() {
        use PolicyViolation::*;
        assert_eq!(check_password_policy("Ab1-"), vec![TooShort]);
        assert_eq!(
            check_password_policy(&GOOD.to_lowercase()),
            vec![NoUpperCase]
        );
        assert_eq!(
            check_password_policy(&GOOD.to_uppercase()),
            vec![NoLowerCase]
        );
        assert_eq!(
            check_password_policy(&GOOD.replace(char::is_numeric, "x")),
            vec![NoDigit]
        );
        assert_eq!(
            check_password_policy(&GOOD.replace('-', "x")),
            vec![NoSymbol]
        );
        assert_eq!(
            check_password_policy(&GOOD.replace('-', "\\")),
            vec![NoSymbol, Backslash],
            "a backslash does not count as the symbol"
        );
        assert_eq!(check_password_policy(&format!("{GOOD} ")), vec![Whitespace]);
    }

    #[test]
    fn counts_characters_not_bytes() {
        let password = format!("Ää1-{}", "ä".repeat(27));
        assert_eq!(password.chars().count(), 31);
        assert_eq!(
            check_password_policy(&password),
            vec![PolicyViolation::TooShort]
        );
    }
}
