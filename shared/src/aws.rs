//! AWS SDK plumbing shared by the functions.

use aws_smithy_types::error::display::DisplayErrorContext;

/// Loads the SDK configuration the standard way (region, credentials, and `AWS_ENDPOINT_URL` /
/// `AWS_ENDPOINT_URL_<SERVICE>` for local stand-ins; no emulator-specific code path).
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// An SDK error with its service detail (code and message), not just "service error": a bare
/// "service error" helps nobody at 3 a.m.
pub fn sdk_error_detail<E: std::error::Error>(e: &E) -> String {
    DisplayErrorContext(e).to_string()
}
