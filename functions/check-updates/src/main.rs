//! check-updates — the Lambda function that watches the bundle's own dependencies for security
//! advisories (OSV) and reports dated changes ahead of time. This file only wires: telemetry,
//! configuration (read once, typed), clients (built once), and the runtime loop.
//!
//! Environment (the infrastructure template sets these):
//! - `STACK_NAME` — optional, the CloudFormation stack: every metric carries it as the `Stack`
//!   dimension, so stacks side by side never share a series (unset: no `Stack` dimension).
//! - `STATE_TABLE` — DynamoDB table (partition key `pk`) for alert state and the open advisories
//! - `ALERT_TOPIC_ARN` — SNS topic; unset: notifications are only logged
//! - `OSV_API_URL` — OSV base URL (default `https://api.osv.dev`; https only, http only to loopback)
//! - `REMINDER_HOURS` — reminder interval of an open alert (default 168)
//! - `DEADLINES` — optional JSON amendments of the shipped deadline list (see `deadlines.rs`)
//! - `DEADLINE_NOTICE_DAYS` — days ahead a deadline is reported (default 180)
//! - `UNKNOWN_AFTER_RUNS` — runs in a row without an OSV answer before alerting (default 2)
//! - `OSV_TIMEOUT_SECONDS` — budget of one OSV request (default 20)
//!
//! AWS endpoints and credentials come the standard SDK way (`AWS_REGION`, `AWS_ENDPOINT_URL`).

use check_updates::osv::HttpOsv;
use check_updates::{Checker, Config, Ports, handle};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use suomifi_shared::clock::SystemClock;
use suomifi_shared::config::Env;
use suomifi_shared::notify::AnyNotifier;
use suomifi_shared::state::DynamoStateStore;
use suomifi_shared::suomifi::RetryPolicy;
use suomifi_shared::telemetry::refuse_start;

suomifi_shared::embed_dependency_list!();

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    suomifi_shared::telemetry::init();
    suomifi_shared::telemetry::set_metrics_stack(std::env::var("STACK_NAME").ok());
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    let deps = match check_updates::deps::own(DEPENDENCY_LIST) {
        Ok(d) => d,
        Err(e) => refuse_start("CheckUpdates.DependencyList", &e),
    };
    let config = match Config::from_env(&Env::from_process()) {
        Ok(c) => c,
        Err(e) => refuse_start("CheckUpdates.Config", &e),
    };
    let sdk = match suomifi_shared::aws::load_config().await {
        Ok(sdk) => sdk,
        Err(e) => refuse_start("CheckUpdates.Config", &e),
    };
    let osv = match HttpOsv::new(
        config.osv_api.clone(),
        config.osv_timeout,
        RetryPolicy::default(),
    ) {
        Ok(o) => o,
        Err(e) => refuse_start("CheckUpdates.Config", &e),
    };
    let notifier = AnyNotifier::for_topic(&sdk, config.alert_topic_arn.as_deref());
    let ports = Ports {
        osv,
        store: DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.state_table),
        notifier,
        clock: SystemClock,
    };
    let checker = Checker::new(config, deps, ports);
    let checker = &checker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(checker, event.payload).await
    }))
    .await
}
