//! What the demo prints: terminal styling, each notification as its readers see it, the summary
//! table at the end.

use serde_json::Value;
use std::io::IsTerminal;
use std::time::Duration;

/// Terminal styling: colour only on a terminal without `NO_COLOR`.
#[derive(Clone, Copy)]
pub(crate) struct Paint(bool);

impl Paint {
    pub(crate) fn detect() -> Self {
        Self(
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
    }
    pub(crate) fn code(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.code("1", s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.code("2", s)
    }
    pub(crate) fn green(&self, s: &str) -> String {
        self.code("32", s)
    }
    pub(crate) fn red(&self, s: &str) -> String {
        self.code("31;1", s)
    }
    pub(crate) fn yellow(&self, s: &str) -> String {
        self.code("33", s)
    }
}

/// What one step of the demo concluded.
pub(crate) struct StepResult {
    pub(crate) title: &'static str,
    pub(crate) expected: &'static str,
    pub(crate) outcome: Result<String, String>,
    pub(crate) took: Duration,
}

/// Prints one notification twice: as an e-mail subscriber of the alert topic receives it
/// (`Subject` and the `email` member) and as the chat integration shows the `default` member.
pub(crate) fn print_notification(p: Paint, subject: &str, email: &str, chat: &Value) {
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

/// The summary table: one row per step, with what was expected and what was observed.
pub(crate) fn summary(results: &[StepResult], paint: Paint) {
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
