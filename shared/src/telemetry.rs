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

/// Crates whose own logs stay at INFO or quieter whatever the function's level: at DEBUG and
/// TRACE they log request and response bodies, headers and TLS internals — the Suomi.fi password
/// travels in such bodies.
const QUIET_CRATES: &[&str] = &[
    "aws_config",
    "aws_runtime",
    "aws_sdk_dynamodb",
    "aws_sdk_secretsmanager",
    "aws_sdk_sns",
    "aws_sdk_ssm",
    "aws_sdk_acm",
    "aws_sdk_sqs",
    "aws_sigv4",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_types",
    "h2",
    "hyper",
    "hyper_util",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "tower",
];

/// Where lambda_runtime creates its "Lambda runtime invoke" span (with `requestId`).
const RUNTIME_SPAN_TARGET: &str = "lambda_runtime::layers::trace";

/// How a function logs: the level (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO) and
/// whether lines are JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by the template's `LoggingConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// The most detailed level this function's own code logs at.
    pub level: tracing::level_filters::LevelFilter,
    /// JSON lines (Lambda's advanced logging controls) instead of plain text.
    pub json: bool,
}

impl LogSettings {
    /// From the process environment, as Lambda sets it.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup. An unreadable level is INFO; Lambda's `FATAL` is ERROR. A
    /// `RUST_LOG` directive list contributes its global level only.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        use tracing::level_filters::LevelFilter;
        let raw = get("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|| get("RUST_LOG"))
            .unwrap_or_default();
        let level = raw
            .split(',')
            .map(str::trim)
            .find(|d| !d.contains('='))
            .map(|d| match d.to_ascii_lowercase().as_str() {
                "trace" => LevelFilter::TRACE,
                "debug" => LevelFilter::DEBUG,
                "warn" | "warning" => LevelFilter::WARN,
                "error" | "fatal" => LevelFilter::ERROR,
                "off" => LevelFilter::OFF,
                _ => LevelFilter::INFO,
            })
            .unwrap_or(LevelFilter::INFO);
        let json = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json"));
        Self { level, json }
    }

    /// The filter: this level for our code, at most INFO for [`QUIET_CRATES`].
    fn filter(&self) -> tracing_subscriber::EnvFilter {
        use tracing::level_filters::LevelFilter;
        let mut directives = vec![self.level.to_string().to_lowercase()];
        if self.level > LevelFilter::INFO {
            directives.extend(QUIET_CRATES.iter().map(|c| format!("{c}=info")));
        } else if self.level < LevelFilter::INFO && self.level > LevelFilter::OFF {
            // The runtime's invocation span carries the requestId every WARN or ERROR line
            // needs; it is an INFO span with no events of its own.
            directives.push(format!("{RUNTIME_SPAN_TARGET}=info"));
        }
        tracing_subscriber::EnvFilter::try_new(directives.join(","))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    }
}

/// The project's subscriber writing to `writer`: what [`init`] installs, for tests to capture.
pub fn subscriber<W>(
    settings: &LogSettings,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(settings.filter())
        .with_writer(writer);
    if settings.json {
        use tracing_subscriber::layer::SubscriberExt;
        Box::new(
            builder
                .event_format(LambdaJson)
                .finish()
                .with(LiftSpanFields),
        )
    } else {
        Box::new(
            builder
                .with_target(false)
                .without_time()
                .with_ansi(false)
                .finish(),
        )
    }
}

/// Sets up `tracing` for a Lambda function from the environment (see [`LogSettings`]).
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(
        &LogSettings::from_env(),
        std::io::stdout,
    ));
}

/// JSON lines as Lambda's advanced logging controls read them: every line an object with an
/// RFC 3339 `timestamp` (without one Lambda files the line as INFO, whatever its level), `level`
/// (`TRACE` … `ERROR`), the event's fields flattened beside `message`, and — inside an
/// invocation — the runtime span's `requestId` (and `xrayTraceId`) at the top level, where the
/// managed runtimes put it and Logs Insights queries look for it. tracing-subscriber's own JSON
/// format nests span fields under `spans`, hence this formatter.
struct LambdaJson;

