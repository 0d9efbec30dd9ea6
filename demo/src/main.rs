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
//!
//! # Layout
//!
//! - [`setup`]: the stand-ins, what the stack would create, the functions; the shutdown;
//! - [`scenes`]: the five scenes, one module each;
//! - [`actions`]: what the operator, Secrets Manager and the retriever do around the functions;
//! - [`notifications`]: the notifications read back from moto and checked against the subscriber;
//! - [`output`]: terminal styling, the notification views, the summary table.
//!
//! The harness (moto, the Lambda Runtime API stand-in, the OSV stand-in) is the integration
//! tests' library, `integration_tests`.

/// A step's check: `Err(message)` when `cond` is false.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

mod actions;
mod notifications;
mod output;
mod scenes;
mod setup;

use output::{Paint, StepResult, summary};
use setup::{CHECKPOINT, Demo, SECRET};
use std::process::ExitCode;
use std::time::{Duration, Instant};

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
