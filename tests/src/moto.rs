//! moto server: the local AWS (Secrets Manager, SNS, SQS, DynamoDB, SSM, ACM).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Region every test uses.
pub const REGION: &str = "eu-north-1";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _child: Mutex<Child>,
}

/// Where the moto_server executable is: `$MOTO_SERVER`, then the project venv, then PATH.
fn moto_executable() -> PathBuf {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = crate::workspace_root().join(".venv/standins/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Moto {
    /// The process-wide moto server, started on first use. Panics (fails the test) with
    /// instructions when it cannot start.
    pub fn shared() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(Moto::start)
    }

    /// Starts a new moto server on a free port and waits until it answers.
    pub fn start() -> Moto {
        let exe = moto_executable();
        let port = free_port();
        // The server runs under `sh`, which kills it as soon as our stdin pipe closes, i.e.
        // when this test process exits for any reason: no stray servers after a test run.
        let script = format!(
            "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; echo started; \
             while read -r _; do :; done; kill $pid 2>/dev/null; wait $pid 2>/dev/null",
            exe.display()
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh to start moto: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("moto wrapper output");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto server exited ({status}) before answering");
            }
            if Instant::now() > deadline {
                panic!(
                    "moto server did not start within 30 s from `{}`. Install the stand-ins with \
                     `make venv` (creates .venv/standins from tools/requirements-standins.txt) \
                     or set MOTO_SERVER to a moto_server executable.",
                    exe.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            endpoint,
            _child: Mutex::new(child),
        }
    }

    /// SDK configuration pointed at this server (dummy credentials, fixed region).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// Environment variables that point a function binary (or CLI) at this server the standard
    /// way, with no emulator-specific code path in the product.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

/// What SNS delivered to an SQS subscriber.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The SNS `Subject` (the e-mail subject).
    pub subject: Option<String>,
    /// The body SNS chose for the protocol (for SQS: the `default` body).
    pub message: String,
}

/// A topic with an SQS queue subscribed, to read back what was published.
#[derive(Debug, Clone)]
pub struct TopicProbe {
    /// The topic ARN.
    pub topic_arn: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

impl TopicProbe {
    /// Creates a uniquely named topic and queue and subscribes the queue.
    pub async fn create(config: &SdkConfig) -> TopicProbe {
        let sns = aws_sdk_sns::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let name = crate::unique("alerts");
        let topic_arn = sns
            .create_topic()
            .name(&name)
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn");
        let queue_url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn")
            .clone();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .expect("subscribe");
        TopicProbe {
            topic_arn,
            queue_url,
            sqs,
        }
    }

    /// Everything delivered so far (drains the queue).
    pub async fn drain(&self) -> Vec<Delivered> {
        let mut out = Vec::new();
        loop {
            let resp = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("receive");
            let msgs = resp.messages.unwrap_or_default();
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                let body: serde_json::Value =
                    serde_json::from_str(m.body().unwrap_or("{}")).expect("SNS envelope JSON");
                out.push(Delivered {
                    subject: body["Subject"].as_str().map(str::to_owned),
                    message: body["Message"].as_str().unwrap_or_default().to_owned(),
                });
                if let Some(h) = m.receipt_handle() {
                    let _ = self
                        .sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(h)
                        .send()
                        .await;
                }
            }
        }
        out
    }
}

/// Creates a uniquely named state table (`pk` String, on demand).
pub async fn create_state_table(config: &SdkConfig) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let ddb = aws_sdk_dynamodb::Client::new(config);
    let name = crate::unique("state");
    ddb.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create table");
    name
}

/// Puts a secret into the exact state AWS creates before it calls `createSecret`: rotation
/// enabled and a new version, named by the returned token, staged `AWSPENDING` with no value.
///
/// moto cannot run a Rust rotation function, but its `RotateSecret`, naming a function ARN that
/// is not deployed, leaves precisely that state behind before failing to invoke it. The test then
/// drives the four steps itself. Panics if moto did not leave that state.
pub async fn start_rotation(sm: &aws_sdk_secretsmanager::Client, secret_id: &str) -> String {
    use aws_sdk_secretsmanager::types::RotationRulesType;
    // A token unique across tests, in the 32–64 character range Secrets Manager accepts.
    let token = format!("{:0>36}", crate::unique("tok"));
    let _ = sm
        .rotate_secret()
        .secret_id(secret_id)
        .client_request_token(&token)
        .rotation_lambda_arn("arn:aws:lambda:eu-north-1:123456789012:function:not-deployed")
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(1)
                .build(),
        )
        .send()
        .await;
    let stages = sm
        .describe_secret()
        .secret_id(secret_id)
        .send()
        .await
        .expect("describe secret")
        .version_ids_to_stages
        .unwrap_or_default();
    assert_eq!(
        stages.get(&token).map(Vec::as_slice),
        Some(&["AWSPENDING".to_owned()][..]),
        "moto did not leave AWS's rotation start state"
    );
    token
}
