use std::fmt;

/// The `traceId` response header: what DVV support asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceId(pub Option<String>);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("-"))
    }
}

/// What went wrong talking to Suomi.fi, typed so that callers can act on it.
///
/// Messages never contain a password or token: request bodies are never echoed, and the server's
/// `reason` is kept short.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `POST /v1/token` answered 400: the username/password pair was refused.
    #[error("Suomi.fi refused the credentials (400 from /v1/token: {reason}; traceId {trace_id})")]
    AuthenticationFailed {
        /// The server's `reason`.
        reason: String,
        /// Response `traceId`.
        trace_id: TraceId,
    },
    /// 401: the access token is missing, expired or invalid.
    #[error(
        "Suomi.fi answered 401 Unauthorized on {endpoint} (token expired or invalid; traceId {trace_id})"
    )]
    Unauthorized {
        /// Which endpoint.
        endpoint: &'static str,
        /// Response `traceId`.
        trace_id: TraceId,
    },
    /// `POST /v1/change-password` answered 400.
    #[error("Suomi.fi refused the password change: {reason} (traceId {trace_id})")]
    PasswordChangeRefused {
        /// The server's `reason` (policy violation, wrong current password, cool-down, ...).
        reason: String,
        /// Response `traceId`.
        trace_id: TraceId,
    },
    /// Another 4xx: the request needs fixing, retrying will not help.
    #[error("Suomi.fi answered {status} on {endpoint}: {reason} (traceId {trace_id})")]
    Client {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// The server's `reason`, if any.
        reason: String,
        /// Response `traceId`.
        trace_id: TraceId,
    },
    /// 5xx, after the configured retries (none for change-password).
    #[error(
        "Suomi.fi answered {status} on {endpoint} after {attempts} attempt(s) (traceId {trace_id})"
    )]
    Server {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Response `traceId`.
        trace_id: TraceId,
    },
    /// Connection refused/reset, DNS, TLS handshake failure, response cut off.
    #[error("could not reach Suomi.fi ({endpoint}) after {attempts} attempt(s): {detail}")]
    Transport {
        /// Which endpoint.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The transport error chain (never contains request bodies).
        detail: String,
    },
    /// The HTTPS client could not be built (no usable trust store, say): nothing was sent.
    #[error(
        "could not set up the HTTPS client for Suomi.fi: {detail} (nothing was sent; check the \
         machine's CA certificates, SSL_CERT_FILE / SSL_CERT_DIR)"
    )]
    ClientSetup {
        /// The builder's error chain.
        detail: String,
    },
    /// No complete answer within the client timeout.
    #[error("Suomi.fi did not answer {endpoint} within {timeout_ms} ms ({attempts} attempt(s))")]
    Timeout {
        /// Which endpoint.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The configured timeout.
        timeout_ms: u128,
    },
    /// 2xx but the body is not what the API describes.
    #[error("Suomi.fi's answer on {endpoint} was not understood: {detail} (traceId {trace_id})")]
    MalformedResponse {
        /// Which endpoint.
        endpoint: &'static str,
        /// What was wrong.
        detail: String,
        /// Response `traceId`.
        trace_id: TraceId,
    },
}

impl ApiError {
    /// The `traceId` of the response, when there was one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::AuthenticationFailed { trace_id, .. }
            | Self::Unauthorized { trace_id, .. }
            | Self::PasswordChangeRefused { trace_id, .. }
            | Self::Client { trace_id, .. }
            | Self::Server { trace_id, .. }
            | Self::MalformedResponse { trace_id, .. } => trace_id.0.as_deref(),
            Self::Transport { .. } | Self::Timeout { .. } | Self::ClientSetup { .. } => None,
        }
    }

    /// Whether the outcome of the request is unknown (it may have been applied): 5xx, transport
    /// failure or timeout. For change-password this means "probe before deciding".
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Server { .. } | Self::Transport { .. } | Self::Timeout { .. }
        )
    }

    /// A stable, short name of the variant for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AuthenticationFailed { .. } => "authentication_failed",
            Self::Unauthorized { .. } => "unauthorized",
            Self::PasswordChangeRefused { .. } => "password_change_refused",
            Self::Client { .. } => "client_error",
            Self::Server { .. } => "server_error",
            Self::Transport { .. } => "transport",
            Self::Timeout { .. } => "timeout",
            Self::ClientSetup { .. } => "client_setup",
            Self::MalformedResponse { .. } => "malformed_response",
        }
    }
}

/// Keep server-provided text short and on one line (it ends up in e-mail subjects and logs).
pub(crate) fn tidy_reason(reason: &str) -> String {
    const MAX: usize = 300;
    let one_line: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > MAX {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_that_could_not_be_built_sent_nothing_and_says_where_to_look() {
        let e = ApiError::ClientSetup {
            detail: "no CA certificates found".into(),
        };
        assert!(
            !e.outcome_unknown(),
            "nothing was sent: the outcome is known"
        );
        assert_eq!(e.kind(), "client_setup");
        assert_eq!(e.trace_id(), None);
        let text = e.to_string();
        assert!(text.contains("nothing was sent"), "{text}");
        assert!(text.contains("SSL_CERT_FILE"), "{text}");
        // A transport failure after sending stays "outcome unknown" (change-password probes).
        assert!(
            ApiError::Transport {
                endpoint: "/v1/change-password",
                attempts: 1,
                detail: "reset".into()
            }
            .outcome_unknown()
        );
    }
}
