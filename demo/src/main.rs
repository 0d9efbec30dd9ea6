//! `demo`: the whole bundle at work, locally, in about half a minute.
//!
//! Starts the stand-ins (moto server for AWS, the Suomi.fi sandbox in-process), creates what the
//! stack would (a credentials secret, an alert topic with a queue subscribed, the state table, a
//! retriever checkpoint), then runs the **real Lambda binaries** through the Lambda Runtime API
//! stand-in, exactly as Lambda runs them:
//!
//! 1. a full password rotation — then proves that the sandbox accepts only the new password and
//!    that `AWSPREVIOUS` holds the old one;
//! 2. a rotation whose change-password response never arrives (the function is killed while it
//!    waits, as a Lambda timeout would) and which the retry completes with one change only;
//! 3. `check-retrieval` with a stalled retriever and citizens' messages waiting → alerts; the
//!    retriever catches up (its checkpoint written with `suomifi-ops checkpoint put`) → `[RESOLVED]`;
//! 4. `check-certificates` with a signing certificate expiring in 10 days → expiry alert; then a
//!    renewal by a new issuer → `[RESOLVED]` and DVV's certificate-change instruction;
//! 5. `check-updates` against an OSV stand-in publishing an advisory for the hyper version its
//!    binary really links (read back from the binary) → one alert; the advisory gone → `[RESOLVED]`.
//!
//! # How notifications are shown, faithfully
//!
//! Every alert is one SNS `Publish` with `MessageStructure=json`: SNS gives each protocol its own
//! member of that structure — `email` to e-mail subscribers, `default` to SQS and to the chat
//! integration. moto sends no e-mail, so the demo reads what SNS was *given*: moto keeps every
//! message published to a topic (`sent_notifications`, exposed by `GET /moto-api/data.json`). The
//! e-mail view is the `Subject` plus the `email` member — exactly what SNS mails; the chat view is
//! the `default` member rendered as Amazon Q Developer in chat applications shows its custom
//! notifications (title, description, next steps). The SQS queue subscribed to the topic proves
//! delivery: each notification must also arrive there, with the same subject and a body equal to
//! the `default` member.
//!
//! Binaries come from `$SUOMIFI_OPS_BIN_DIR` (`tools/demo.sh` sets `target/release`) or from the
//! demo's own directory. Exit code 0 only if every step behaved as expected. Nothing is left
//! running: the function processes are killed, the sandbox stopped, and moto (whose wrapper dies
//! with this process's stdin pipe) is waited for until its port is closed.

use aws_sdk_secretsmanager::Client as Sm;
use aws_sdk_secretsmanager::types::RotationRulesType;
use integration_tests::moto::{Moto, TopicProbe, create_state_table};
use integration_tests::runtime::{InvokeError, LambdaFunction};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use suomifi_sandbox::{Endpoint, Event, Fault, FaultRule, RunningSandbox, Sandbox, SandboxConfig};
use suomifi_shared::sensitive::Password;
use suomifi_shared::suomifi::{ApiBase, ApiError, ClientConfig, EventType, SuomifiClient};
use time::OffsetDateTime;

const USER: &str = "demo-municipality";
const FIRST_PASSWORD: &str = "Initial-Demo-Password-0123456789-abcdefgh!";
const CHECKPOINT: &str = "/suomifi-ops/demo/retriever/checkpoint";
const SECRET: &str = "suomifi-ops/demo/credentials";
const CERT_SECRET: &str = "suomifi-ops/demo/via-signing-certificate";
const FUNCTIONS: [&str; 4] = [
    "rotate-password",
    "check-retrieval",
    "check-certificates",
    "check-updates",
];

