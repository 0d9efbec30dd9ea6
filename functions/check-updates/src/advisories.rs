//! Which OSV advisories affect which linked version — pure: no I/O, no tokio, no HTTP.
//!
//! OSV's `querybatch` already matches versions, but only by its own reading; an advisory is
//! alerted on only when its details (`GET /v1/vulns/{id}`) say so too: the `affected` entry for
//! this crate in the `crates.io` ecosystem lists the version, or one of its `SEMVER` (or
//! `ECOSYSTEM`) ranges covers it. A withdrawn advisory affects nothing. An entry this code cannot
//! read (a version that is not SemVer) is *undetermined* — neither an alert nor "not affected".

use serde::Deserialize;
use serde_json::Value;

/// The ecosystem name OSV uses for crates.io.
pub const ECOSYSTEM: &str = "crates.io";

/// An OSV vulnerability record (the fields this check reads; everything else is ignored).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Vuln {
    /// `RUSTSEC-2024-0001`, `GHSA-...`, `CVE-...`.
    pub id: String,
    /// One line.
    #[serde(default)]
    pub summary: Option<String>,
    /// Longer text (Markdown).
    #[serde(default)]
    pub details: Option<String>,
    /// Other ids of the same advisory.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// When set, the advisory was withdrawn and affects nothing.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Last modification.
    #[serde(default)]
    pub modified: Option<String>,
    /// The affected packages.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// CVSS vectors, where given.
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    /// Database-specific fields (GitHub's advisories put `severity: "HIGH"` here).
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// One affected package.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Affected {
    /// The package.
    #[serde(default)]
    pub package: Option<Package>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Versions listed one by one.
    #[serde(default)]
    pub versions: Vec<String>,
    /// RustSec puts `informational` (`unmaintained`, `unsound`, ...) here.
    #[serde(default)]
    pub database_specific: Option<Value>,
    /// Per-entry CVSS vectors.
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
}

/// A package in an ecosystem.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Package {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Ecosystem (`crates.io`).
    #[serde(default)]
    pub ecosystem: String,
}

/// A range: its type and its events in order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT` (ignored: commits are no versions).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The events.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event; OSV sets exactly one field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Event {
    /// From this version on (`"0"`: from the first).
    #[serde(default)]
    pub introduced: Option<String>,
    /// Not from this version on.
    #[serde(default)]
    pub fixed: Option<String>,
    /// Up to and including this version.
    #[serde(default)]
    pub last_affected: Option<String>,
    /// An upper bound of the range (not a fix).
    #[serde(default)]
    pub limit: Option<String>,
}

/// A CVSS score entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SeverityScore {
    /// `CVSS_V3`, `CVSS_V4`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The vector.
    #[serde(default)]
    pub score: String,
}

/// What an advisory means for one linked version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Affected; `first_fixed` is the lowest fixed version above it, if any is published.
    Affected {
        /// The first fixed version above the linked one.
        first_fixed: Option<String>,
    },
    /// Not affected (or withdrawn).
    NotAffected,
    /// Cannot be decided from the record (the reason says why).
    Undetermined(String),
}

/// How an advisory is graded for the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grade {
    /// What the advisory says, for people: `HIGH`, `CRITICAL`, a CVSS vector, `informational
    /// (unmaintained)`, or `not given`.
    pub label: String,
    /// The alert's severity rank: 2 critical, 1 warning, 0 informational.
    pub rank: u8,
}

/// Whether `vuln` affects `crate_name` at `version`.
pub fn assess(vuln: &Vuln, crate_name: &str, version: &str) -> Verdict {
    if vuln.withdrawn.is_some() {
        return Verdict::NotAffected;
    }
    let linked = match semver::Version::parse(version) {
        Ok(v) => v,
        Err(_) => {
            return Verdict::Undetermined(format!("linked version `{version}` is not SemVer"));
        }
    };
    let mut affected = false;
    let mut fixes: Vec<semver::Version> = Vec::new();
    let mut undetermined = None;
    for entry in vuln.affected.iter().filter(|a| {
        a.package
            .as_ref()
            .is_some_and(|p| p.ecosystem == ECOSYSTEM && p.name == crate_name)
    }) {
        if entry.versions.iter().any(|v| v == version) {
            affected = true;
        }
        for range in entry
            .ranges
            .iter()
            .filter(|r| r.kind == "SEMVER" || r.kind == "ECOSYSTEM")
        {
            match in_range(range, &linked) {
                Ok((hit, fixed)) => {
                    affected |= hit;
                    fixes.extend(fixed);
                }
                Err(reason) => undetermined = Some(reason),
            }
        }
    }
    if affected {
        let first_fixed = fixes.into_iter().filter(|f| *f > linked).min();
        Verdict::Affected {
            first_fixed: first_fixed.map(|v| v.to_string()),
        }
    } else if let Some(reason) = undetermined {
        Verdict::Undetermined(reason)
    } else {
        Verdict::NotAffected
    }
}

