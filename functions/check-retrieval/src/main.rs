//! check-retrieval Lambda function: wiring only (the check is in the library).
//!
//! Invoked by a schedule (an EventBridge rule's envelope, EventBridge Scheduler's verbatim input,
//! or `{}` — the payload is ignored); returns the JSON report.
//!
//! Environment:
//! - `STACK_NAME` — the CloudFormation stack: every metric carries it as the `Stack` dimension, so stacks side by side never share a series (optional; unset: no `Stack` dimension)
//! - `SYSTEMS` — every Suomi.fi system to check: a JSON array of `{"name", "secret", "checkpoint"?}` (the credentials secret's name or ARN, the retriever's SSM checkpoint parameter); instead of the next two (one of the two ways is required)
//! - `SUOMIFI_SECRET_ID` — one system only, instead of `SYSTEMS`: name or ARN of the Secrets Manager secret holding the Suomi.fi credentials, a list of one named after the secret (optional)
//! - `CHECKPOINT_PARAMETER` — with `SUOMIFI_SECRET_ID`: SSM parameter where the retriever writes its checkpoint; unset: retrieval is not watched (optional)
//! - `STATE_TABLE` — DynamoDB table (partition key `pk`, String) for alert state and the checker's own cursor (required)
//! - `ALERT_TOPIC_ARN` — SNS topic for alerts; unset: alerts are only logged (optional)
//! - `HEARTBEAT_MAX_AGE_MINUTES` — alert when the checkpoint's `updatedAt` is older than this (default 30)
//! - `BACKLOG_GRACE_MINUTES` — alert when a citizen's message has waited longer than this (default 60)
//! - `PASSWORD_MAX_AGE_DAYS` — warn when the API password is older than this, 1–365 (default 180)
//! - `REMINDER_HOURS` — repeat an open alert this often (default 24)
//!
//! AWS endpoints come from the SDK's standard configuration (`AWS_ENDPOINT_URL` for local
//! stand-ins); the Suomi.fi API base URL comes from the secret.

use check_retrieval::adapters::wire;
use check_retrieval::config::{Config, Env};
use check_retrieval::scan_deadline;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use std::time::SystemTime;
use suomifi_shared::notify::AnyNotifier;
use suomifi_shared::state::DynamoStateStore;

// The dependency list check-updates watches (see `suomifi_shared::deps`).
suomifi_shared::embed_dependency_list!();

#[tokio::main]
async fn main() -> Result<(), Error> {
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    suomifi_shared::telemetry::init();
    suomifi_shared::telemetry::set_metrics_stack(std::env::var("STACK_NAME").ok());
    let config = match Config::from_env(&Env::from_process()) {
        Ok(config) => config,
        Err(e) => suomifi_shared::telemetry::refuse_start("CheckRetrieval.Config", &e),
    };
    let aws = match suomifi_shared::aws::load_config().await {
        Ok(aws) => aws,
        Err(e) => suomifi_shared::telemetry::refuse_start("CheckRetrieval.Config", &e),
    };
    let notifier = AnyNotifier::for_topic(&aws, config.alert_topic_arn.as_deref());
    let store = DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.state_table);
    let fleet = wire(&aws, &config, store, notifier);
    let fleet = &fleet;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = scan_deadline(event.context.deadline, SystemTime::now());
        fleet.handle(deadline).await
    }))
    .await
}
