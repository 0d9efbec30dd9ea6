//! check-certificates — the Lambda function that watches certificate expiry and applies DVV's
//! certificate-change rule. This file only wires: telemetry, configuration (read once, typed),
//! SDK clients (built once), and the runtime loop. The logic is in the library.
//!
//! Environment (the infrastructure template sets exactly these):
//! - `STACK_NAME` — optional, the CloudFormation stack: every metric carries it as the `Stack`
//!   dimension, so stacks side by side never share a series (unset: no `Stack` dimension).
//! - `CERT_TARGETS` — JSON array of targets: `{"name", one of "tls": "host:port" (+ "sni"), "secret": "<id>" (+ "jsonKey", "passwordKey"), "acm": "<arn>", and optionally "role": "signing"}`; see docs/certificates.md
//! - `STATE_TABLE` — DynamoDB table (partition key `pk`) for alert state and the remembered certificate of each target
//! - `ALERT_TOPIC_ARN` — SNS topic for notifications; unset: notifications are only logged
//! - `THRESHOLD_DAYS` — days before expiry at which to notify, once each (default "60,30,14,7,3,1")
//! - `REMINDER_HOURS` — reminder interval below the last threshold and while expired (default 24)
//! - `PROBE_TIMEOUT_SECONDS` — budget for fetching one target's certificate (default 10)
//! - `PROBE_CONCURRENCY` — how many targets are fetched at once (default 16)
//!
//! AWS endpoints and credentials come the standard SDK way (`AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>` for local stand-ins).

use check_certificates::sources::{AcmClientSource, SecretsManagerSource};
use check_certificates::{Checker, Config, Ports, handle_until};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use suomifi_shared::clock::SystemClock;
use suomifi_shared::config::Env;
use suomifi_shared::notify::AnyNotifier;
use suomifi_shared::state::DynamoStateStore;
use suomifi_shared::tlsprobe::TlsProber;

// The dependency list check-updates watches (see `suomifi_shared::deps`).
suomifi_shared::embed_dependency_list!();

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    suomifi_shared::telemetry::init();
    suomifi_shared::telemetry::set_metrics_stack(std::env::var("STACK_NAME").ok());
    let config = match Config::from_env(&Env::from_process()) {
        Ok(config) => config,
        Err(e) => suomifi_shared::telemetry::refuse_start("CheckCertificates.Config", &e),
    };
    let sdk = match suomifi_shared::aws::load_config().await {
        Ok(sdk) => sdk,
        Err(e) => suomifi_shared::telemetry::refuse_start("CheckCertificates.Config", &e),
    };
    let notifier = AnyNotifier::for_topic(&sdk, config.alert_topic_arn.as_deref());
    let ports = Ports {
        tls: TlsProber::new(),
        secrets: SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        acm: AcmClientSource::new(aws_sdk_acm::Client::new(&sdk)),
        store: DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.state_table),
        notifier,
        clock: SystemClock,
    };
    // No target starts later than this before the Lambda deadline: one target's probe plus
    // its state-table writes and notifications.
    let reserve = config.probe_timeout + std::time::Duration::from_secs(10);
    let checker = Checker::new(config, ports);
    let checker = &checker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = event
            .context
            .deadline()
            .duration_since(std::time::SystemTime::now())
            .ok()
            .map(|left| std::time::Instant::now() + left.saturating_sub(reserve));
        handle_until(checker, event.payload, deadline).await
    }))
    .await
}
