//! The wording of every notification — pure: facts in, [`Alert`]s out.

use crate::advisories::Grade;
use crate::deadlines::{Deadline, Standing};
use suomifi_shared::notify::{Alert, Severity};

/// The `source` of every alert.
pub const SOURCE: &str = "check-updates";

/// One advisory affecting one linked crate (possibly at several versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The advisory's own id.
    pub advisory: String,
    /// Its RUSTSEC-/GHSA-/CVE- ids, its own first.
    pub ids: Vec<String>,
    /// The crate.
    pub crate_name: String,
    /// Each affected linked version, with the first fixed version above it.
    pub versions: Vec<(String, Option<String>)>,
    /// One line (or the first line of the details).
    pub summary: String,
    /// How bad.
    pub grade: Grade,
}

impl Finding {
    /// The alert key (and chat thread): one per advisory and crate.
    pub fn key(&self) -> String {
        advisory_key(&self.advisory, &self.crate_name)
    }
}

/// `updates/advisory/<id>/<crate>`.
pub fn advisory_key(advisory: &str, crate_name: &str) -> String {
    format!("updates/advisory/{advisory}/{crate_name}")
}

/// The key of the "OSV could not be asked" alert.
pub const UNKNOWN_KEY: &str = "updates/osv-unknown";

/// `updates/deadline/<id>`.
pub fn deadline_key(id: &str) -> String {
    format!("updates/deadline/{id}")
}

