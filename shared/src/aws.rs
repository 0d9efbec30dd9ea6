//! AWS SDK plumbing shared by the functions.

use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// Loads the SDK configuration the standard way (region, credentials, and `AWS_ENDPOINT_URL` /
/// `AWS_ENDPOINT_URL_<SERVICE>` for local stand-ins; no emulator-specific code path).
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// What went wrong in an SDK call, for a person at 3 a.m.: for a service error the service's own
/// code and message (`ResourceNotFoundException: Secrets Manager can't find ...`), not a bare
/// "service error" — and not the whole raw HTTP response either, which the error's full context
/// would print; for anything else (no connection, timeout, credentials) the error chain.
pub fn sdk_error_detail<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(s) => match (s.code(), s.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(s).to_string(),
        },
        None => DisplayErrorContext(e).to_string(),
    }
}
