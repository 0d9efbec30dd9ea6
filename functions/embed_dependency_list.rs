//! Build script shared by every function crate (`build = "../embed_dependency_list.rs"`): writes
//! `$OUT_DIR/dependency-list.json`, the crates.io packages this binary links at their locked
//! versions, for `suomifi_shared::embed_dependency_list!` to put into the binary.
//!
//! The graph comes from `cargo metadata --locked --offline --filter-platform $TARGET`: from this
//! package, normal dependencies only (no dev- or build-dependencies, no proc-macros and what only
//! they use: none of them is linked), for the target being built. Cargo resolves features for the workspace as a whole, so the list may
//! name a few crates only another member activates — it lists at least everything linked, never
//! less. A failure fails the build: a release binary without its list would be unwatched.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("cargo sets {k}"));
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let manifest = manifest_dir.join("Cargo.toml");
    let target = env("TARGET");
    let metadata = |offline: bool| {
        let mut cmd = Command::new(env("CARGO"));
        cmd.args(["metadata", "--format-version", "1", "--locked"])
            .args(["--filter-platform", &target])
            .arg("--manifest-path")
            .arg(&manifest);
        if offline {
            cmd.arg("--offline");
        }
        cmd.output().expect("run cargo metadata")
    };
    // Offline first: the outer build has downloaded what it compiles. The full resolve also wants
    // the manifests of packages this build does not compile (other members' dev-dependencies, other
    // platforms'), which a fresh clone's first `cargo build` has not fetched: then fetch them,
    // unless the build itself is offline (`--offline` / CARGO_NET_OFFLINE), where `cargo fetch`
    // beforehand is the remedy the message names.
    let mut out = metadata(true);
    let build_offline = std::env::var("CARGO_NET_OFFLINE").is_ok_and(|v| v == "true");
    if !out.status.success() && !build_offline {
        out = metadata(false);
    }
    assert!(
        out.status.success(),
        "cargo metadata failed (an offline build needs `cargo fetch --locked` first): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");

    let packages: HashMap<&str, &Value> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().expect("package id"), p))
        .collect();
    let root = packages
        .values()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| std::path::Path::new(m) == manifest)
        })
        .expect("this package in cargo metadata");
    let nodes: HashMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .map(|n| (n["id"].as_str().expect("node id"), n))
        .collect();

    let mut seen = BTreeSet::new();
    let mut linked = BTreeSet::new();
    let mut queue = VecDeque::from([root["id"].as_str().expect("root id")]);
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        let pkg = packages[id];
        // A proc-macro runs in the compiler, never in the binary: neither it nor what only it
        // depends on is linked.
        let proc_macro = pkg["targets"].as_array().into_iter().flatten().any(|t| {
            t["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k == "proc-macro")
        });
        if proc_macro {
            continue;
        }
        let from_registry = pkg["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"));
        if from_registry {
            linked.insert((
                pkg["name"].as_str().expect("name").to_owned(),
                pkg["version"].as_str().expect("version").to_owned(),
            ));
        }
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            // `kind` null is a normal dependency; "dev" and "build" are never linked.
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal {
                queue.push_back(dep["pkg"].as_str().expect("dep pkg"));
            }
        }
    }

    // Field order matters: the document must start with the marker
    // `{"format":"suomifi-ops-deps/1"` that readers scan the binary for.
    let mut doc = String::from("{\"format\":\"suomifi-ops-deps/1\"");
    for (k, v) in [
        ("package", env("CARGO_PKG_NAME")),
        ("version", env("CARGO_PKG_VERSION")),
        ("target", target.clone()),
    ] {
        doc.push_str(&format!(",\"{k}\":{}", Value::String(v)));
    }
    let crates: Vec<Value> = linked
        .into_iter()
        .map(|(name, version)| serde_json::json!({"name": name, "version": version}))
        .collect();
    doc.push_str(&format!(",\"crates\":{}}}", Value::Array(crates)));
    let out_dir = PathBuf::from(env("OUT_DIR"));
    std::fs::write(out_dir.join("dependency-list.json"), doc).expect("write dependency list");

    let workspace_root = PathBuf::from(meta["workspace_root"].as_str().expect("workspace root"));
    println!(
        "cargo:rerun-if-changed={}",
        workspace_root.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-changed={}", manifest.display());
}
