//! Test harness for the integration tests: real stand-ins, started by the tests themselves.
//!
//! - [`moto`]: one moto server per test process on a free loopback port, and SDK clients
//!   pointed at it through the standard endpoint configuration. If moto cannot be started the
//!   test **fails** with a message saying how to install it (`make venv`); it never skips.
//! - [`runtime`]: a Lambda Runtime API stand-in that runs the real function binaries exactly as
//!   Lambda does (`AWS_LAMBDA_RUNTIME_API`, `/invocation/next`, `/response`, `/error`), captures
//!   their output, and can kill them mid-flight.
//! - [`unique`]: resource names that never collide, so tests run in parallel.
//!
//! The Suomi.fi sandbox is the `suomifi-sandbox` crate, started in-process.

pub mod moto;
pub mod runtime;

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
