//! The notifications, read back as SNS was given them (moto keeps every message published to a
//! topic), checked against what the SQS subscriber received, and shown.

use crate::setup::Demo;
use serde_json::Value;

/// A notification as SNS was given it.
pub(crate) struct Published {
    pub(crate) subject: String,
    pub(crate) structure: Value,
}

impl Demo {
    /// Everything published to the alert topic, as SNS was given it (moto keeps it).
    pub(crate) async fn published(&self) -> Result<Vec<Published>, String> {
        let data: Value = self
            .http
            .get(format!("{}/moto-api/data.json", self.moto.endpoint))
            .send()
            .await
            .map_err(|e| format!("moto data: {e}"))?
            .json()
            .await
            .map_err(|e| format!("moto data: {e}"))?;
        let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
        let topic = topics
            .iter()
            .find(|t| t["arn"] == self.topic.topic_arn.as_str())
            .ok_or("the alert topic is missing from moto's data")?;
        let mut out = Vec::new();
        for n in topic["sent_notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let structure: Value = serde_json::from_str(n[1].as_str().unwrap_or("{}"))
                .map_err(|e| format!("a published message is not the JSON structure: {e}"))?;
            out.push(Published {
                subject: n[2].as_str().unwrap_or_default().to_owned(),
                structure,
            });
        }
        Ok(out)
    }

    /// Shows the notifications published since the last call, as e-mail and chat readers see
    /// them, after checking that SNS delivered each one to the SQS subscriber. Returns their subjects.
    pub(crate) async fn show_notifications(&mut self) -> Result<Vec<String>, String> {
        let all = self.published().await?;
        let new: Vec<Published> = all.into_iter().skip(self.shown).collect();
        self.shown += new.len();
        // SNS delivers asynchronously in AWS; moto delivers within the Publish call.
        let delivered = self.topic.drain().await;
        ensure!(
            delivered.len() == new.len(),
            "{} notification(s) published but {} delivered to the SQS subscriber",
            new.len(),
            delivered.len()
        );
        let mut subjects = Vec::new();
        for (p, d) in new.iter().zip(&delivered) {
            let default = p.structure["default"].as_str().unwrap_or_default();
            ensure!(
                d.subject.as_deref() == Some(p.subject.as_str()) && d.message == default,
                "the SQS subscriber did not receive the `default` body of `{}`",
                p.subject
            );
            let email = p.structure["email"].as_str().ok_or("no `email` member")?;
            let chat: Value =
                serde_json::from_str(default).map_err(|e| format!("chat JSON: {e}"))?;
            crate::output::print_notification(self.paint, &p.subject, email, &chat);
            subjects.push(p.subject.clone());
        }
        if new.is_empty() {
            println!("        {}", self.paint.dim("(no notification sent)"));
        }
        Ok(subjects)
    }
}