fn versions_text(f: &Finding) -> String {
    f.versions
        .iter()
        .map(|(v, _)| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The alert for an advisory that affects a linked version.
pub fn advisory_alert(f: &Finding) -> Alert {
    let severity = match f.grade.rank {
        0 => Severity::Info,
        1 => Severity::Warning,
        _ => Severity::Critical,
    };
    let versions = versions_text(f);
    let mut alert = Alert::new(
        f.key(),
        severity,
        format!(
            "security advisory {} for {} {}",
            f.advisory, f.crate_name, versions
        ),
        SOURCE,
    );
    let others: Vec<&str> = f.ids.iter().skip(1).map(String::as_str).collect();
    let aka = if others.is_empty() {
        String::new()
    } else {
        format!(" (also {})", others.join(", "))
    };
    alert.what_happened = format!(
        "The OSV database lists advisory {}{aka} for the crate `{}`, and the deployed functions link version {versions}: {}",
        f.advisory, f.crate_name, f.summary
    );
    alert.why_it_matters = "A Rust binary carries its dependencies inside it: the deployed functions stay exposed until the bundle is rebuilt from an updated lockfile and redeployed.".into();
    let multiple = f.versions.len() > 1;
    let mut steps = Vec::new();
    for (v, fixed) in &f.versions {
        let spec = if multiple {
            format!("{}@{v}", f.crate_name)
        } else {
            f.crate_name.clone()
        };
        steps.push(match fixed {
            Some(fixed) => format!(
                "Update the lockfile: `cargo update -p {spec} --precise {fixed}` (or a later compatible version), then `make test`."
            ),
            None => format!(
                "No fixed version of `{}` above {v} is published yet: read the advisory for workarounds, and whether the affected feature is used here.",
                f.crate_name
            ),
        });
    }
    steps.push("Build and deploy: `make package`, then `sam deploy` (every function is built from the same lockfile).".into());
    steps.push("If a suomifi-ops release already carries the fix, its release notes say so: updating to it does the same.".into());
    steps.push("The next run of check-updates (or `suomifi-ops check updates`) resolves this alert once the deployed binary no longer links an affected version.".into());
    alert.next_steps = steps;
    alert = alert
        .detail("Advisory", f.ids.join(", "))
        .detail("Crate", &f.crate_name)
        .detail("Linked version", versions)
        .detail("Severity", &f.grade.label);
    let fixed: Vec<String> = f
        .versions
        .iter()
        .map(|(v, fixed)| match (multiple, fixed) {
            (false, Some(x)) => x.clone(),
            (false, None) => "none published".into(),
            (true, Some(x)) => format!("{x} (for {v})"),
            (true, None) => format!("none published (for {v})"),
        })
        .collect();
    alert
        .detail("First fixed version", fixed.join(", "))
        .detail(
            "Advisory page",
            format!("https://osv.dev/vulnerability/{}", f.advisory),
        )
}

/// The resolution of an advisory alert: the redeploy no longer links it, or the advisory was
/// withdrawn or changed.
pub fn advisory_resolved(key: &str, title: &str) -> Alert {
    let mut a = Alert::new(key, Severity::Resolved, format!("cleared: {title}"), SOURCE);
    a.what_happened = "The deployed functions no longer link a version this advisory affects (the bundle was rebuilt and redeployed), or the advisory was withdrawn or narrowed.".into();
    a
}

/// OSV could not be asked (or answered garbage) `runs` times in a row.
pub fn unknown_alert(runs: u32, since: &str, error: &str) -> Alert {
    let mut a = Alert::new(
        UNKNOWN_KEY,
        Severity::Warning,
        "security advisories of the bundle are not being checked",
        SOURCE,
    );
    a.what_happened = format!(
        "check-updates could not get an answer from the OSV database in {runs} run(s) in a row: {error}"
    );
    a.why_it_matters = "Until OSV answers, nobody is told about a new advisory for the crates the functions link. This is no all-clear.".into();
    a.next_steps = vec![
        "Check that the functions' network path (VPC, NAT gateway, proxy) reaches https://api.osv.dev, or the configured OSV_API_URL.".into(),
        "Look at status of the OSV service; run `suomifi-ops check updates` to retry now.".into(),
    ];
    a.detail("Failing since", since).detail("Last error", error)
}

/// OSV answers again.
pub fn unknown_resolved() -> Alert {
    let mut a = Alert::new(
        UNKNOWN_KEY,
        Severity::Resolved,
        "security advisories of the bundle are checked again",
        SOURCE,
    );
    a.what_happened = "The OSV database answered again; advisories are checked as usual.".into();
    a
}

/// A deadline that is approaching, imminent or passed (`None` otherwise).
pub fn deadline_alert(d: &Deadline, standing: Standing) -> Option<(Alert, u32)> {
    let date = d.date?;
    let (severity, stage, when) = match standing {
        Standing::Approaching { days_left } => (
            Severity::Warning,
            0,
            format!("in {days_left} days, on {date}"),
        ),
        Standing::Imminent { days_left } => (
            Severity::Critical,
            0,
            format!("in {days_left} days, on {date}"),
        ),
        Standing::Passed { days_ago: 0 } => (Severity::Critical, 1, format!("today, {date}")),
        Standing::Passed { days_ago } => (
            Severity::Critical,
            1,
            format!("{days_ago} days ago, on {date}"),
        ),
        Standing::Undated | Standing::Distant { .. } => return None,
    };
    let mut a = Alert::new(
        deadline_key(&d.id),
        severity,
        format!("{}: {when}", d.title),
        SOURCE,
    );
    a.what_happened = d.detail.clone();
    a.why_it_matters = format!(
        "A change announced for {date} affects this organisation's Suomi.fi Messages connection or the functions that keep it healthy."
    );
    a.next_steps = d.next_steps.clone();
    a.next_steps.push("When done, disable this entry with DEADLINES ({\"id\": \"...\", \"disabled\": true}) so it stops reminding.".into());
    Some((a.detail("Deadline", date).detail("Entry", &d.id), stage))
}

/// A deadline alert clears (the entry was disabled, moved or dropped).
pub fn deadline_resolved(key: &str, title: &str) -> Alert {
    let mut a = Alert::new(key, Severity::Resolved, format!("cleared: {title}"), SOURCE);
    a.what_happened =
        "The deadline entry was disabled, moved further away, or removed from the list.".into();
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(versions: Vec<(&str, Option<&str>)>) -> Finding {
        Finding {
            advisory: "RUSTSEC-2099-0001".into(),
            ids: vec!["RUSTSEC-2099-0001".into(), "CVE-2099-1234".into()],
            crate_name: "hyper".into(),
            versions: versions
                .into_iter()
                .map(|(v, f)| (v.to_owned(), f.map(str::to_owned)))
                .collect(),
            summary: "request smuggling".into(),
            grade: Grade {
                label: "HIGH".into(),
                rank: 2,
            },
        }
    }

    #[test]
    fn an_advisory_alert_names_everything_needed_to_act() {
        let a = advisory_alert(&finding(vec![("1.7.0", Some("1.7.1"))]));
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.key, "updates/advisory/RUSTSEC-2099-0001/hyper");
        let body = a.email_body();
        for needle in [
            "RUSTSEC-2099-0001",
            "CVE-2099-1234",
            "hyper",
            "1.7.0",
            "request smuggling",
            "HIGH",
            "First fixed version: 1.7.1",
            "cargo update -p hyper --precise 1.7.1",
            "make package",
            "sam deploy",
            "release notes",
        ] {
            assert!(body.contains(needle), "{needle} missing:\n{body}");
        }
        assert!(
            a.subject().is_ascii() && a.subject().len() < 100,
            "{}",
            a.subject()
        );
    }

    #[test]
    fn several_linked_versions_get_a_precise_step_each() {
        let a = advisory_alert(&finding(vec![("0.14.2", Some("0.14.30")), ("1.7.0", None)]));
        let body = a.email_body();
        assert!(
            body.contains("cargo update -p hyper@0.14.2 --precise 0.14.30"),
            "{body}"
        );
        assert!(
            body.contains("No fixed version of `hyper` above 1.7.0"),
            "{body}"
        );
    }

    #[test]
    fn deadlines_alert_only_when_near_and_get_worse_when_passed() {
        let d = &crate::deadlines::shipped()[0];
        assert!(deadline_alert(d, Standing::Distant { days_left: 400 }).is_none());
        let (a, stage) = deadline_alert(d, Standing::Approaching { days_left: 90 }).unwrap();
        assert_eq!((a.severity, stage), (Severity::Warning, 0));
        assert!(a.title.contains("2027-01-01"), "{}", a.title);
        let (a, stage) = deadline_alert(d, Standing::Passed { days_ago: 3 }).unwrap();
        assert_eq!((a.severity, stage), (Severity::Critical, 1));
        let undated = &crate::deadlines::shipped()[1];
        assert!(deadline_alert(undated, Standing::Undated).is_none());
    }

    #[test]
    fn the_unknown_alert_is_no_all_clear() {
        let a = unknown_alert(
            2,
            "2026-12-01T06:00:00Z",
            "OSV querybatch answered HTTP 503",
        );
        assert_eq!(a.key, UNKNOWN_KEY);
        assert!(a.email_body().contains("no all-clear"));
        assert!(a.email_body().contains("HTTP 503"));
    }
}
