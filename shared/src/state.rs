//! Small persistent state in the DynamoDB table (`STATE_TABLE`, partition key `pk`, String).
//!
//! Two shapes live there: alert records (see [`crate::alerts`]) and JSON documents the functions
//! remember between runs (a checker's own cursor, the last seen certificate of a target). Writes
//! are conditional on a version number, so two overlapping runs cannot both win.

use crate::suomifi::RetryPolicy;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
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

    /// Reads several documents; keys that are not stored are absent from the answer. The default
    /// reads them one by one; the DynamoDB adapter asks for up to 100 keys a request.
    fn get_many(
        &self,
        pks: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Versioned>, StateError>> + Send {
        async move {
            let mut found = HashMap::new();
            for pk in pks {
                if let Some(v) = self.get(pk).await? {
                    found.insert(pk.clone(), v);
                }
            }
            Ok(found)
        }
    }
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

/// DynamoDB's limit of keys in one `BatchGetItem`.
const BATCH_GET_MAX_KEYS: usize = 100;

/// How often, and how patiently, one batch asks again for keys DynamoDB left unprocessed: the
/// project's one backoff (exponential, jittered), as for the Suomi.fi API.
fn unprocessed_keys_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        base_delay: std::time::Duration::from_millis(50),
        max_delay: std::time::Duration::from_secs(2),
    }
}

impl DynamoStateStore {
    fn versioned(
        &self,
        pk: &str,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<Versioned, StateError> {
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
        Ok(Versioned { data, version })
    }
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
        out.item.map(|item| self.versioned(pk, &item)).transpose()
    }

    async fn get_many(&self, pks: &[String]) -> Result<HashMap<String, Versioned>, StateError> {
        let mut found = HashMap::new();
        let mut unique: Vec<&String> = pks.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(BATCH_GET_MAX_KEYS) {
            let keys: Vec<_> = chunk
                .iter()
                .map(|pk| HashMap::from([("pk".to_owned(), AttributeValue::S((*pk).clone()))]))
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StateError {
                        table: self.table.clone(),
                        detail: e.to_string(),
                    })?,
            );
            // DynamoDB may answer part of a batch and hand the rest back as unprocessed keys
            // (throttling, a 16 MB answer): ask again for those, backing off, a bounded number
            // of times.
            let retry = unprocessed_keys_retry();
            let mut attempt = 0u32;
            while let Some(keys) = request.take() {
                if attempt > 0 {
                    tokio::time::sleep(retry.delay(attempt)).await;
                }
                attempt += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| self.err(e))?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let Some(AttributeValue::S(pk)) = item.get("pk") else {
                        continue;
                    };
                    let v = self.versioned(pk, &item)?;
                    found.insert(pk.clone(), v);
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if request.is_some() && attempt >= retry.max_attempts {
                    return Err(StateError {
                        table: self.table.clone(),
                        detail: format!(
                            "BatchGetItem left keys unprocessed after {attempt} attempts"
                        ),
                    });
                }
            }
        }
        Ok(found)
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

/// A store whose reads of a known set of keys are answered from one batched read at the start
/// of a run ([`Prefetching::prefetch`]) instead of one request per key.
///
/// A checker watching hundreds of targets reads several records per target every run, and in
/// the steady state writes almost none: batching the reads makes a run's cost independent of the
/// table's per-request latency. Writes still go to the table, conditional on the version read, so
/// two overlapping runs keep the same guarantees: a write based on a stale prefetched version
/// fails its condition exactly as it would after a fresh read. A key's cached entry follows this
/// run's own successful writes, and is dropped (read from the table again) after a write that
/// lost or failed.
#[derive(Debug, Clone)]
pub struct Prefetching<S> {
    inner: S,
    /// Prefetched keys; `None` = known not to exist.
    cache: std::sync::Arc<std::sync::Mutex<HashMap<String, Option<Versioned>>>>,
}

impl<S: StateStore> Prefetching<S> {
    /// Over `inner`, with nothing prefetched (every read goes to `inner`).
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            cache: std::sync::Arc::default(),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<Versioned>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets what an earlier run read, then reads `pks` in one batch. On failure nothing is
    /// cached and reads go to the table one by one (which then fail or succeed on their own).
    pub async fn prefetch(&self, pks: &[String]) -> Result<(), StateError> {
        self.cache().clear();
        let mut found = self.inner.get_many(pks).await?;
        let mut cache = self.cache();
        for pk in pks {
            cache.insert(pk.clone(), found.remove(pk));
        }
        Ok(())
    }

    /// After a write: on success the cache holds what was written (`None`: deleted); after a
    /// lost or failed write the key is read from the table again.
    fn settle(
        &self,
        pk: &str,
        result: Result<bool, StateError>,
        written: impl FnOnce() -> Option<Versioned>,
    ) -> Result<bool, StateError> {
        let mut cache = self.cache();
        if matches!(result, Ok(true)) {
            cache.insert(pk.to_owned(), written());
        } else {
            cache.remove(pk);
        }
        result
    }
}

impl<S: StateStore> StateStore for Prefetching<S> {
    async fn get(&self, pk: &str) -> Result<Option<Versioned>, StateError> {
        if let Some(v) = self.cache().get(pk) {
            return Ok(v.clone());
        }
        self.inner.get(pk).await
    }