/// Span fields lifted to the top level of each line.
const LIFTED_SPAN_FIELDS: &[&str] = &["requestId", "xrayTraceId", "tenantId"];

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for LambdaJson
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut line = Map::new();
        let now = OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| std::fmt::Error)?;
        line.insert("timestamp".into(), Value::String(now));
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                if let Some(fields) = ext.get::<SpanFields>() {
                    for (k, v) in &fields.0 {
                        line.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        let text = Value::Object(line).to_string();
        writeln!(writer, "{text}")
    }
}

/// The lifted fields of a span, kept in its extensions by [`LiftSpanFields`].
struct SpanFields(Vec<(String, Value)>);

/// Records [`LIFTED_SPAN_FIELDS`] of each new span so that [`LambdaJson`] can lift them.
struct LiftSpanFields;

impl<S> tracing_subscriber::Layer<S> for LiftSpanFields
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut all = Map::new();
        attrs.record(&mut JsonVisitor(&mut all));
        let lifted: Vec<(String, Value)> = all
            .into_iter()
            .filter(|(k, _)| LIFTED_SPAN_FIELDS.contains(&k.as_str()))
            .collect();
        if !lifted.is_empty()
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(SpanFields(lifted));
        }
    }
}

/// Event or span fields into a JSON object (numbers and booleans keep their type).
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), Value::Bool(value));
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}

