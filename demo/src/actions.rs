//! What the others do around the functions: the operator's CLI, Secrets Manager starting a
//! rotation and invoking its steps, a client logging in to Suomi.fi, the organisation's retriever.

use crate::setup::{Demo, SECRET, USER};
use aws_sdk_secretsmanager::types::RotationRulesType;
use integration_tests::runtime::{InvokeError, LambdaFunction};
use serde_json::{Value, json};
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{ApiBase, ApiError, ClientConfig, EventType, SuomifiClient};

impl Demo {
    /// Runs the operator CLI against the stand-ins, its output going straight to the terminal.
    pub(crate) async fn cli(&self, args: &[&str]) -> Result<i32, String> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.len() > 40 {
                    format!("'{}…'", a.chars().take(24).collect::<String>())
                } else if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        println!(
            "        {}",
            self.paint
                .bold(&format!("$ suomifi-ops {}", shown.join(" ")))
        );
        let status = tokio::process::Command::new(integration_tests::binary("suomifi-ops"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.moto.env())
            .envs(
                std::env::var("NO_COLOR")
                    .ok()
                    .map(|v| ("NO_COLOR".to_owned(), v)),
            )
            .status()
            .await
            .map_err(|e| format!("cannot run suomifi-ops: {e}"))?;
        Ok(status.code().unwrap_or(-1))
    }

    pub(crate) async fn invoke(f: &mut LambdaFunction, event: Value) -> Result<Value, String> {
        f.invoke(event).await.map_err(|e| match e {
            InvokeError::Function(f) => format!("{}: {}", f.error_type, f.error_message),
            InvokeError::NoAnswer(m) => m,
        })
    }

    pub(crate) async fn stages(
        &self,
    ) -> Result<std::collections::HashMap<String, Vec<String>>, String> {
        Ok(self
            .sm
            .describe_secret()
            .secret_id(SECRET)
            .send()
            .await
            .map_err(|e| format!("describe: {e:?}"))?
            .version_ids_to_stages
            .unwrap_or_default())
    }

    pub(crate) async fn password(&self, stage: &str) -> Result<String, String> {
        let v = self
            .sm
            .get_secret_value()
            .secret_id(SECRET)
            .version_stage(stage)
            .send()
            .await
            .map_err(|e| format!("GetSecretValue {stage}: {e:?}"))?;
        let j: Value =
            serde_json::from_str(v.secret_string().unwrap_or("{}")).map_err(|e| e.to_string())?;
        Ok(j["password"].as_str().unwrap_or_default().to_owned())
    }

    /// What Secrets Manager does before `createSecret`: enable rotation and create the token's
    /// empty `AWSPENDING` version. moto's RotateSecret does exactly that, then fails to invoke the
    /// function (it cannot run a Rust function), so the demo invokes it as Secrets Manager would.
    pub(crate) async fn start_rotation(&self) -> Result<String, String> {
        let token = format!("{:032x}", rand::random::<u128>());
        let _ = self
            .sm
            .rotate_secret()
            .secret_id(SECRET)
            .client_request_token(&token)
            .rotation_lambda_arn("arn:aws:lambda:eu-north-1:123456789012:function:rotate-password")
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .send()
            .await;
        let stages = self.stages().await?;
        ensure!(
            stages
                .get(&token)
                .is_some_and(|s| s == &["AWSPENDING".to_owned()]),
            "Secrets Manager did not create the pending version"
        );
        self.progress(&format!(
            "RotateSecret: version {}… labelled AWSPENDING (no value yet)",
            &token[..8]
        ));
        Ok(token)
    }

    pub(crate) async fn step(&mut self, step: &str, token: &str) -> Result<String, String> {
        let out = Self::invoke(
            &mut self.rotate,
            json!({"Step": step, "SecretId": SECRET, "ClientRequestToken": token}),
        )
        .await?;
        let outcome = out["outcome"].as_str().unwrap_or_default().to_owned();
        self.progress(&format!("  {:<13} → {}", step, self.paint.green(&outcome)));
        Ok(outcome)
    }

    pub(crate) async fn login(&self, password: &str) -> Result<(), ApiError> {
        let client = SuomifiClient::new(
            ApiBase::parse(&self.sandbox.base_url()).expect("sandbox URL"),
            ClientConfig::default(),
        )?;
        client
            .token(USER, &Password::new(password))
            .await
            .map(|_| ())
    }

    /// What the organisation's retriever does: read every event from `from` to the end of the
    /// feed, fetch each citizen's message, and return the new continuation token.
    pub(crate) async fn retrieve(&self, from: Option<String>) -> Result<(String, usize), String> {
        let client = SuomifiClient::new(
            ApiBase::parse(&self.sandbox.base_url()).expect("sandbox URL"),
            ClientConfig::default(),
        )
        .map_err(|e| e.to_string())?;
        let password = Password::new(self.password("AWSCURRENT").await?);
        let token = client
            .token(USER, &password)
            .await
            .map_err(|e| e.to_string())?;
        let mut cursor = from;
        let mut messages = 0;
        loop {
            let page = client
                .events_page(&token.access_token, cursor.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            for e in &page.events {
                if e.event_type == EventType::EndUserMessage
                    && let Some(id) = e.metadata.message_id
                {
                    client
                        .message(&token.access_token, id)
                        .await
                        .map_err(|e| e.to_string())?;
                    messages += 1;
                }
            }
            let done = page.events.is_empty();
            cursor = Some(page.continuation_token);
            if done {
                break;
            }
        }
        Ok((cursor.unwrap_or_default(), messages))
    }
}
