//! `rotate-password`: the AWS Secrets Manager rotation function for Suomi.fi Messages REST API
//! credentials. One deployed function rotates any number of secrets. This file only wires:
//! telemetry, configuration (read once, typed), clients (built once), and the runtime loop.
//!
//! Environment (every variable is documented in `config.rs`, which reads them):
//! - `STACK_NAME` — optional, the CloudFormation stack: the `Stack` dimension of every metric.
//! - `ALERT_TOPIC_ARN` — optional SNS topic for failures that need a person.
//! - `STATE_TABLE` — optional DynamoDB table of the shared alert lifecycle.
//! - `REMINDER_HOURS` — optional, repeat an open rotation alert this often (default 24).
//! - `NOTIFY_ON_SUCCESS` — optional, `true` to also notify each successful rotation (default `false`).
//! - `SUOMIFI_TIMEOUT_SECONDS` — optional, timeout of one Suomi.fi request (default 10).
//!
//! AWS endpoints, region and credentials come from the standard SDK configuration.

use lambda_runtime::{LambdaEvent, service_fn};
use rotate_password::{Config, HttpSuomifi, RotationEvent, Rotator};
use std::time::SystemTime;
use suomifi_shared::alerts::{AlertLifecycle, Tracking};
use suomifi_shared::clock::SystemClock;
use suomifi_shared::config::Env;
use suomifi_shared::notify::AnyNotifier;
use suomifi_shared::secrets::SecretsManager;
use suomifi_shared::state::DynamoStateStore;
use suomifi_shared::telemetry::refuse_start;

// The dependency list check-updates watches (see `suomifi_shared::deps`).
suomifi_shared::embed_dependency_list!();

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    suomifi_shared::telemetry::init();
    suomifi_shared::telemetry::set_metrics_stack(std::env::var("STACK_NAME").ok());
    let config = match Config::from_env(&Env::from_process()) {
        Ok(c) => c,
        Err(e) => refuse_start("RotatePassword.Config", &e),
    };
    let (settings, client) = config.rotation();
    let aws = match suomifi_shared::aws::load_config().await {
        Ok(aws) => aws,
        Err(e) => refuse_start("RotatePassword.Config", &e),
    };
    let sns = AnyNotifier::for_topic(&aws, config.alert_topic_arn.as_deref());
    let notifier = match config.state_table.as_deref() {
        Some(table) => Tracking::Lifecycle(AlertLifecycle::new(
            DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
            sns,
            SystemClock,
            config.reminder,
        )),
        None => Tracking::Untracked(sns),
    };
    let rotator = Rotator::new(
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws)),
        HttpSuomifi::new(client),
        notifier,
        settings,
    );
    let rotator = &rotator;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let ev = RotationEvent::from_json(event.payload)?;
            let deadline = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .ok()
                .map(|left| tokio::time::Instant::now() + left);
            rotator.handle_until(&ev, deadline).await
        },
    ))
    .await
}
