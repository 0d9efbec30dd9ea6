//! The state-table adapter against moto's DynamoDB: batched reads (`BatchGetItem`, 100 keys a
//! request) and the prefetching store keeping DynamoDB's conditional-write guarantees.

use integration_tests::moto::{Moto, create_state_table};
use serde_json::json;
use suomifi_shared::state::{DynamoStateStore, Prefetching, StateStore};

async fn store() -> DynamoStateStore {
    let cfg = Moto::shared().sdk_config().await;
    let table = create_state_table(&cfg).await;
    DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&cfg), table)
}

#[tokio::test]
async fn get_many_reads_more_keys_than_one_batch_holds_and_leaves_out_absent_ones() {
    let store = store().await;
    // 250 stored items: three requests' worth. Some written twice, so versions differ.
    for i in 0..250 {
        let pk = format!("item#{i}");
        assert!(
            store
                .put_if(&pk, &json!({"n": i}), None, None)
                .await
                .unwrap()
        );
        if i % 3 == 0 {
            assert!(
                store
                    .put_if(&pk, &json!({"n": i, "again": true}), Some(1), None)
                    .await
                    .unwrap()
            );
        }
    }
    let mut asked: Vec<String> = (0..250).map(|i| format!("item#{i}")).collect();
    asked.extend((0..20).map(|i| format!("absent#{i}")));
    asked.push("item#7".into()); // a duplicate is fine
    let found = store.get_many(&asked).await.unwrap();
    assert_eq!(found.len(), 250);
    for i in 0..250 {
        let v = &found[&format!("item#{i}")];
        if i % 3 == 0 {
            assert_eq!((v.version, &v.data), (2, &json!({"n": i, "again": true})));
        } else {
            assert_eq!((v.version, &v.data), (1, &json!({"n": i})));
        }
    }
    assert!(!found.keys().any(|k| k.starts_with("absent#")));
    assert!(store.get_many(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_prefetched_read_that_went_stale_loses_its_conditional_write() {
    let table = store().await;
    assert!(
        table
            .put_if("alert#x", &json!("v1"), None, None)
            .await
            .unwrap()
    );
    let run = Prefetching::new(table.clone());
    run.prefetch(&["alert#x".into(), "alert#y".into()])
        .await
        .unwrap();
    // Another run writes both keys after this run's batched read.
    assert!(
        table
            .put_if("alert#x", &json!("v2"), Some(1), None)
            .await
            .unwrap()
    );
    assert!(
        table
            .put_if("alert#y", &json!("other"), None, None)
            .await
            .unwrap()
    );

    // This run still sees its snapshot, and DynamoDB refuses writes based on it.
    assert_eq!(run.get("alert#x").await.unwrap().unwrap().version, 1);
    assert!(
        !run.put_if("alert#x", &json!("mine"), Some(1), None)
            .await
            .unwrap()
    );
    assert_eq!(run.get("alert#y").await.unwrap(), None);
    assert!(
        !run.put_if("alert#y", &json!("mine"), None, None)
            .await
            .unwrap()
    );
    // After losing, the store reads the table again.
    assert_eq!(run.get("alert#x").await.unwrap().unwrap().data, json!("v2"));
    assert_eq!(
        run.get("alert#y").await.unwrap().unwrap().data,
        json!("other")
    );
    assert_eq!(
        table.get("alert#x").await.unwrap().unwrap().data,
        json!("v2")
    );
}

#[tokio::test]
async fn a_missing_table_fails_the_batched_read_with_its_name() {
    let cfg = Moto::shared().sdk_config().await;
    let missing = integration_tests::unique("no-such-table");
    let store = DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&cfg), &missing);
    let err = store.get_many(&["a".into()]).await.unwrap_err();
    assert!(err.to_string().contains(&missing), "{err}");
    assert!(
        err.to_string().contains("ResourceNotFound"),
        "the service's own code: {err}"
    );
}