/// Terminal styling: colour only on a terminal without `NO_COLOR`.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn detect() -> Self {
        Self(
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
    }
    fn code(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.code("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.code("2", s)
    }
    fn green(&self, s: &str) -> String {
        self.code("32", s)
    }
    fn red(&self, s: &str) -> String {
        self.code("31;1", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.code("33", s)
    }
}

/// What one step of the demo concluded.
struct StepResult {
    title: &'static str,
    expected: &'static str,
    outcome: Result<String, String>,
    took: Duration,
}

/// Everything the steps share.
struct Demo {
    paint: Paint,
    started: Instant,
    moto: Moto,
    sandbox: RunningSandbox,
    sm: Sm,
    topic: TopicProbe,
    table: String,
    http: reqwest::Client,
    /// Notifications already shown.
    shown: usize,
    rotate: LambdaFunction,
    retrieval: LambdaFunction,
    certificates: LambdaFunction,
    osv: integration_tests::osv::OsvStandIn,
    updates: LambdaFunction,
}

/// A step's check: `Err(message)` when `cond` is false.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// A notification as SNS was given it.
struct Published {
    subject: String,
    structure: Value,
}

impl Demo {
    fn progress(&self, msg: &str) {
        let t = self.started.elapsed().as_secs_f64();
        println!("{} {msg}", self.paint.dim(&format!("[{t:5.1}s]")));
    }

    async fn start(paint: Paint, started: Instant) -> Result<Demo, String> {
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

    // ---------------------------------------------------------------------------------------
    // Notifications

    /// Everything published to the alert topic, as SNS was given it (moto keeps it).
    async fn published(&self) -> Result<Vec<Published>, String> {
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
    async fn show_notifications(&mut self) -> Result<Vec<String>, String> {
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
            self.print_notification(&p.subject, email, &chat);
            subjects.push(p.subject.clone());
        }
        if new.is_empty() {
            println!("        {}", self.paint.dim("(no notification sent)"));
        }
        Ok(subjects)
    }

    fn print_notification(&self, subject: &str, email: &str, chat: &Value) {
        let p = self.paint;
        let tone = |s: &str| {
            if s.starts_with("[CRITICAL]") {
                p.red(s)
            } else if s.starts_with("[WARNING]") {
                p.yellow(s)
            } else if s.starts_with("[RESOLVED]") {
                p.green(s)
            } else {
                s.to_owned()
            }
        };
        println!();
        println!(
            "        {} {}",
            p.bold("✉ E-MAIL"),
            p.dim("(what an e-mail subscriber of the alert topic receives)")
        );
        println!("        ┌───");
        println!("        │ Subject: {}", tone(subject));
        println!("        │");
        for line in email.lines() {
            println!("{}", format!("        │ {line}").trim_end());
        }
        println!("        └───");
        let content = &chat["content"];
        let title = content["title"].as_str().unwrap_or_default();
        let title = title
            .replace(":rotating_light:", "🚨")
            .replace(":warning:", "⚠️")
            .replace(":white_check_mark:", "✅")
            .replace(":information_source:", "ℹ️");
        println!(
            "        {} {}",
            p.bold("💬 CHAT"),
            p.dim("(Slack or Teams through Amazon Q Developer in chat applications)")
        );
        println!("        ┌───");
        println!("        │ {}", p.bold(&title));
        for line in content["description"].as_str().unwrap_or_default().lines() {
            println!("{}", format!("        │ {line}").trim_end());
        }
        if let Some(steps) = content["nextSteps"].as_array().filter(|s| !s.is_empty()) {
            println!("        │ {}", p.bold("Next steps"));
            for (i, s) in steps.iter().enumerate() {
                println!("        │  {}. {}", i + 1, s.as_str().unwrap_or_default());
            }
        }
        println!(
            "        │ {}",
            p.dim(&format!(
                "thread {}",
                chat["metadata"]["threadId"].as_str().unwrap_or_default()
            ))
        );
        println!("        └───");
        println!();
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    /// Runs the operator CLI against the stand-ins, its output going straight to the terminal.
    async fn cli(&self, args: &[&str]) -> Result<i32, String> {
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

    async fn invoke(f: &mut LambdaFunction, event: Value) -> Result<Value, String> {
        f.invoke(event).await.map_err(|e| match e {
            InvokeError::Function(f) => format!("{}: {}", f.error_type, f.error_message),
            InvokeError::NoAnswer(m) => m,
        })
    }

    async fn stages(&self) -> Result<std::collections::HashMap<String, Vec<String>>, String> {
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

    async fn password(&self, stage: &str) -> Result<String, String> {
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
    async fn start_rotation(&self) -> Result<String, String> {
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

    async fn step(&mut self, step: &str, token: &str) -> Result<String, String> {
        let out = Self::invoke(
            &mut self.rotate,
            json!({"Step": step, "SecretId": SECRET, "ClientRequestToken": token}),
        )
        .await?;
        let outcome = out["outcome"].as_str().unwrap_or_default().to_owned();
        self.progress(&format!("  {:<13} → {}", step, self.paint.green(&outcome)));
        Ok(outcome)
    }

    async fn login(&self, password: &str) -> Result<(), ApiError> {
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
    async fn retrieve(&self, from: Option<String>) -> Result<(String, usize), String> {
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

    // ---------------------------------------------------------------------------------------
    // The scenarios

    async fn full_rotation(&mut self) -> Result<String, String> {
        let token = self.start_rotation().await?;
        for s in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            self.step(s, &token).await?;
        }
        let new = self.password("AWSCURRENT").await?;
        ensure!(
            new != FIRST_PASSWORD,
            "AWSCURRENT still holds the first password"
        );
        ensure!(
            self.sandbox.password() == new,
            "the sandbox does not hold the new AWSCURRENT password"
        );
        ensure!(
            self.login(&new).await.is_ok(),
            "Suomi.fi refuses the new password"
        );
        let old_refused = matches!(
            self.login(FIRST_PASSWORD).await,
            Err(ApiError::AuthenticationFailed { .. })
        );
        ensure!(old_refused, "Suomi.fi still accepts the old password");
        ensure!(
            self.password("AWSPREVIOUS").await? == FIRST_PASSWORD,
            "AWSPREVIOUS does not hold the old password"
        );
        ensure!(
            self.stages()
                .await?
                .values()
                .all(|s| !s.contains(&"AWSPENDING".to_owned())),
            "AWSPENDING left behind"
        );
        self.progress(&format!(
            "  Suomi.fi accepts the new password ({} characters) {} and refuses the old one {}",
            new.chars().count(),
            self.paint.green("✓"),
            self.paint.green("✓")
        ));
        self.progress(&format!(
            "  AWSPREVIOUS holds the old password {}",
            self.paint.green("✓")
        ));
        self.progress("  a rotation that succeeds notifies nobody (NOTIFY_ON_SUCCESS is off):");
        self.show_notifications().await?;
        Ok("new password works, old refused, AWSPREVIOUS = old".into())
    }

    async fn lost_response(&mut self) -> Result<String, String> {
        let before = self.password("AWSCURRENT").await?;
        let changes = self.sandbox.state().password_changes;
        let token = self.start_rotation().await?;
        self.step("createSecret", &token).await?;
        self.sandbox
            .add_fault(FaultRule::once(
                Endpoint::ChangePassword,
                Fault::Delay { millis: 30_000 },
            ))
            .map_err(|e| e.to_string())?;
        self.progress(
            "  fault: Suomi.fi applies the next change-password but holds its answer back",
        );
        let event = json!({"Step": "setSecret", "SecretId": SECRET, "ClientRequestToken": token});
        // Lambda's timeout strikes while the function waits for the answer: wait until the
        // sandbox has applied the change (not a fixed sleep, so a slow machine cannot kill the
        // function too early), then kill it.
        let sandbox = self.sandbox.sandbox();
        let previous = before.clone();
        let applied = async move {
            while sandbox.password() == previous {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let res = tokio::select! {
            r = self.rotate.invoke_within(event, Duration::from_secs(20)) => Some(r),
            () = applied => None,
        };
        ensure!(
            res.is_none(),
            "setSecret answered although the answer was held back: {res:?}"
        );
        self.rotate.restart().await;
        self.progress(&format!(
            "  setSecret      → {} (Lambda timed out: the process is killed, the answer is lost)",
            self.paint.yellow("no answer")
        ));
        ensure!(
            self.sandbox.password() != before,
            "the delayed change was not applied by the sandbox"
        );
        self.progress("  Secrets Manager retries the whole rotation:");
        let mut outcomes = Vec::new();
        for s in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            outcomes.push(self.step(s, &token).await?);
        }
        ensure!(
            outcomes[1] == "already_changed",
            "setSecret on retry said {}",
            outcomes[1]
        );
        let current = self.password("AWSCURRENT").await?;
        ensure!(
            self.sandbox.password() == current,
            "AWSCURRENT is not the password Suomi.fi accepts"
        );
        ensure!(
            self.password("AWSPREVIOUS").await? == before,
            "AWSPREVIOUS is not the previous password"
        );
        let made = self.sandbox.state().password_changes - changes;
        ensure!(made == 1, "{made} password changes instead of 1");
        self.progress(&format!(
            "  one password change at Suomi.fi, and it is AWSCURRENT {}",
            self.paint.green("✓")
        ));
        self.show_notifications().await?;
        Ok("retry found the change made (already_changed); 1 change".into())
    }

    async fn retrieval(&mut self) -> Result<String, String> {
        let now = OffsetDateTime::now_utc();
        // The feed before the retriever stalled: status events it has retrieved.
        self.sandbox.add_events([
            Event::for_message("Electronic message created", 9001, "social-services")
                .at(now - time::Duration::hours(6)),
            Event::for_message("Electronic message read", 9001, "social-services")
                .at(now - time::Duration::hours(5)),
            Event::for_message("Paper mail created", 9002, "early-education")
                .at(now - time::Duration::hours(4)),
        ]);
        let (stalled_at, _) = self.retrieve(None).await?;
        self.progress(
            "retriever: last successful poll 3 h ago, then it stalled; its checkpoint says so",
        );
        let three_hours_ago = suomifi_shared::alerts::format_time(now - time::Duration::hours(3));
        let code = self
            .cli(&[
                "checkpoint",
                "put",
                "--parameter",
                CHECKPOINT,
                "--token",
                &stalled_at,
                "--updated-at",
                &three_hours_ago,
            ])
            .await?;
        ensure!(code == 0, "checkpoint put exited {code}");
        // Citizens write meanwhile.
        let minutes = [170, 150, 120, 95];
        let services = [
            "social-services",
            "early-education",
            "social-services",
            "social-services",
        ];
        for (i, (m, s)) in minutes.iter().zip(services).enumerate() {
            self.sandbox.add_event(
                Event::end_user_message(7001 + i as i64, s).at(now - time::Duration::minutes(*m)),
            );
        }
        self.progress(
            "citizens sent 4 messages since (oldest 2 h 50 min ago): nobody has retrieved them",
        );
        self.progress("check-retrieval (scheduled run):");
        // One system here (SUOMIFI_SECRET_ID): the report's only entry.
        let report = Self::invoke(&mut self.retrieval, json!({})).await?["systems"][0].clone();
        self.progress(&format!(
            "  report: status {}, heartbeat {} min old, backlog {} message(s), {} day(s) to deletion",
            self.paint.yellow(report["status"].as_str().unwrap_or("?")),
            report["heartbeat"]["ageMinutes"],
            report["backlog"]["count"],
            report["backlog"]["daysUntilDeletion"]
        ));
        ensure!(report["status"] != "ok", "the check found nothing wrong");
        ensure!(
            report["heartbeat"]["stale"] == true,
            "the heartbeat is not stale"
        );
        ensure!(
            report["backlog"]["count"] == 4,
            "backlog {} instead of 4",
            report["backlog"]["count"]
        );
        let opened = self.show_notifications().await?;
        ensure!(
            opened.len() >= 2,
            "{} alert(s) instead of heartbeat + backlog",
            opened.len()
        );
        ensure!(
            opened
                .iter()
                .all(|s| s.starts_with("[WARNING]") || s.starts_with("[CRITICAL]")),
            "unexpected subjects: {opened:?}"
        );

        self.progress("the operator looks (exit code 3 = a warning is open):");
        let code = self
            .cli(&[
                "status",
                "--secret-id",
                SECRET,
                "--checkpoint-parameter",
                CHECKPOINT,
                "--state-table",
                &self.table.clone(),
            ])
            .await?;
        ensure!(
            code == 3 || code == 4,
            "status exited {code} while alerts are open"
        );

        let (caught_up, retrieved) = self.retrieve(Some(stalled_at)).await?;
        ensure!(
            retrieved == 4,
            "the retriever fetched {retrieved} messages instead of 4"
        );
        self.progress("retriever restarted: fetched the 4 messages and wrote its checkpoint");
        let code = self
            .cli(&[
                "checkpoint",
                "put",
                "--parameter",
                CHECKPOINT,
                "--token",
                &caught_up,
            ])
            .await?;
        ensure!(code == 0, "checkpoint put exited {code}");
        self.progress("check-retrieval (next scheduled run):");
        let report = Self::invoke(&mut self.retrieval, json!({})).await?["systems"][0].clone();
        self.progress(&format!(
            "  report: status {}, heartbeat {} min old, backlog {} message(s)",
            self.paint.green(report["status"].as_str().unwrap_or("?")),
            report["heartbeat"]["ageMinutes"],
            report["backlog"]["count"]
        ));
        ensure!(
            report["status"] == "ok",
            "status {} after catching up",
            report["status"]
        );
        let resolved = self.show_notifications().await?;
        ensure!(
            resolved.len() == opened.len() && resolved.iter().all(|s| s.starts_with("[RESOLVED]")),
            "expected {} [RESOLVED], got {resolved:?}",
            opened.len()
        );
        Ok(format!(
            "{} alert(s), then {} [RESOLVED]",
            opened.len(),
            resolved.len()
        ))
    }

    async fn certificates(&mut self) -> Result<String, String> {
        let now = OffsetDateTime::now_utc();
        let cn = "Demo Municipality e-services signing";
        let (old_pem, _) = certificate(
            cn,
            "Demo Trust CA 2024",
            now - time::Duration::days(355),
            now + time::Duration::days(10) + time::Duration::hours(2),
        )?;
        self.sm
            .create_secret()
            .name(CERT_SECRET)
            .secret_string(old_pem)
            .send()
            .await
            .map_err(|e| format!("create certificate secret: {e:?}"))?;
        self.progress(&format!(
            "signing certificate CN={cn}, issued by Demo Trust CA 2024, expires in 10 days"
        ));
        self.progress("check-certificates (scheduled run):");
        let report = Self::invoke(&mut self.certificates, json!({})).await?;
        let t = &report["targets"][0];
        self.progress(&format!(
            "  report: via-signing {} , {} day(s) left",
            self.paint.yellow(t["status"].as_str().unwrap_or("?")),
            t["daysLeft"]
        ));
        ensure!(
            t["status"] == "warning" || t["status"] == "critical",
            "status {}",
            t["status"]
        );
        let first = self.show_notifications().await?;
        ensure!(
            first.len() == 1
                && (first[0].starts_with("[WARNING]") || first[0].starts_with("[CRITICAL]")),
            "expected one expiry alert, got {first:?}"
        );

        let (new_pem, _) = certificate(
            cn,
            "Demo Trust CA 2026 G2",
            now - time::Duration::days(1),
            now + time::Duration::days(730),
        )?;
        self.sm
            .put_secret_value()
            .secret_id(CERT_SECRET)
            .secret_string(new_pem)
            .send()
            .await
            .map_err(|e| format!("renew certificate: {e:?}"))?;
        self.progress("renewed: same CN, new issuer Demo Trust CA 2026 G2, valid 2 years");
        self.progress("check-certificates (next scheduled run):");
        let report = Self::invoke(&mut self.certificates, json!({})).await?;
        let t = &report["targets"][0];
        self.progress(&format!(
            "  report: via-signing {}, {} day(s) left, certificate {}",
            self.paint.green(t["status"].as_str().unwrap_or("?")),
            t["daysLeft"],
            t["change"]["verdict"]
        ));
        ensure!(
            t["status"] == "ok",
            "status {} after the renewal",
            t["status"]
        );
        ensure!(
            t["change"]["dvvSubmission"]["to"] == "organisaatiopalvelut@dvv.fi",
            "no DVV submission in the report: {}",
            t["change"]
        );
        let second = self.show_notifications().await?;
        ensure!(
            second.iter().any(|s| s.starts_with("[RESOLVED]")),
            "no [RESOLVED] for the expiry: {second:?}"
        );
        let dvv = self.published().await?;
        ensure!(
            dvv.iter()
                .rev()
                .take(second.len())
                .any(|p| p.structure["email"]
                    .as_str()
                    .is_some_and(|e| e.contains("organisaatiopalvelut@dvv.fi")
                        && e.contains("Certificate change"))),
            "no notification tells to send the certificate to DVV"
        );
        Ok(format!(
            "expiry alert, then {} (incl. DVV instruction)",
            second.len()
        ))
    }

    async fn updates(&mut self) -> Result<String, String> {
        let bin = std::fs::read(integration_tests::binary("check-updates"))
            .map_err(|e| format!("read check-updates: {e}"))?;
        let list = suomifi_shared::deps::find_in_binary(&bin)
            .ok_or("the check-updates binary carries no dependency list")?;
        let hyper = list
            .crates
            .iter()
            .find(|c| c.name == "hyper")
            .ok_or("check-updates does not link hyper")?
            .clone();
        let mut parts: Vec<u64> = hyper
            .version
            .split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        parts.resize(3, 0);
        let fixed = format!("{}.{}.{}", parts[0], parts[1], parts[2] + 1);
        self.progress(&format!(
            "the check-updates binary carries its dependency list: {} crates, among them hyper {}",
            list.crates.len(),
            hyper.version
        ));
        self.osv.publish(json!({
            "id": "RUSTSEC-2099-0042",
            "summary": "demo advisory: request smuggling in the HTTP/1 parser",
            "aliases": ["CVE-2099-4242", "GHSA-demo-demo-demo"],
            "database_specific": {"severity": "HIGH"},
            "affected": [{
                "package": {"name": "hyper", "ecosystem": "crates.io"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
            }]
        }));
        self.progress(&format!(
            "OSV stand-in publishes RUSTSEC-2099-0042 for hyper < {fixed}"
        ));
        self.progress("check-updates (daily run):");
        let report = Self::invoke(&mut self.updates, json!({})).await?;
        self.progress(&format!(
            "  report: {}, {} advisory(ies), {} crates checked",
            self.paint.red(report["status"].as_str().unwrap_or("?")),
            report["advisories"].as_array().map_or(0, Vec::len),
            report["dependencyList"]["crates"]
        ));
        ensure!(
            report["status"] == "affected",
            "status {}",
            report["status"]
        );
        let first = self.show_notifications().await?;
        ensure!(
            first.len() == 1 && first[0].starts_with("[CRITICAL]"),
            "expected one advisory alert, got {first:?}"
        );
        self.osv.remove("RUSTSEC-2099-0042");
        self.progress("rebuilt and redeployed (here: the advisory is gone from OSV)");
        self.progress("check-updates (next daily run):");
        let report = Self::invoke(&mut self.updates, json!({})).await?;
        self.progress(&format!(
            "  report: {}",
            self.paint.green(report["status"].as_str().unwrap_or("?"))
        ));
        ensure!(report["status"] == "ok", "status {}", report["status"]);
        let second = self.show_notifications().await?;
        ensure!(
            second.len() == 1 && second[0].starts_with("[RESOLVED]"),
            "expected one [RESOLVED], got {second:?}"
        );
        Ok("advisory alert, then [RESOLVED]".into())
    }

    /// Kills the functions, stops the sandbox and moto, and waits until moto's port is closed.
    async fn shutdown(self) -> bool {
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

/// A certificate for `cn` issued by a fresh CA named `issuer`: PEM of leaf and CA, and the CA PEM.
fn certificate(
    cn: &str,
    issuer: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(String, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
    let e = |e: rcgen::Error| e.to_string();
    let mut ca = CertificateParams::new(Vec::new()).map_err(e)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, issuer);
    dn.push(DnType::OrganizationName, "Demo Trust");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = not_before - time::Duration::days(30);
    ca.not_after = not_after + time::Duration::days(365);
    let ca_key = KeyPair::generate().map_err(e)?;
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).map_err(e)?;
    let mut leaf = CertificateParams::new(Vec::new()).map_err(e)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Demo Municipality");
    leaf.distinguished_name = dn;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let key = KeyPair::generate().map_err(e)?;
    let cert = leaf.signed_by(&key, &ca).map_err(e)?;
    Ok((format!("{}{}", cert.pem(), ca.pem()), ca.pem()))
}

fn summary(results: &[StepResult], paint: Paint) {
    let w0 = results
        .iter()
        .map(|r| r.title.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let w1 = results
        .iter()
        .map(|r| r.expected.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    println!("{}", paint.bold("Summary"));
    println!(
        "  {}",
        paint.dim(&format!(
            "{:<3} {:<w0$}  {:<w1$}  {:<6}  {:>6}  OBSERVED",
            "#", "STEP", "EXPECTED", "RESULT", "TIME"
        ))
    );
    for (i, r) in results.iter().enumerate() {
        let (result, observed) = match &r.outcome {
            Ok(o) => (paint.green("pass  "), o.clone()),
            Err(e) => (paint.red("FAIL  "), e.clone()),
        };
        println!(
            "  {:<3} {:<w0$}  {:<w1$}  {}  {:>5.1}s  {}",
            i + 1,
            r.title,
            r.expected,
            result,
            r.took.as_secs_f64(),
            observed
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let paint = Paint::detect();
    let started = Instant::now();
    println!(
        "{}",
        paint.bold("suomifi-ops demo: the maintenance bundle against local stand-ins")
    );
    let mut demo = match Demo::start(paint, started).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{} {e}", paint.red("demo could not start:"));
            return ExitCode::FAILURE;
        }
    };
    let mut results = Vec::new();
    type Scenario = for<'a> fn(
        &'a mut Demo,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<String, String>> + 'a>,
    >;
    let scenarios: [(&str, &str, Scenario); 5] = [
        (
            "Full password rotation",
            "new password only; AWSPREVIOUS = old",
            |d| Box::pin(d.full_rotation()),
        ),
        (
            "Lost change-password response",
            "retry completes, 1 change",
            |d| Box::pin(d.lost_response()),
        ),
        (
            "Stalled retrieval, then caught up",
            "alerts, then [RESOLVED]",
            |d| Box::pin(d.retrieval()),
        ),
        (
            "Signing certificate: expiry, renewal",
            "expiry alert; DVV change notice",
            |d| Box::pin(d.certificates()),
        ),
        (
            "Security advisory for a linked crate",
            "one alert; [RESOLVED] after redeploy",
            |d| Box::pin(d.updates()),
        ),
    ];
    for (i, (title, expected, run)) in scenarios.into_iter().enumerate() {
        println!();
        println!("{}", paint.bold(&format!("── {}. {title} ──", i + 1)));
        let t = Instant::now();
        let outcome = run(&mut demo).await;
        if let Err(e) = &outcome {
            demo.progress(&format!("{} {e}", paint.red("✗")));
        }
        results.push(StepResult {
            title,
            expected,
            outcome,
            took: t.elapsed(),
        });
    }
    println!();
    demo.progress("the operator's view at the end (exit code 0 = all well):");
    let t = Instant::now();
    let table = demo.table.clone();
    let status = demo
        .cli(&[
            "status",
            "--secret-id",
            SECRET,
            "--checkpoint-parameter",
            CHECKPOINT,
            "--state-table",
            &table,
        ])
        .await;
    results.push(StepResult {
        title: "Operator status at the end",
        expected: "exit 0: nothing open",
        outcome: match status {
            Ok(0) => Ok("exit 0".into()),
            Ok(c) => Err(format!("suomifi-ops status exited {c}")),
            Err(e) => Err(e),
        },
        took: t.elapsed(),
    });
    demo.progress("stopping the functions, the sandbox and moto ...");
    let clean = demo.shutdown().await;
    if !clean {
        results.push(StepResult {
            title: "Clean shutdown",
            expected: "nothing left running",
            outcome: Err("moto server still answers".into()),
            took: Duration::ZERO,
        });
    }
    println!();
    summary(&results, paint);
    let ok = results.iter().all(|r| r.outcome.is_ok());
    println!(
        "\n{} in {:.1} s",
        if ok {
            paint.green("Every step behaved as expected")
        } else {
            paint.red("Some steps did not behave as expected")
        },
        started.elapsed().as_secs_f64()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
