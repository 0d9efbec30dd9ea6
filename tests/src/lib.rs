//! Test harness for the integration tests: real stand-ins, started by the tests themselves. The
//! demo (`demo/`, `suomifi-demo`) and the benchmarks (`bench/`, `suomifi-bench`) use the same
//! harness, so that each stand-in exists once.
//!
//! # Layout
//!
//! | module | stand-in for | what it gives |
//! |---|---|---|
//! | [`moto`] | AWS (moto server) | one moto server per process on a free loopback port, SDK clients and function environments pointed at it, helpers for the resources the stack would create (alert topic with an SQS subscriber, state table, rotation start) |
//! | [`runtime`] | the Lambda Runtime API | [`runtime::RuntimeApi`] (the protocol, the time of the first `GET /invocation/next`), [`runtime::FunctionProcess`] (a binary started as Lambda starts it), [`runtime::LambdaFunction`] (both, for the tests: invoke, kill, restart, captured logs) |
//! | [`osv`] | the OSV API | querybatch with pagination, vulns, 5xx and garbage modes |
//! | [`suomifi`] | (the sandbox's client side) | the suites' quick-retry client settings, and a retriever that reads the whole feed |
//!
//! At the crate root: [`unique`] (resource names that never collide, so tests run in parallel),
//! [`binary`] and [`binary_dir`] (where the workspace binaries are), [`suomifi_ops`] (the operator
//! CLI run against moto) and [`workspace_root`].
//!
//! If moto cannot be started a test **fails** with a message saying how to install it
//! (`make venv`); it never skips. The Suomi.fi sandbox is the `suomifi-sandbox` crate, started
//! in-process.

pub mod moto;
pub mod osv;
pub mod runtime;
pub mod suomifi;

/// What one run of `suomifi-ops` gave.
#[derive(Debug)]
pub struct CliRun {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliRun {
    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs the built `suomifi-ops` with only moto's environment (nothing from the developer's
/// shell), and `stdin` on its standard input.
pub async fn suomifi_ops(args: &[&str], stdin: Option<&str>) -> CliRun {
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(binary("suomifi-ops"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(moto::Moto::shared().env())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run suomifi-ops");
    if let Some(input) = stdin {
        let mut s = child.stdin.take().expect("stdin");
        s.write_all(input.as_bytes()).await.expect("write stdin");
        drop(s);
    }
    let out = child.wait_with_output().await.expect("suomifi-ops output");
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A name no other test (in this or another process) uses: `prefix-<pid>-<nanos>-<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The directory holding the workspace binaries: `$SUOMIFI_OPS_BIN_DIR` when set (the demo
/// points it at `target/release`), else the profile directory of the running executable — a test
/// binary lives in `target/<profile>/deps/`, a binary such as the demo in `target/<profile>/`.
pub fn binary_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SUOMIFI_OPS_BIN_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("an executable lives in a directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("deps/ has a parent").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Path of a workspace binary built in the same profile as this test (`target/<profile>/NAME`,
/// or `$SUOMIFI_OPS_BIN_DIR/NAME`). Panics with a clear message when it has not been built
/// (`make test` builds them first).
pub fn binary(name: &str) -> PathBuf {
    let path = binary_dir().join(name);
    assert!(
        path.exists(),
        "binary `{name}` not found at {}: build the workspace binaries first \
         (`cargo build --workspace --bins`; `make test` does this)",
        path.display()
    );
    path
}