/// How a function's error reaches Lambda: `impl From<$error> for lambda_runtime::Diagnostic`,
/// with `errorType` its `error_type()` (the project's `<Function>.<Kind>` scheme, which alarms and
/// log filters match) and `errorMessage` its text. The calling crate depends on `lambda_runtime`.
#[macro_export]
macro_rules! lambda_diagnostic {
    ($error:ty) => {
        impl From<$error> for lambda_runtime::Diagnostic {
            fn from(e: $error) -> Self {
                Self {
                    error_type: e.error_type().to_owned(),
                    error_message: e.to_string(),
                }
            }
        }
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

/// The variable naming the CloudFormation stack a function belongs to (the template sets it on
/// every function): its value becomes the `Stack` dimension of every metric, so that two stacks in
/// one account and region (QA and production) never share a series.
pub const STACK_NAME_VAR: &str = "STACK_NAME";

/// The name of the `Stack` dimension.
pub const STACK_DIMENSION: &str = "Stack";

static METRICS_STACK: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets, once per process (from `main`), the stack every later metric of this process carries as
/// its first dimension, `Stack`. `None` or an empty name: metrics carry no `Stack` dimension (local
/// runs). A second call changes nothing.
pub fn set_metrics_stack(stack: Option<String>) {
    if let Some(stack) = stack.filter(|s| !s.trim().is_empty()) {
        let _ = METRICS_STACK.set(stack);
    }
}

/// One EMF document: `metrics` under [`METRICS_NAMESPACE`] with the given dimensions, after the
/// process's `Stack` dimension when [`set_metrics_stack`] set one.
pub fn emf_line(at: OffsetDateTime, dimensions: &[(&str, &str)], metrics: &[Metric<'_>]) -> String {
    emf_document(
        at,
        METRICS_STACK.get().map(String::as_str),
        dimensions,
        metrics,
    )
}

/// [`emf_line`] with the stack given: `Stack` first (one dimension set: the alarms and the
/// dashboard select exactly `Stack` plus the caller's dimensions).
pub fn emf_document(
    at: OffsetDateTime,
    stack: Option<&str>,
    dimensions: &[(&str, &str)],
    metrics: &[Metric<'_>],
) -> String {
    let with_stack: Vec<(&str, &str)> = stack
        .map(|s| (STACK_DIMENSION, s))
        .into_iter()
        .chain(dimensions.iter().copied())
        .collect();
    let dimensions = with_stack.as_slice();
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
    use std::sync::{Arc, Mutex};

    /// A writer that keeps what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(settings: &LogSettings, f: impl FnOnce()) -> String {
        let out = Captured::default();
        let sink = out.clone();
        let sub = subscriber(settings, move || sink.clone());
        tracing::subscriber::with_default(sub, f);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    fn settings(level: &str) -> LogSettings {
        LogSettings::from_lookup(|k| match k {
            "AWS_LAMBDA_LOG_LEVEL" => Some(level.to_owned()),
            "AWS_LAMBDA_LOG_FORMAT" => Some("JSON".to_owned()),
            _ => None,
        })
    }

    #[test]
    fn json_lines_carry_timestamp_level_and_the_request_id_at_the_top() {
        let text = capture(&settings("INFO"), || {
            tracing::info!("before any invocation");
            let span = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "req-123",
                xrayTraceId = "Root=1-abc"
            );
            let _g = span.enter();
            tracing::error!(error_type = "Retryable", count = 3u64, "step failed");
        });
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for l in &lines {
            let ts = l["timestamp"].as_str().expect("timestamp");
            OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                .expect("RFC 3339 timestamp");
        }
        assert_eq!(lines[0]["level"], "INFO");
        assert!(lines[0].get("requestId").is_none());
        assert_eq!(lines[1]["level"], "ERROR");
        assert_eq!(lines[1]["requestId"], "req-123");
        assert_eq!(lines[1]["xrayTraceId"], "Root=1-abc");
        assert_eq!(lines[1]["message"], "step failed");
        assert_eq!(lines[1]["error_type"], "Retryable");
        assert_eq!(lines[1]["count"], 3);
        assert!(lines[1].get("spans").is_none() && lines[1].get("fields").is_none());
    }

    #[test]
    fn warnings_keep_the_request_id_when_the_level_is_warn() {
        let text = capture(&settings("WARN"), || {
            let span = tracing::info_span!(target: RUNTIME_SPAN_TARGET, "Lambda runtime invoke", requestId = "req-9");
            let _g = span.enter();
            tracing::info!("not at warn");
            tracing::warn!("at warn");
        });
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["requestId"], "req-9");
        assert_eq!(lines[0]["level"], "WARN");
    }

    #[test]
    fn third_party_crates_stay_at_info_when_the_function_logs_at_trace() {
        let text = capture(&settings("TRACE"), || {
            tracing::trace!(target: "suomifi_shared::x", "ours at trace");
            tracing::debug!(target: "hyper_util::client", "body bytes");
            tracing::trace!(target: "aws_smithy_runtime::client", "request body");
            tracing::trace!(target: "rustls::conn", "secrets");
            tracing::info!(target: "aws_config::x", "theirs at info");
        });
        assert!(text.contains("ours at trace"), "{text}");
        assert!(text.contains("theirs at info"), "{text}");
        for quiet in ["body bytes", "request body", "secrets"] {
            assert!(!text.contains(quiet), "{quiet} logged: {text}");
        }
    }

    #[test]
    fn levels_come_from_lambda_then_rust_log() {
        use tracing::level_filters::LevelFilter;
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            LogSettings::from_lookup(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(get(&[]).level, LevelFilter::INFO);
        assert!(!get(&[]).json);
        assert_eq!(
            get(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("RUST_LOG", "error")]).level,
            LevelFilter::DEBUG
        );
        assert_eq!(
            get(&[("RUST_LOG", "hyper=trace,warn")]).level,
            LevelFilter::WARN
        );
        assert_eq!(
            get(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).level,
            LevelFilter::ERROR
        );
        assert_eq!(
            get(&[("AWS_LAMBDA_LOG_LEVEL", "loud")]).level,
            LevelFilter::INFO
        );
        assert!(get(&[("AWS_LAMBDA_LOG_FORMAT", "json")]).json);
    }

    #[test]
    fn emf_document_puts_the_stack_first_in_the_one_dimension_set() {
        let at = OffsetDateTime::from_unix_timestamp(1_795_608_000).unwrap();
        let line = emf_document(
            at,
            Some("suomifi-ops-qa"),
            &[(
                "Secret",
                "arn:aws:secretsmanager:eu-north-1:123456789012:secret:x-AbCdEf",
            )],
            &[Metric {
                name: "RotationSucceeded",
                value: 1.0,
                unit: "Count",
            }],
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack", "Secret"]])
        );
        assert_eq!(v["Stack"], "suomifi-ops-qa");
        assert_eq!(
            v["Secret"],
            "arn:aws:secretsmanager:eu-north-1:123456789012:secret:x-AbCdEf"
        );
        assert_eq!(v["RotationSucceeded"], 1.0);
    }

    #[test]
    fn emf_document_without_a_stack_keeps_only_the_callers_dimensions() {
        let at = OffsetDateTime::from_unix_timestamp(1_795_608_000).unwrap();
        let line = emf_document(at, None, &[("Target", "api")], &[]);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Target"]])
        );
        assert!(v.get("Stack").is_none());
    }

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
