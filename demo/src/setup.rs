//! The stand-ins and what the stack would create: moto, the Suomi.fi sandbox, the credentials
//! secret, the alert topic with its SQS subscriber, the state table, the OSV stand-in, and the
//! four functions behind the Lambda Runtime API stand-in; and their shutdown.

use crate::output::Paint;
use aws_sdk_secretsmanager::Client as Sm;
use integration_tests::moto::{Moto, TopicProbe, create_state_table};
use integration_tests::runtime::LambdaFunction;
use serde_json::json;
use std::time::{Duration, Instant};
use suomifi_sandbox::{RunningSandbox, Sandbox, SandboxConfig};

pub(crate) const USER: &str = "demo-municipality";
pub(crate) const FIRST_PASSWORD: &str = "Initial-Demo-Password-0123456789-abcdefgh!";
pub(crate) const CHECKPOINT: &str = "/suomifi-ops/demo/retriever/checkpoint";
pub(crate) const SECRET: &str = "suomifi-ops/demo/credentials";
pub(crate) const CERT_SECRET: &str = "suomifi-ops/demo/via-signing-certificate";
pub(crate) const FUNCTIONS: [&str; 4] = [
    "rotate-password",
    "check-retrieval",
    "check-certificates",
    "check-updates",
];

/// Everything the steps share.
pub(crate) struct Demo {
    pub(crate) paint: Paint,
    pub(crate) started: Instant,
    pub(crate) moto: Moto,
    pub(crate) sandbox: RunningSandbox,
    pub(crate) sm: Sm,
    pub(crate) topic: TopicProbe,
    pub(crate) table: String,
    pub(crate) http: reqwest::Client,
    /// Notifications already shown.
    pub(crate) shown: usize,
    pub(crate) rotate: LambdaFunction,
    pub(crate) retrieval: LambdaFunction,
    pub(crate) certificates: LambdaFunction,
    pub(crate) osv: integration_tests::osv::OsvStandIn,
    pub(crate) updates: LambdaFunction,
}

impl Demo {
    /// Prints `msg` after the time since the demo started.
    pub(crate) fn progress(&self, msg: &str) {
        let t = self.started.elapsed().as_secs_f64();
        println!("{} {msg}", self.paint.dim(&format!("[{t:5.1}s]")));
    }

    /// Starts the stand-ins, creates what the stack would and starts the functions, printing
    /// each step; `Err` says what could not be started.
    pub(crate) async fn start(paint: Paint, started: Instant) -> Result<Demo, String> {
        let say = |msg: &str| {
            println!(
                "{} {msg}",
                paint.dim(&format!("[{:5.1}s]", started.elapsed().as_secs_f64()))
            )
        };
        let dir = integration_tests::binary_dir();
        for name in FUNCTIONS.iter().chain(&["suomifi-ops"]) {
            ensure!(
                dir.join(name).exists(),
                "`{name}` is not built in {}: run `make demo` (it builds the release binaries) or set SUOMIFI_OPS_BIN_DIR",
                dir.display()
            );
        }
        say(&format!("binaries from {}", dir.display()));
        say("starting moto server (the local AWS) ...");
        let moto = tokio::task::block_in_place(Moto::start);
        say(&format!("moto server on {}", moto.endpoint));
        let sandbox = Sandbox::start(SandboxConfig::new(USER, FIRST_PASSWORD))
            .await
            .map_err(|e| format!("cannot start the Suomi.fi sandbox: {e}"))?;
        say(&format!(
            "Suomi.fi sandbox on {} (system id {USER})",
            sandbox.base_url()
        ));
        let cfg = moto.sdk_config().await;
        let sm = Sm::new(&cfg);
        sm.create_secret()
            .name(SECRET)
            .secret_string(
                json!({"username": USER, "password": FIRST_PASSWORD, "apiUrl": sandbox.base_url(), "note": "kept by every rewrite"})
                    .to_string(),
            )
            .send()
            .await
            .map_err(|e| format!("create secret: {e:?}"))?;
        say(&format!("secret {SECRET} holds the credentials"));
        let topic = TopicProbe::create(&cfg).await;
        say(&format!(
            "alert topic {} with an SQS queue subscribed",
            topic.topic_arn
        ));
        let table = create_state_table(&cfg).await;
        say(&format!("state table {table}"));
        let mut env = moto.env();
        env.push(("ALERT_TOPIC_ARN".into(), topic.topic_arn.clone()));
        env.push(("STATE_TABLE".into(), table.clone()));
        env.push(("SUOMIFI_SECRET_ID".into(), SECRET.into()));
        let rotate = LambdaFunction::start("rotate-password", env.clone()).await;
        let mut retrieval_env = env.clone();
        retrieval_env.extend([
            ("CHECKPOINT_PARAMETER".to_owned(), CHECKPOINT.to_owned()),
            ("HEARTBEAT_MAX_AGE_MINUTES".to_owned(), "30".to_owned()),
            ("BACKLOG_GRACE_MINUTES".to_owned(), "60".to_owned()),
        ]);
        let retrieval = LambdaFunction::start("check-retrieval", retrieval_env).await;
        let mut cert_env = env.clone();
        cert_env.extend([
            (
                "CERT_TARGETS".to_owned(),
                json!([{"name": "via-signing", "secret": CERT_SECRET, "role": "signing"}])
                    .to_string(),
            ),
            ("PROBE_TIMEOUT_SECONDS".to_owned(), "5".to_owned()),
        ]);
        let certificates = LambdaFunction::start("check-certificates", cert_env).await;
        let osv = integration_tests::osv::OsvStandIn::start().await;
        let mut updates_env = env.clone();
        updates_env.extend([
            ("OSV_API_URL".to_owned(), osv.base.clone()),
            // The advisory step only: the dated deadlines would alert depending on the day.
            (
                "DEADLINES".to_owned(),
                json!([{"id": "dvv-old-apis-close", "disabled": true},
                       {"id": "lambda-provided-al2023", "disabled": true}])
                .to_string(),
            ),
        ]);
        let updates = LambdaFunction::start("check-updates", updates_env).await;
        say(
            "functions started behind the Lambda Runtime API: rotate-password, check-retrieval, check-certificates, check-updates (OSV stand-in)",
        );
        Ok(Demo {
            paint,
            started,
            moto,
            sandbox,
            sm,
            topic,
            table,
            http: reqwest::Client::new(),
            shown: 0,
            rotate,
            retrieval,
            certificates,
            osv,
            updates,
        })
    }

    /// Kills the functions, stops the sandbox and moto, and waits until moto's port is closed.
    pub(crate) async fn shutdown(self) -> bool {
        let Demo {
            moto,
            sandbox,
            mut rotate,
            mut retrieval,
            mut certificates,
            mut updates,
            ..
        } = self;
        rotate.kill().await;
        retrieval.kill().await;
        certificates.kill().await;
        updates.kill().await;
        sandbox.shutdown().await;
        let port = moto
            .endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok());
        drop(moto);
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(p) = port {
            if std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        true
    }
}
