//! Fault injection: queued rules that make the next matching requests misbehave.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ControlError;

/// A group of API requests, for request counting and fault matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// `POST /v1/token`.
    Token,
    /// `POST /v1/change-password`.
    ChangePassword,
    /// `GET /v2/events`.
    Events,
    /// `GET /v2/messages/{messageId}`.
    Messages,
    /// `GET /v1/attachments/{attachmentId}`.
    Attachments,
    /// Any of the above (only as a fault rule's target).
    Any,
}

/// What an injected fault does to the request it hits.
///
/// JSON form: internally tagged by `kind`, e.g. `{"kind": "serverError", "status": 503}`,
/// `{"kind": "loseResponse"}`, `{"kind": "delay", "millis": 5000}`, `{"kind": "coolDown"}`,
/// `{"kind": "refuseToken"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Fault {
    /// Answer `status` (500–599) with a `{"reason"}` body without doing anything else.
    ServerError {
        /// The HTTP status, 500–599.
        status: u16,
    },
    /// Carry out the request completely (a password change really happens, a token really is
    /// issued), then close the TCP connection without sending a single byte of the answer.
    ///
    /// The client sees the connection closed (FIN, exceptionally a reset) while it waits for the
    /// response head: reqwest/hyper report "connection closed before message completed", curl
    /// "Empty reply from server". It happens at once, not after a timeout. Nothing of the answer
    /// (status, headers, body) arrives, although the request *was* carried out.
    LoseResponse,
    /// Carry out the request, then hold the complete answer back for `millis` milliseconds before
    /// sending it. A client with a shorter timeout gives up although the change was made.
    Delay {
        /// How long to hold the answer back.
        millis: u64,
    },
    /// Refuse a password change with the cool-down answer (400,
    /// [`COOL_DOWN_REASON`](crate::COOL_DOWN_REASON)), whatever the request says. Only consumed
    /// by `change-password` requests.
    CoolDown,
    /// Refuse a token request with the bad-credentials answer (400) even when the credentials are
    /// right. Only consumed by `token` requests.
    RefuseToken,
}

impl Fault {
    /// Whether this fault can hit a request to `endpoint` (never [`Endpoint::Any`]).
    fn applies_to(&self, endpoint: Endpoint) -> bool {
        match self {
            Self::CoolDown => endpoint == Endpoint::ChangePassword,
            Self::RefuseToken => endpoint == Endpoint::Token,
            Self::ServerError { .. } | Self::LoseResponse | Self::Delay { .. } => true,
        }
    }
}

/// How many matching requests a rule hits.
///
/// JSON form: a positive number, or the string `"always"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// The next `n` matching requests (n ≥ 1).
    Next(u32),
    /// Every matching request until the faults are cleared.
    Always,
}

impl Default for Times {
    fn default() -> Self {
        Self::Next(1)
    }
}

impl Serialize for Times {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Next(n) => serializer.serialize_u32(*n),
            Self::Always => serializer.serialize_str("always"),
        }
    }
}

impl<'de> Deserialize<'de> for Times {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Count(u32),
            Word(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Count(n) => Ok(Self::Next(n)),
            Repr::Word(word) if word == "always" => Ok(Self::Always),
            Repr::Word(word) => Err(D::Error::custom(format!(
                "times must be a number or \"always\", not {word:?}"
            ))),
        }
    }
}

/// A queued fault: which requests it hits, what it does, how many times.
///
/// JSON form: `{"endpoint": "change-password", "fault": {"kind": "loseResponse"}, "times": 1}`
/// (`times` defaults to 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// The requests it hits.
    pub endpoint: Endpoint,
    /// What it does to them.
    pub fault: Fault,
    /// How many of them; while queued, the number still to hit.
    #[serde(default)]
    pub times: Times,
}

