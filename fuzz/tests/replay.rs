//! Runs every kept input through its fuzz check under plain `cargo test` (stable Rust, no
//! libFuzzer): the seeds in `seeds/<target>/` and any crash or timeout that a fuzzing run left
//! in `artifacts/<target>/`. A crash found once therefore stays a regression test even where
//! `cargo fuzz` cannot run.

use std::path::Path;

#[test]
fn every_kept_input_passes_its_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (name, check) in suomifi_ops_fuzz::TARGETS {
        for dir in ["seeds", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).expect("read input");
                check(&data);
                ran += 1;
            }
        }
    }
    assert!(ran > 0, "no seeds found under fuzz/seeds/");
    eprintln!("{ran} kept inputs replayed");
}

#[test]
fn every_target_has_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in suomifi_ops_fuzz::TARGETS {
        let count = std::fs::read_dir(root.join("seeds").join(name))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(count > 0, "fuzz/seeds/{name}/ is empty");
    }
}

/// Inputs that found a defect in code this crate does not own, kept in `findings/<target>/`
/// until the owner fixes it; then they move to `seeds/` and become regression tests. Run with
/// `cargo test --manifest-path fuzz/Cargo.toml -- --ignored` to see whether they still fail.
#[test]
#[ignore = "open findings: each is expected to fail until fixed"]
fn open_findings_still_fail() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, check) in suomifi_ops_fuzz::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join("findings").join(name)) else {
            continue;
        };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("read input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_err(),
                "{} no longer fails: move it to seeds/{name}/",
                entry.path().display()
            );
        }
    }
}
