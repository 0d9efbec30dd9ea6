//! The adapters that make a check run from the terminal either real or a dry run.
//!
//! A dry run must change nothing, and *nothing* includes the alert state: if a dry run recorded
//! "alert opened" without publishing it, the next scheduled run would see the alert as already
//! notified and stay silent. So a dry run reads the real state table (to show what a real run
//! would do now: open, remind, resolve) but keeps every write in memory ([`OverlayStore`]), and
//! collects notifications instead of publishing them ([`CollectingNotifier`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use suomifi_shared::notify::{Alert, Notifier, NotifyError, SnsNotifier};
use suomifi_shared::state::{DynamoStateStore, StateError, StateStore, Versioned};

/// Reads through to a base store (if any), writes only to memory. Same conditional semantics as
/// the real table, so the checks behave exactly as in a real run.
#[derive(Debug, Clone, Default)]
pub struct OverlayStore {
    base: Option<DynamoStateStore>,
    /// `None` marks an item deleted in memory.
    local: Arc<Mutex<HashMap<String, Option<Versioned>>>>,
}

impl OverlayStore {
    /// Over `base` (or over nothing: an empty table).
    pub fn new(base: Option<DynamoStateStore>) -> Self {
        Self {
            base,
            local: Arc::default(),
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<Versioned>>> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StateStore for OverlayStore {
    async fn get(&self, pk: &str) -> Result<Option<Versioned>, StateError> {
        if let Some(v) = self.local().get(pk) {
            return Ok(v.clone());
        }
        match &self.base {
            Some(b) => b.get(pk).await,
            None => Ok(None),
        }
    }

    async fn put_if(
        &self,
        pk: &str,
        data: &serde_json::Value,
        expected: Option<u64>,
        _ttl: Option<i64>,
    ) -> Result<bool, StateError> {
        let current = self.get(pk).await?.map(|v| v.version);
        if current != expected {
            return Ok(false);
        }
        self.local().insert(
            pk.to_owned(),
            Some(Versioned {
                data: data.clone(),
                version: expected.unwrap_or(0) + 1,
            }),
        );
        Ok(true)
    }

    async fn delete_if(&self, pk: &str, expected: u64) -> Result<bool, StateError> {
        let current = self.get(pk).await?.map(|v| v.version);
        if current != Some(expected) {
            return Ok(false);
        }
        self.local().insert(pk.to_owned(), None);
        Ok(true)
    }
}

/// Keeps what would have been published.
#[derive(Debug, Clone, Default)]
pub struct CollectingNotifier {
    sent: Arc<Mutex<Vec<Alert>>>,
}

impl CollectingNotifier {
    /// Everything "published", in order.
    pub fn taken(&self) -> Vec<Alert> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Notifier for CollectingNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(alert.clone());
        Ok(())
    }
}

/// The state store of a run: the real table, or the dry-run overlay.
#[derive(Debug, Clone)]
pub enum CliStore {
    /// A real run.
    Real(DynamoStateStore),
    /// A dry run.
    Overlay(OverlayStore),
}

impl StateStore for CliStore {
    async fn get(&self, pk: &str) -> Result<Option<Versioned>, StateError> {
        match self {
            Self::Real(s) => s.get(pk).await,
            Self::Overlay(s) => s.get(pk).await,
        }
    }

    async fn put_if(
        &self,
        pk: &str,
        data: &serde_json::Value,
        expected: Option<u64>,
        ttl: Option<i64>,
    ) -> Result<bool, StateError> {
        match self {
            Self::Real(s) => s.put_if(pk, data, expected, ttl).await,
            Self::Overlay(s) => s.put_if(pk, data, expected, ttl).await,
        }
    }

    async fn delete_if(&self, pk: &str, expected: u64) -> Result<bool, StateError> {
        match self {
            Self::Real(s) => s.delete_if(pk, expected).await,
            Self::Overlay(s) => s.delete_if(pk, expected).await,
        }
    }

    async fn get_many(&self, pks: &[String]) -> Result<HashMap<String, Versioned>, StateError> {
        match self {
            Self::Real(s) => s.get_many(pks).await,
            Self::Overlay(s) => s.get_many(pks).await,
        }
    }
}

/// Where a run's notifications go: SNS (a real run) or nowhere (a dry run). Either way they are
/// also kept, to be listed after the report.
#[derive(Debug, Clone)]
pub struct CliNotifier {
    sns: Option<SnsNotifier>,
    kept: CollectingNotifier,
}

impl CliNotifier {
    /// What was published (or, in a dry run, would have been).
    pub fn sent(&self) -> Vec<Alert> {
        self.kept.taken()
    }

    /// Whether notifications really go out.
    pub fn publishes(&self) -> bool {
        self.sns.is_some()
    }
}

impl Notifier for CliNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        if let Some(n) = &self.sns {
            n.publish(alert).await?;
        }
        self.kept.publish(alert).await
    }
}

/// The store and notifier for a run. A real run needs both the table and the topic; a dry run
/// reads the table when it is given and works on an empty one otherwise.
pub fn adapters(
    sdk: &aws_config::SdkConfig,
    state_table: Option<&str>,
    topic: Option<&str>,
    dry_run: bool,
) -> Result<(CliStore, CliNotifier), crate::error::CliError> {
    let table = state_table.map(|t| DynamoStateStore::new(aws_sdk_dynamodb::Client::new(sdk), t));
    if dry_run {
        return Ok((
            CliStore::Overlay(OverlayStore::new(table)),
            CliNotifier {
                sns: None,
                kept: CollectingNotifier::default(),
            },
        ));
    }
    let Some(table) = table else {
        return Err(crate::error::CliError::usage(
            "a real run needs the state table (--state-table or STATE_TABLE)",
        )
        .hint("give the stack's StateTableName, or add --dry-run to only look"));
    };
    let Some(topic) = topic else {
        return Err(crate::error::CliError::usage(
            "a real run needs the alert topic (--alert-topic-arn or ALERT_TOPIC_ARN)",
        )
        .hint(
            "give the stack's AlertTopicArn, or add --dry-run to print the notifications instead",
        ));
    };
    Ok((
        CliStore::Real(table),
        CliNotifier {
            sns: Some(SnsNotifier::new(aws_sdk_sns::Client::new(sdk), topic)),
            kept: CollectingNotifier::default(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_overlay_keeps_conditional_semantics_in_memory() {
        let s = OverlayStore::new(None);
        assert!(s.put_if("a", &json!(1), None, None).await.unwrap());
        assert!(
            !s.put_if("a", &json!(2), None, None).await.unwrap(),
            "exists"
        );
        assert!(s.put_if("a", &json!(2), Some(1), None).await.unwrap());
        assert_eq!(s.get("a").await.unwrap().unwrap().version, 2);
        assert!(!s.delete_if("a", 1).await.unwrap(), "stale version");
        assert!(s.delete_if("a", 2).await.unwrap());
        assert!(s.get("a").await.unwrap().is_none());
        assert!(
            s.put_if("a", &json!(3), None, None).await.unwrap(),
            "recreated"
        );
    }
}