impl FaultRule {
    /// A rule hitting only the next matching request.
    pub fn once(endpoint: Endpoint, fault: Fault) -> Self {
        Self {
            endpoint,
            fault,
            times: Times::Next(1),
        }
    }

    /// A rule hitting the next `n` matching requests.
    pub fn times(endpoint: Endpoint, fault: Fault, n: u32) -> Self {
        Self {
            endpoint,
            fault,
            times: Times::Next(n),
        }
    }

    /// A rule hitting every matching request until the faults are cleared.
    pub fn always(endpoint: Endpoint, fault: Fault) -> Self {
        Self {
            endpoint,
            fault,
            times: Times::Always,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ControlError> {
        if let Fault::ServerError { status } = self.fault
            && !(500..=599).contains(&status)
        {
            return Err(ControlError::new(format!(
                "serverError status must be 500-599, not {status}"
            )));
        }
        if self.times == Times::Next(0) {
            return Err(ControlError::new("times must be at least 1"));
        }
        Ok(())
    }

    fn matches(&self, endpoint: Endpoint) -> bool {
        (self.endpoint == Endpoint::Any || self.endpoint == endpoint)
            && self.fault.applies_to(endpoint)
    }
}

/// Takes the fault for one request to `endpoint`: the first queued rule that matches, used up by one.
pub(crate) fn take(queue: &mut Vec<FaultRule>, endpoint: Endpoint) -> Option<Fault> {
    let index = queue.iter().position(|rule| rule.matches(endpoint))?;
    let rule = &mut queue[index];
    let fault = rule.fault.clone();
    if let Times::Next(left) = &mut rule.times {
        *left -= 1;
        if *left == 0 {
            queue.remove(index);
        }
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_used_in_order_and_counted_down() {
        let mut queue = vec![
            FaultRule::times(Endpoint::Events, Fault::ServerError { status: 503 }, 2),
            FaultRule::once(Endpoint::Any, Fault::LoseResponse),
        ];
        assert_eq!(take(&mut queue, Endpoint::Token), Some(Fault::LoseResponse));
        assert_eq!(
            take(&mut queue, Endpoint::Events),
            Some(Fault::ServerError { status: 503 })
        );
        assert_eq!(
            take(&mut queue, Endpoint::Events),
            Some(Fault::ServerError { status: 503 })
        );
        assert_eq!(take(&mut queue, Endpoint::Events), None);
        assert!(queue.is_empty());
    }

    #[test]
    fn endpoint_specific_faults_skip_other_endpoints() {
        let mut queue = vec![FaultRule::always(Endpoint::Any, Fault::CoolDown)];
        assert_eq!(take(&mut queue, Endpoint::Token), None);
        assert_eq!(
            take(&mut queue, Endpoint::ChangePassword),
            Some(Fault::CoolDown)
        );
        assert_eq!(
            take(&mut queue, Endpoint::ChangePassword),
            Some(Fault::CoolDown),
            "always stays queued"
        );
    }

    #[test]
    fn json_form_round_trips() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"endpoint":"change-password","fault":{"kind":"delay","millis":5},"times":"always"}"#,
        )
        .unwrap();
        assert_eq!(
            rule,
            FaultRule::always(Endpoint::ChangePassword, Fault::Delay { millis: 5 })
        );
        let once: FaultRule =
            serde_json::from_str(r#"{"endpoint":"token","fault":{"kind":"refuseToken"}}"#).unwrap();
        assert_eq!(once.times, Times::Next(1));
        assert!(
            serde_json::from_str::<FaultRule>(
                r#"{"endpoint":"token","fault":{"kind":"refuseToken"},"times":"never"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn validation_refuses_non_5xx_and_zero_times() {
        assert!(
            FaultRule::once(Endpoint::Any, Fault::ServerError { status: 404 })
                .validate()
                .is_err()
        );
        assert!(
            FaultRule::times(Endpoint::Any, Fault::LoseResponse, 0)
                .validate()
                .is_err()
        );
    }
}
