//! Logging and metrics.
//!
//! Logs are `tracing` events; in Lambda, [`init`] writes JSON lines when `AWS_LAMBDA_LOG_FORMAT`
//! is `JSON` (set by the template's `LoggingConfig`), at the level of `AWS_LAMBDA_LOG_LEVEL` or
//! `RUST_LOG`. Metrics are CloudWatch Embedded Metric Format lines ([`emf_line`]) printed to
//! stdout, which CloudWatch turns into metrics without any API call.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// The CloudWatch namespace of every metric this project emits.
pub const METRICS_NAMESPACE: &str = "SuomifiOps";

/// Sets up `tracing` for a Lambda function (JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`).
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time();
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}

/// Ends a function's init phase over a configuration it cannot run with: one structured error
/// line (`error_type`, e.g. `CheckRetrieval.Config`, for log filters and alarms) and exit code 2,
/// instead of failing every invocation. The error must say what to fix; it is logged as is.
pub fn refuse_start(error_type: &str, error: &dyn std::fmt::Display) -> ! {
    tracing::error!(error_type, error = %error, "configuration refused");
    std::process::exit(2);
}

/// A metric value with its unit (`Count`, `None`, `Milliseconds`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric<'a> {
    /// Metric name.
    pub name: &'a str,
    /// Value.
    pub value: f64,
    /// CloudWatch unit.
    pub unit: &'a str,
}

/// One EMF document: `metrics` under [`METRICS_NAMESPACE`] with the given dimensions.
pub fn emf_line(at: OffsetDateTime, dimensions: &[(&str, &str)], metrics: &[Metric<'_>]) -> String {
    let mut root = Map::new();
    let dim_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": (at.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [dim_names],
                "Metrics": metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).into(), Value::String((*v).into()));
    }
    for m in metrics {
        root.insert(m.name.into(), json!(m.value));
    }
    Value::Object(root).to_string()
}

/// Prints an EMF document on stdout (where the Lambda log agent picks it up).
pub fn emit_metrics(at: OffsetDateTime, dimensions: &[(&str, &str)], metrics: &[Metric<'_>]) {
    println!("{}", emf_line(at, dimensions, metrics));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_its_metrics_and_dimensions() {
        let at = time::macros::datetime!(2026-11-25 12:00 UTC);
        let line = emf_line(
            at,
            &[("Target", "api")],
            &[Metric {
                name: "DaysToExpiry",
                value: 12.5,
                unit: "None",
            }],
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_795_608_000_000i64);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "SuomifiOps");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Target"
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "DaysToExpiry"
        );
        assert_eq!(v["Target"], "api");
        assert_eq!(v["DaysToExpiry"], 12.5);
    }
}