/// Whether `v` is inside `range`, and the range's fixed versions. OSV's evaluation: sort the
/// events by version; `v` is affected when the last event at or below it is an `introduced`
/// (a `last_affected` counts only strictly below `v`).
fn in_range(range: &Range, v: &semver::Version) -> Result<(bool, Vec<semver::Version>), String> {
    #[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
    enum Kind {
        Introduced,
        LastAffected,
        Fixed,
    }
    let zero = semver::Version::new(0, 0, 0);
    let parse = |s: &str| -> Result<semver::Version, String> {
        if s == "0" {
            return Ok(zero.clone());
        }
        semver::Version::parse(s).map_err(|_| format!("range version `{s}` is not SemVer"))
    };
    let mut events = Vec::new();
    for e in &range.events {
        if let Some(x) = &e.introduced {
            events.push((parse(x)?, Kind::Introduced));
        }
        if let Some(x) = &e.fixed {
            events.push((parse(x)?, Kind::Fixed));
        }
        if let Some(x) = &e.last_affected {
            events.push((parse(x)?, Kind::LastAffected));
        }
    }
    events.sort();
    let mut affected = false;
    for (at, kind) in &events {
        match kind {
            Kind::Introduced if at <= v => affected = true,
            Kind::Fixed if at <= v => affected = false,
            Kind::LastAffected if at < v => affected = false,
            _ => {}
        }
    }
    let fixes = events
        .into_iter()
        .filter(|(_, k)| *k == Kind::Fixed)
        .map(|(at, _)| at)
        .collect();
    Ok((affected, fixes))
}

/// Grades `vuln` for `crate_name`: GitHub's `database_specific.severity` word when given
/// (`CRITICAL`/`HIGH` are critical, others a warning), RustSec's informational kinds
/// (`unmaintained`, `unsound`, `notice`) as information, a CVSS vector (shown, graded a warning:
/// its score is not computed here), else `not given` (a warning).
pub fn grade(vuln: &Vuln, crate_name: &str) -> Grade {
    let entry = vuln.affected.iter().find(|a| {
        a.package
            .as_ref()
            .is_some_and(|p| p.ecosystem == ECOSYSTEM && p.name == crate_name)
    });
    if let Some(kind) = entry
        .and_then(|e| e.database_specific.as_ref())
        .and_then(|d| d.get("informational"))
        .and_then(Value::as_str)
    {
        return Grade {
            label: format!("informational ({kind})"),
            rank: 0,
        };
    }
    if let Some(word) = vuln
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)
    {
        let upper = word.to_ascii_uppercase();
        let rank = if upper == "CRITICAL" || upper == "HIGH" {
            2
        } else {
            1
        };
        return Grade { label: upper, rank };
    }
    let vector = vuln
        .severity
        .iter()
        .chain(entry.map(|e| e.severity.as_slice()).unwrap_or_default())
        .find(|s| !s.score.is_empty());
    match vector {
        Some(s) => Grade {
            label: s.score.clone(),
            rank: 1,
        },
        None => Grade {
            label: "not given".into(),
            rank: 1,
        },
    }
}

