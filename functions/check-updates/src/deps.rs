//! The dependency list this binary carries (embedded at build time by the shared build script
//! `functions/embed_dependency_list.rs`, format in [`suomifi_shared::deps`]).
//!
//! The four function binaries are built from one workspace and one `Cargo.lock`, so the crates
//! they link share their locked versions: checking this binary's list covers the crates the
//! others link too, except the few only they use (the ACM SDK of check-certificates, the SSM SDK
//! of check-retrieval, the rotation's password generator). Those are the same lockfile's
//! versions; `tests/tests/check_updates.rs` reads the lists back from all four binaries.

pub use suomifi_shared::deps::{DependencyList, DependencyListError, LinkedCrate};

/// This binary's own list, from the bytes `main.rs` embedded.
pub fn own(embedded: &[u8]) -> Result<DependencyList, DependencyListError> {
    DependencyList::parse(embedded)
}
