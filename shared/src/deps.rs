//! The dependency list every function binary carries: the name and exact version of each
//! crates.io package it links, written at build time by `functions/embed_dependency_list.rs`
//! (each function's build script) and kept in the binary by [`embed_dependency_list!`].
//!
//! The list is plain JSON starting with the marker [`MARKER`], so it can be read back from a
//! built (stripped, LTO-optimised) binary by scanning its bytes ([`find_in_binary`]) — which is
//! how the tests prove that what `make package` / `sam build` produces carries it, and how an
//! operator can read a deployed artifact. `cargo auditable` (the `.dep-v0` section) would be the
//! standard form, but `cargo lambda build` and `sam build` do not run it, and a link section
//! needs an `unsafe` attribute this workspace forbids.

use serde::{Deserialize, Serialize};

/// The format name, first field of the document.
pub const FORMAT: &str = "suomifi-ops-deps/1";

/// How every embedded list starts, byte for byte (the build script writes the `format` field first).
pub const MARKER: &str = "{\"format\":\"suomifi-ops-deps/1\"";

/// One linked crates.io package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkedCrate {
    /// Crate name as on crates.io.
    pub name: String,
    /// The exact version locked in `Cargo.lock`.
    pub version: String,
}

/// The embedded document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyList {
    /// Always [`FORMAT`].
    pub format: String,
    /// The binary's package (`check-updates`, ...).
    pub package: String,
    /// Its version.
    pub version: String,
    /// The target triple it was built for.
    pub target: String,
    /// Every crates.io package in its normal-dependency graph for that target, sorted. Workspace
    /// crates (path dependencies) are not listed: they are this project's own code.
    pub crates: Vec<LinkedCrate>,
}

/// The embedded bytes are not a dependency list of this format.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DependencyListError {
    /// Not JSON of the expected shape.
    #[error("the embedded dependency list is not readable: {0}")]
    Malformed(String),
    /// Another format.
    #[error("the embedded dependency list has format `{0}`, expected `{FORMAT}`")]
    Format(String),
}

impl DependencyList {
    /// Parses an embedded list.
    pub fn parse(bytes: &[u8]) -> Result<Self, DependencyListError> {
        let list: Self = serde_json::from_slice(bytes)
            .map_err(|e| DependencyListError::Malformed(e.to_string()))?;
        if list.format != FORMAT {
            return Err(DependencyListError::Format(list.format));
        }
        Ok(list)
    }
}

/// Finds the dependency list inside a built binary's bytes: the first occurrence of [`MARKER`]
/// that parses as a whole document.
pub fn find_in_binary(binary: &[u8]) -> Option<DependencyList> {
    let marker = MARKER.as_bytes();
    let mut from = 0;
    while let Some(at) = binary[from..]
        .windows(marker.len())
        .position(|w| w == marker)
        .map(|p| p + from)
    {
        let mut stream =
            serde_json::Deserializer::from_slice(&binary[at..]).into_iter::<DependencyList>();
        if let Some(Ok(list)) = stream.next()
            && list.format == FORMAT
        {
            return Some(list);
        }
        from = at + 1;
    }
    None
}

/// Keeps `list` in the binary whatever the optimiser and linker think of an unreferenced static
/// (`#[used]` alone does not stop `--gc-sections`): call it once from `main`.
pub fn keep(list: &'static [u8]) {
    std::hint::black_box(list);
}

/// Defines `pub static DEPENDENCY_LIST: &[u8]`, the list the package's build script wrote to
/// `$OUT_DIR/dependency-list.json`. Use it in a function's `main.rs` and pass it to [`keep`].
#[macro_export]
macro_rules! embed_dependency_list {
    () => {
        /// This binary's dependency list (see `suomifi_shared::deps`).
        #[used]
        pub static DEPENDENCY_LIST: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/dependency-list.json"));
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        format!(
            "{MARKER},\"package\":\"check-updates\",\"version\":\"0.1.0\",\"target\":\"x86_64-unknown-linux-gnu\",\"crates\":[{{\"name\":\"hyper\",\"version\":\"1.7.0\"}}]}}"
        )
    }

    #[test]
    fn a_list_is_found_among_other_bytes_even_after_a_false_start() {
        let mut bin = b"\x7fELF\0\0junk".to_vec();
        bin.extend_from_slice(MARKER.as_bytes());
        bin.extend_from_slice(b"garbage\0\0");
        bin.extend_from_slice(sample().as_bytes());
        bin.extend_from_slice(b"\0\0more");
        let list = find_in_binary(&bin).expect("found");
        assert_eq!(list.package, "check-updates");
        assert_eq!(
            list.crates,
            vec![LinkedCrate {
                name: "hyper".into(),
                version: "1.7.0".into()
            }]
        );
        assert!(find_in_binary(b"no list here").is_none());
    }

    #[test]
    fn another_format_or_garbage_is_a_typed_error() {
        assert!(matches!(
            DependencyList::parse(b"{\"format\":\"x/2\",\"package\":\"a\",\"version\":\"1\",\"target\":\"t\",\"crates\":[]}"),
            Err(DependencyListError::Format(f)) if f == "x/2"
        ));
        assert!(matches!(
            DependencyList::parse(b"not json"),
            Err(DependencyListError::Malformed(_))
        ));
        assert!(DependencyList::parse(sample().as_bytes()).is_ok());
    }
}
