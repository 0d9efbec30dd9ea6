//! Small persistent state in the DynamoDB table (`STATE_TABLE`, partition key `pk`, String).
//!
//! Two shapes live there: alert records (see [`crate::alerts`]) and JSON documents the functions
//! remember between runs (a checker's own cursor, the last seen certificate of a target). Writes
//! are conditional on a version number, so two overlapping runs cannot both win.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;

/// A stored document and its version (for optimistic concurrency).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The document.
    pub data: Value,
    /// Incremented by every successful write; 0 never exists.
    pub version: u64,
}

/// The state table could not be used. Runs fail loudly on it rather than drop an alert.
#[derive(Debug, thiserror::Error)]
#[error("state table `{table}`: {detail}")]
pub struct StateError {
    /// Table name.
    pub table: String,
    /// What went wrong (with the SDK's service detail).
    pub detail: String,
}

/// Port: a key → versioned JSON document store with conditional writes.
pub trait StateStore: Send + Sync {
    /// Reads a document.
    fn get(&self, pk: &str) -> impl Future<Output = Result<Option<Versioned>, StateError>> + Send;

    /// Writes `data` as version `expected + 1` if the stored version is `expected` (`None`: the
    /// item must not exist). Returns `false` when another writer got there first.
    fn put_if(
        &self,
        pk: &str,
        data: &Value,
        expected: Option<u64>,
        ttl_epoch_seconds: Option<i64>,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Deletes if the stored version is `expected`. Returns `false` when it had changed.
    fn delete_if(
        &self,
        pk: &str,
        expected: u64,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;
}

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStateStore {
    /// A store over `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn err<E, R>(&self, e: aws_sdk_dynamodb::error::SdkError<E, R>) -> StateError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        StateError {
            table: self.table.clone(),
            detail: crate::aws::sdk_error_detail(&e),
        }
    }
}

fn is_condition_failed<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl StateStore for DynamoStateStore {
    async fn get(&self, pk: &str) -> Result<Option<Versioned>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| StateError {
                table: self.table.clone(),
                detail: format!("item `{pk}` has a non-integer version"),
            })?,
            _ => 0,
        };
        let data = match item.get("data") {
            Some(AttributeValue::S(s)) => serde_json::from_str(s).map_err(|e| StateError {
                table: self.table.clone(),
                detail: format!("item `{pk}` holds malformed JSON: {e}"),
            })?,
            _ => Value::Null,
        };
        Ok(Some(Versioned { data, version }))
    }

    async fn put_if(
        &self,
        pk: &str,
        data: &Value,
        expected: Option<u64>,
        ttl_epoch_seconds: Option<i64>,
    ) -> Result<bool, StateError> {
        let new_version = expected.unwrap_or(0) + 1;
        let mut item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            ("data".to_owned(), AttributeValue::S(data.to_string())),
            (
                "version".to_owned(),
                AttributeValue::N(new_version.to_string()),
            ),
        ]);
        if let Some(ttl) = ttl_epoch_seconds {
            item.insert("ttl".into(), AttributeValue::N(ttl.to_string()));
        }
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let req = match expected {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(v) => req
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn delete_if(&self, pk: &str, expected: u64) -> Result<bool, StateError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(expected.to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }
}

/// In-memory [`StateStore`] for unit tests, with the same conditional semantics.
#[derive(Debug, Clone, Default)]
pub struct MemoryStateStore {
    items: std::sync::Arc<std::sync::Mutex<HashMap<String, Versioned>>>,
    /// When set, every call fails (to test that runs fail loudly).
    pub fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl MemoryStateStore {
    fn check(&self) -> Result<(), StateError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StateError {
                table: "memory".into(),
                detail: "injected failure".into(),
            });
        }
        Ok(())
    }

    /// Every key stored.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<_> = self.items.lock().expect("lock").keys().cloned().collect();
        k.sort();
        k
    }
}

impl StateStore for MemoryStateStore {
    async fn get(&self, pk: &str) -> Result<Option<Versioned>, StateError> {
        self.check()?;
        Ok(self.items.lock().expect("lock").get(pk).cloned())
    }

    async fn put_if(
        &self,
        pk: &str,
        data: &Value,
        expected: Option<u64>,
        _ttl: Option<i64>,
    ) -> Result<bool, StateError> {
        self.check()?;
        let mut items = self.items.lock().expect("lock");
        let current = items.get(pk).map(|v| v.version);
        if current != expected {
            return Ok(false);
        }
        items.insert(
            pk.to_owned(),
            Versioned {
                data: data.clone(),
                version: expected.unwrap_or(0) + 1,
            },
        );
        Ok(true)
    }

    async fn delete_if(&self, pk: &str, expected: u64) -> Result<bool, StateError> {
        self.check()?;
        let mut items = self.items.lock().expect("lock");
        if items.get(pk).map(|v| v.version) != Some(expected) {
            return Ok(false);
        }
        items.remove(pk);
        Ok(true)
    }
}
