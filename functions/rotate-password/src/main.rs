use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_e: LambdaEvent<Value>| async {
        Ok::<_, Error>(Value::Null)
    }))
    .await
}
