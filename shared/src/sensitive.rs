//! Newtypes for values that must never be printed: passwords and access tokens.
//!
//! `Debug` and `Display` print `***`; the only way to the value is [`Password::expose`] /
//! [`AccessToken::expose`], which makes every use greppable. They implement neither `Serialize`
//! nor `Deserialize`, so a secret cannot slip into a logged JSON structure by accident.

use std::fmt;

macro_rules! sensitive {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value itself. Use only to send it where it belongs.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }
    };
}

sensitive!(
    /// A Suomi.fi REST API password.
    Password
);
sensitive!(
    /// A Suomi.fi REST API access token (bearer token).
    AccessToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let p = Password::new("hunter2-very-secret");
        let t = AccessToken::new("tok-abc");
        for shown in [
            format!("{p:?}"),
            format!("{p}"),
            format!("{t:?}"),
            format!("{t}"),
            format!("{:?}", Some(&p)),
        ] {
            assert!(
                !shown.contains("hunter2") && !shown.contains("tok-abc"),
                "{shown}"
            );
            assert!(shown.contains("***"));
        }
        assert_eq!(p.expose(), "hunter2-very-secret");
    }
}