/// The advisory's RUSTSEC-, GHSA- and CVE- ids (its own first), without repeats.
pub fn ids(vuln: &Vuln) -> Vec<String> {
    let mut out = vec![vuln.id.clone()];
    for a in &vuln.aliases {
        let known = ["RUSTSEC-", "GHSA-", "CVE-"]
            .iter()
            .any(|p| a.starts_with(p));
        if known && !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vuln(v: Value) -> Vuln {
        serde_json::from_value(v).unwrap()
    }

    fn hyper_advisory() -> Vuln {
        vuln(json!({
            "id": "RUSTSEC-2099-0001",
            "summary": "request smuggling",
            "aliases": ["CVE-2099-1234", "GHSA-aaaa-bbbb-cccc", "OTHER-1"],
            "affected": [{
                "package": {"name": "hyper", "ecosystem": "crates.io"},
                "ranges": [{"type": "SEMVER", "events": [
                    {"introduced": "0"}, {"fixed": "0.14.30"},
                    {"introduced": "1.0.0"}, {"fixed": "1.7.1"}
                ]}]
            }]
        }))
    }

    #[test]
    fn a_version_inside_a_range_is_affected_with_the_first_fix_above_it() {
        let v = hyper_advisory();
        assert_eq!(
            assess(&v, "hyper", "1.7.0"),
            Verdict::Affected {
                first_fixed: Some("1.7.1".into())
            }
        );
        assert_eq!(
            assess(&v, "hyper", "0.14.2"),
            Verdict::Affected {
                first_fixed: Some("0.14.30".into())
            }
        );
    }

    #[test]
    fn fixed_versions_other_crates_and_other_ecosystems_are_not_affected() {
        let v = hyper_advisory();
        assert_eq!(assess(&v, "hyper", "1.7.1"), Verdict::NotAffected);
        assert_eq!(assess(&v, "hyper", "0.14.30"), Verdict::NotAffected);
        assert_eq!(assess(&v, "reqwest", "1.7.0"), Verdict::NotAffected);
        let mut npm = v.clone();
        npm.affected[0].package.as_mut().unwrap().ecosystem = "npm".into();
        assert_eq!(assess(&npm, "hyper", "1.7.0"), Verdict::NotAffected);
    }

    #[test]
    fn a_withdrawn_advisory_affects_nothing() {
        let mut v = hyper_advisory();
        v.withdrawn = Some("2099-02-01T00:00:00Z".into());
        assert_eq!(assess(&v, "hyper", "1.7.0"), Verdict::NotAffected);
    }

    #[test]
    fn last_affected_includes_its_own_version_and_no_fix_is_none() {
        let v = vuln(json!({"id": "RUSTSEC-2099-0002", "affected": [{
            "package": {"name": "idna", "ecosystem": "crates.io"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.1.0"}]}]
        }]}));
        assert_eq!(
            assess(&v, "idna", "1.1.0"),
            Verdict::Affected { first_fixed: None }
        );
        assert_eq!(assess(&v, "idna", "1.1.1"), Verdict::NotAffected);
        assert_eq!(assess(&v, "idna", "0.9.0"), Verdict::NotAffected);
    }

    #[test]
    fn an_explicit_versions_list_counts_and_git_ranges_are_ignored() {
        let v = vuln(json!({"id": "GHSA-x", "affected": [{
            "package": {"name": "ring", "ecosystem": "crates.io"},
            "versions": ["0.17.5"],
            "ranges": [{"type": "GIT", "events": [{"introduced": "abc123"}]}]
        }]}));
        assert_eq!(
            assess(&v, "ring", "0.17.5"),
            Verdict::Affected { first_fixed: None }
        );
        assert_eq!(assess(&v, "ring", "0.17.6"), Verdict::NotAffected);
    }

    #[test]
    fn prereleases_compare_as_semver_says() {
        let v = hyper_advisory();
        assert_eq!(
            assess(&v, "hyper", "1.7.1-rc.1"),
            Verdict::Affected {
                first_fixed: Some("1.7.1".into())
            }
        );
    }

    #[test]
    fn an_unreadable_range_is_undetermined_never_not_affected() {
        let v = vuln(json!({"id": "RUSTSEC-2099-0003", "affected": [{
            "package": {"name": "time", "ecosystem": "crates.io"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "zero"}]}]
        }]}));
        assert!(matches!(
            assess(&v, "time", "0.3.0"),
            Verdict::Undetermined(r) if r.contains("zero")
        ));
        assert!(matches!(
            assess(&hyper_advisory(), "hyper", "not-a-version"),
            Verdict::Undetermined(_)
        ));
    }

    #[test]
    fn grades_follow_the_advisory_and_aliases_keep_known_prefixes() {
        let mut v = hyper_advisory();
        assert_eq!(grade(&v, "hyper").label, "not given");
        v.severity = vec![SeverityScore {
            kind: "CVSS_V3".into(),
            score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
        }];
        assert!(grade(&v, "hyper").label.starts_with("CVSS:3.1/"));
        v.database_specific = Some(json!({"severity": "high"}));
        assert_eq!(
            grade(&v, "hyper"),
            Grade {
                label: "HIGH".into(),
                rank: 2
            }
        );
        v.affected[0].database_specific = Some(json!({"informational": "unmaintained"}));
        assert_eq!(grade(&v, "hyper").rank, 0);
        assert_eq!(
            ids(&v),
            ["RUSTSEC-2099-0001", "CVE-2099-1234", "GHSA-aaaa-bbbb-cccc"]
        );
    }
}
