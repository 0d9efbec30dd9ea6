//! `rotate-password`: the AWS Secrets Manager rotation function for Suomi.fi Messages REST API
//! credentials. One deployed function rotates any number of secrets.
//!
//! Environment:
//! - `STACK_NAME` — optional, the CloudFormation stack: every metric carries it as the `Stack`
//!   dimension, so stacks side by side never share a series (unset: no `Stack` dimension).
//! - `ALERT_TOPIC_ARN` — optional SNS topic for failures that need a person (drift, refusal, a
//!   malformed secret, a failed test after the change).
//! - `STATE_TABLE` — optional DynamoDB table (partition key `pk`) of the shared alert lifecycle:
//!   with it a failing rotation notifies once (reminding every `REMINDER_HOURS`) however often
//!   Secrets Manager retries, and a finished rotation resolves the alert; without it every failed
//!   step that needs a person notifies.
//! - `REMINDER_HOURS` — optional, repeat an open rotation alert this often (default 24).
//! - `NOTIFY_ON_SUCCESS` — optional, `true` to also notify each successful rotation (default `false`).
//! - `SUOMIFI_TIMEOUT_SECONDS` — optional, timeout of one Suomi.fi request (default 10).
//!
//! AWS endpoints, region and credentials come from the standard SDK configuration.

use lambda_runtime::{LambdaEvent, service_fn};
use rotate_password::{RotationEvent, RotationSettings, Rotator, SuomifiApi};
use std::time::{Duration, SystemTime};
use suomifi_shared::alerts::{AlertLifecycle, Tracking};
use suomifi_shared::clock::SystemClock;
use suomifi_shared::config::{Env, optional_bool, optional_u64};
use suomifi_shared::notify::AnyNotifier;
use suomifi_shared::secrets::SecretsManager;
use suomifi_shared::state::DynamoStateStore;
use suomifi_shared::suomifi::ClientConfig;

// The dependency list check-updates watches (see `suomifi_shared::deps`).
suomifi_shared::embed_dependency_list!();

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    suomifi_shared::deps::keep(DEPENDENCY_LIST);
    suomifi_shared::telemetry::init();
    suomifi_shared::telemetry::set_metrics_stack(std::env::var("STACK_NAME").ok());
    let env = Env::from_process();
    let refuse = |e: &dyn std::fmt::Display| -> ! {
        suomifi_shared::telemetry::refuse_start("RotatePassword.Config", e)
    };
    let timeout = Duration::from_secs(
        optional_u64(&env, "SUOMIFI_TIMEOUT_SECONDS", 10).unwrap_or_else(|e| refuse(&e)),
    );
    let client = ClientConfig {
        timeout,
        ..ClientConfig::default()
    };
    let settings = RotationSettings {
        notify_on_success: optional_bool(&env, "NOTIFY_ON_SUCCESS", false)
            .unwrap_or_else(|e| refuse(&e)),
        // One login or events call, with the client's own retries and their delays.
        attempt_budget: (client.timeout + client.retry.max_delay) * client.retry.max_attempts,
        ..RotationSettings::default()
    };
    let reminder_hours = optional_u64(&env, "REMINDER_HOURS", 24).unwrap_or_else(|e| refuse(&e));
    let aws = match suomifi_shared::aws::load_config().await {
        Ok(aws) => aws,
        Err(e) => refuse(&e),
    };
    let sns = AnyNotifier::for_topic(&aws, env.get("ALERT_TOPIC_ARN"));
    let notifier = match env.get("STATE_TABLE") {
        Some(table) => Tracking::Lifecycle(AlertLifecycle::new(
            DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
            sns,
            SystemClock,
            time::Duration::hours(i64::try_from(reminder_hours.clamp(1, 24 * 30)).unwrap_or(24)),
        )),
        None => Tracking::Untracked(sns),
    };
    let rotator = Rotator::new(
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws)),
        SuomifiApi::new(client),
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