    async fn put_if(
        &self,
        pk: &str,
        data: &Value,
        expected: Option<u64>,
        ttl_epoch_seconds: Option<i64>,
    ) -> Result<bool, StateError> {
        let result = self
            .inner
            .put_if(pk, data, expected, ttl_epoch_seconds)
            .await;
        self.settle(pk, result, || {
            Some(Versioned {
                data: data.clone(),
                version: expected.unwrap_or(0) + 1,
            })
        })
    }

    async fn delete_if(&self, pk: &str, expected: u64) -> Result<bool, StateError> {
        let result = self.inner.delete_if(pk, expected).await;
        self.settle(pk, result, || None)
    }

    async fn get_many(&self, pks: &[String]) -> Result<HashMap<String, Versioned>, StateError> {
        self.inner.get_many(pks).await
    }
}

#[cfg(any(test, feature = "testing"))]
/// In-memory [`StateStore`] for unit tests, with the same conditional semantics.
#[derive(Debug, Clone, Default)]
pub struct MemoryStateStore {
    items: std::sync::Arc<std::sync::Mutex<HashMap<String, Versioned>>>,
    /// When set, every call fails (to test that runs fail loudly).
    pub fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Requests made so far (a `get_many` is one request, like one `BatchGetItem`).
    pub requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[cfg(any(test, feature = "testing"))]
impl MemoryStateStore {
    fn check(&self) -> Result<(), StateError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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

#[cfg(any(test, feature = "testing"))]
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

    async fn get_many(&self, pks: &[String]) -> Result<HashMap<String, Versioned>, StateError> {
        self.check()?;
        let items = self.items.lock().expect("lock");
        Ok(pks
            .iter()
            .filter_map(|pk| items.get(pk).map(|v| (pk.clone(), v.clone())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::Ordering;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn prefetched_reads_cost_one_request_and_follow_own_writes() {
        let mem = MemoryStateStore::default();
        assert!(mem.put_if("a", &json!(1), None, None).await.unwrap());
        let store = Prefetching::new(mem.clone());
        store.prefetch(&keys(&["a", "b"])).await.unwrap();
        let before = mem.requests.load(Ordering::SeqCst);
        assert_eq!(store.get("a").await.unwrap().unwrap().data, json!(1));
        assert_eq!(store.get("b").await.unwrap(), None);
        assert_eq!(
            mem.requests.load(Ordering::SeqCst),
            before,
            "served from the batch"
        );

        // Own writes are seen without a read.
        assert!(store.put_if("b", &json!(2), None, None).await.unwrap());
        assert_eq!(
            store.get("b").await.unwrap(),
            Some(Versioned {
                data: json!(2),
                version: 1
            })
        );
        assert!(store.delete_if("a", 1).await.unwrap());
        assert_eq!(store.get("a").await.unwrap(), None);
        assert_eq!(
            mem.requests.load(Ordering::SeqCst),
            before + 2,
            "two writes only"
        );
        assert_eq!(mem.keys(), vec!["b".to_string()]);

        // A key that was not prefetched is read from the store.
        assert_eq!(store.get("c").await.unwrap(), None);
        assert_eq!(mem.requests.load(Ordering::SeqCst), before + 3);
    }

    #[tokio::test]
    async fn a_stale_prefetch_loses_the_conditional_write_and_rereads() {
        let mem = MemoryStateStore::default();
        assert!(mem.put_if("k", &json!("v1"), None, None).await.unwrap());
        let store = Prefetching::new(mem.clone());
        store.prefetch(&keys(&["k"])).await.unwrap();
        // Another run changes the record after this run's batch read.
        assert!(mem.put_if("k", &json!("v2"), Some(1), None).await.unwrap());
        let stale = store.get("k").await.unwrap().unwrap();
        assert_eq!(stale.version, 1);
        assert!(
            !store
                .put_if("k", &json!("mine"), Some(1), None)
                .await
                .unwrap(),
            "a write from a stale read must lose"
        );
        assert_eq!(store.get("k").await.unwrap().unwrap().data, json!("v2"));
        assert_eq!(mem.items.lock().unwrap()["k"].data, json!("v2"));
    }

    #[tokio::test]
    async fn a_new_prefetch_forgets_the_previous_run() {
        let mem = MemoryStateStore::default();
        let store = Prefetching::new(mem.clone());
        store.prefetch(&keys(&["k"])).await.unwrap();
        assert!(mem.put_if("k", &json!("later"), None, None).await.unwrap());
        store.prefetch(&keys(&["other"])).await.unwrap();
        assert_eq!(store.get("k").await.unwrap().unwrap().data, json!("later"));
    }

    #[tokio::test]
    async fn a_failed_prefetch_caches_nothing_and_is_an_error() {
        let mem = MemoryStateStore::default();
        assert!(mem.put_if("k", &json!(1), None, None).await.unwrap());
        let store = Prefetching::new(mem.clone());
        store.prefetch(&keys(&["k"])).await.unwrap();
        mem.fail.store(true, Ordering::SeqCst);
        assert!(store.prefetch(&keys(&["k"])).await.is_err());
        assert!(store.get("k").await.is_err(), "nothing stale is served");
    }
}
