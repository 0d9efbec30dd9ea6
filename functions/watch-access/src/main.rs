//! watch-access — the Lambda function that rotates the Suomi.fi password when a person has read
//! it or leaves, and guards the credentials secrets' resource policies. This file only wires:
//! telemetry, configuration (read once, typed), clients (built once), and the runtime loop.
//!
//! Environment (the infrastructure template sets these):
//! - `STACK_NAME` — optional, the CloudFormation stack: every metric carries it as the `Stack`
//!   dimension (unset: no `Stack` dimension).
//! - `WATCHED_SECRET_ARNS` — the credentials secrets (full ARNs, comma-separated)
//! - `WORKLOAD_ROLE_ARNS` — the stack's own function roles (their reads are expected)
//! - `TRUSTED_READER_ARNS` — optional, other principals whose reads are expected (the retrieval
//!   process's role)
//! - `BREAK_GLASS_ROLE_ARN` — optional, the role the resource policy also lets read (its reads
//!   are still recorded and notified: a person uses it)
//! - `EXPOSURE_ROTATE_AFTER_MINUTES` — minutes from a person's read to the rotation (default 60;
//!   `0` = at once; at most 10080)
//! - `READER_RETENTION_DAYS` — days the ledger keeps a read (DynamoDB TTL; default 400)
//! - `STATE_TABLE` — DynamoDB table (partition key `pk`, TTL attribute `ttl`)
//! - `ALERT_TOPIC_ARN` — SNS topic; unset: notifications are only logged
//! - `SCHEDULER_ROLE_ARN` — the role EventBridge Scheduler assumes to invoke this function
//!   (required unless the delay is 0)
//! - `SCHEDULE_GROUP` — the schedule group of the one-time rotation schedules (required unless
//!   the delay is 0)
//! - `SCHEDULE_DEAD_LETTER_ARN` — optional, the SQS queue a rotation schedule's event goes to when
//!   Scheduler cannot deliver it after its retries
//!
//! AWS endpoints and credentials come the standard SDK way (`AWS_REGION`, `AWS_ENDPOINT_URL`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use suomifi_shared::clock::SystemClock;
use suomifi_shared::config::Env;
use suomifi_shared::notify::AnyNotifier;
use suomifi_shared::state::DynamoStateStore;
use suomifi_shared::telemetry::refuse_start;
use watch_access::ports::{SchedulerAdapter, SecretsManagerAdapter};
use watch_access::{Config, Ports, Watcher};

suomifi_shared::embed_dependency_list!();

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    suomifi_shared::telemetry::init();
    suomifi_shared::telemetry::set_metrics_stack(std::env::var("STACK_NAME").ok());
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    let config = match Config::from_env(&Env::from_process()) {
        Ok(c) => c,
        Err(e) => refuse_start("WatchAccess.Config", &e),
    };
    let sdk = match suomifi_shared::aws::load_config().await {
        Ok(sdk) => sdk,
        Err(e) => refuse_start("WatchAccess.Config", &e),
    };
    let notifier = AnyNotifier::for_topic(&sdk, config.alert_topic_arn.as_deref());
    let ports = Ports {
        secrets: SecretsManagerAdapter::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        scheduler: SchedulerAdapter(aws_sdk_scheduler::Client::new(&sdk)),
        store: DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.state_table),
        notifier,
        clock: SystemClock,
    };
    let watcher = Watcher::new(config, ports);
    let watcher = &watcher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        watcher
            .handle(&event.payload, &event.context.invoked_function_arn)
            .await
    }))
    .await
}
