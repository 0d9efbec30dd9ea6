//! `rotate-password`: the AWS Secrets Manager rotation function for Suomi.fi Messages REST API
//! credentials. One deployed function rotates any number of secrets.
//!
//! Environment:
//! - `ALERT_TOPIC_ARN` — optional SNS topic for failures that need a person (drift, refusal, a
//!   malformed secret).
//! - `NOTIFY_ON_SUCCESS` — optional, `true` to also notify each successful rotation (default `false`).
//! - `SUOMIFI_TIMEOUT_SECONDS` — optional, timeout of one Suomi.fi request (default 10).
//!
//! AWS endpoints, region and credentials come from the standard SDK configuration.

use lambda_runtime::{LambdaEvent, service_fn};
use rotate_password::{RotationEvent, RotationSettings, Rotator, SuomifiApi};
use std::time::Duration;
use suomifi_shared::config::{Env, optional_bool, optional_u64};
use suomifi_shared::notify::{AnyNotifier, NoNotifier, SnsNotifier};
use suomifi_shared::secrets::SecretsManager;
use suomifi_shared::suomifi::ClientConfig;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    suomifi_shared::telemetry::init();
    let env = Env::from_process();
    let settings = RotationSettings {
        notify_on_success: optional_bool(&env, "NOTIFY_ON_SUCCESS", false)?,
        ..RotationSettings::default()
    };
    let timeout = Duration::from_secs(optional_u64(&env, "SUOMIFI_TIMEOUT_SECONDS", 10)?);
    let aws = match suomifi_shared::aws::load_config().await {
        Ok(aws) => aws,
        Err(e) => suomifi_shared::telemetry::refuse_start("RotatePassword.Config", &e),
    };
    let notifier = match env.get("ALERT_TOPIC_ARN") {
        Some(arn) => AnyNotifier::Sns(SnsNotifier::new(aws_sdk_sns::Client::new(&aws), arn)),
        None => AnyNotifier::None(NoNotifier),
    };
    let api = SuomifiApi::new(ClientConfig {
        timeout,
        ..ClientConfig::default()
    });
    let rotator = Rotator::new(
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&aws)),
        api,
        notifier,
        settings,
    );
    let rotator = &rotator;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let ev = RotationEvent::from_json(event.payload)?;
            rotator.handle(&ev).await
        },
    ))
    .await
}
