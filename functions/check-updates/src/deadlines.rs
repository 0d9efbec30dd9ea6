//! Dated changes announced by others that this bundle must be ready for — pure, no I/O.
//!
//! The list ships with the bundle ([`shipped`]) and can be amended per deployment with the
//! `DEADLINES` variable ([`with_overrides`]): a JSON array of `{"id", "date"?, "title"?,
//! "detail"?, "nextSteps"?, "disabled"?}`; an entry with a shipped id replaces the given fields,
//! a new id adds an entry, `"disabled": true` drops it. Each dated entry is reported ahead of
//! time: a warning from `DEADLINE_NOTICE_DAYS` before it, critical from [`CRITICAL_DAYS`]
//! before it and after it. An undated entry is listed in the report and never alerts.

use serde::Deserialize;
use time::Date;

/// From this many days before a deadline (and after it) its alert is critical.
pub const CRITICAL_DAYS: i64 = 30;

/// One announced change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// Stable id (alert key).
    pub id: String,
    /// The day it takes effect, when announced.
    pub date: Option<Date>,
    /// One line.
    pub title: String,
    /// What changes and where it was announced.
    pub detail: String,
    /// What to do before the date.
    pub next_steps: Vec<String>,
}

/// The list as shipped (reviewed when the bundle is released).
pub fn shipped() -> Vec<Deadline> {
    vec![
        Deadline {
            id: "dvv-old-apis-close".into(),
            date: Some(time::macros::date!(2027 - 01 - 01)),
            title: "DVV closes the old Suomi.fi Messages APIs".into(),
            detail: "DVV's REST API page: \"All old APIs will be closed on 1 January 2027\" (the WS \
                     interface and the SFTP API). Services must use the REST interface before then; \
                     the VIA signing certificate belongs to the WS interface."
                .into(),
            next_steps: vec![
                "Make sure every service of the organisation sends and retrieves through the REST API (this bundle does).".into(),
                "Plan the end of any WS or SFTP integration, and of the VIA signing certificate it uses, before 1 January 2027.".into(),
            ],
        },
        Deadline {
            id: "dvv-tls13-required".into(),
            date: None,
            title: "DVV will require TLS 1.3".into(),
            detail: "DVV's technical deployment page: TLS 1.3 support will be required in the future \
                     and should be enabled now. No date is announced; set one with DEADLINES when \
                     DVV does. The bundle's own clients (rustls) already speak TLS 1.3."
                .into(),
            next_steps: vec![
                "Check that the organisation's own senders, retrievers and proxies support TLS 1.3.".into(),
            ],
        },
        Deadline {
            id: "lambda-provided-al2023".into(),
            // Lambda deprecates an OS-only runtime when its operating system reaches the end of
            // long-term support; AWS's runtime table listed provided.al2023's deprecation as "not
            // scheduled" when this list was made, and Amazon Linux 2023 is supported until
            // 30 June 2029. Replace the date with DEADLINES when Lambda announces one.
            date: Some(time::macros::date!(2029 - 06 - 30)),
            title: "Lambda runtime provided.al2023: Amazon Linux 2023 end of support".into(),
            detail: "The functions run on Lambda's OS-only runtime provided.al2023. Amazon Linux 2023 \
                     is supported until 30 June 2029; Lambda deprecates the runtime when its OS \
                     reaches the end of long-term support and then blocks function creation and \
                     updates. Lambda's runtime table had not scheduled the deprecation when this \
                     list was made."
                .into(),
            next_steps: vec![
                "Watch Lambda's runtime deprecation notices (AWS Health) for provided.al2023.".into(),
                "Move the template's Runtime to the successor OS-only runtime, then make package and sam deploy.".into(),
            ],
        },
    ]
}

/// One entry of `DEADLINES`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OverrideEntry {
    id: String,
    #[serde(default, with = "opt_date")]
    date: Option<Option<Date>>,
    title: Option<String>,
    detail: Option<String>,
    next_steps: Option<Vec<String>>,
    #[serde(default)]
    disabled: bool,
}

mod opt_date {
    use serde::{Deserialize, Deserializer};
    use time::Date;

    /// `"date": "2027-01-01"` sets, `"date": null` removes, absent keeps.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Date>>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        match raw {
            None => Ok(Some(None)),
            Some(s) => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                Date::parse(&s, format).map(|d| Some(Some(d))).map_err(|_| {
                    serde::de::Error::custom(format!("`{s}` is not a date (YYYY-MM-DD)"))
                })
            }
        }
    }
}

/// `base` amended by the `DEADLINES` JSON (see the module documentation). The error says what
/// is wrong, naming the entry.
pub fn with_overrides(mut base: Vec<Deadline>, json: &str) -> Result<Vec<Deadline>, String> {
    let entries: Vec<OverrideEntry> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    for e in entries {
        if e.id.trim().is_empty() {
            return Err("an entry has an empty id".into());
        }
        if e.disabled {
            base.retain(|d| d.id != e.id);
            continue;
        }
        match base.iter_mut().find(|d| d.id == e.id) {
            Some(d) => {
                if let Some(date) = e.date {
                    d.date = date;
                }
                if let Some(t) = e.title {
                    d.title = t;
                }
                if let Some(t) = e.detail {
                    d.detail = t;
                }
                if let Some(s) = e.next_steps {
                    d.next_steps = s;
                }
            }
            None => {
                let Some(title) = e.title else {
                    return Err(format!("new entry `{}` needs a title", e.id));
                };
                base.push(Deadline {
                    id: e.id,
                    date: e.date.flatten(),
                    title,
                    detail: e.detail.unwrap_or_default(),
                    next_steps: e.next_steps.unwrap_or_default(),
                });
            }
        }
    }
    Ok(base)
}

/// Where a deadline stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No date announced: reported, no alert.
    Undated,
    /// Further away than the notice period: reported, no alert.
    Distant {
        /// Days until the date.
        days_left: i64,
    },
    /// Within the notice period: a warning.
    Approaching {
        /// Days until the date.
        days_left: i64,
    },
    /// Within [`CRITICAL_DAYS`]: critical.
    Imminent {
        /// Days until the date.
        days_left: i64,
    },
    /// The date has come: critical, until the entry is removed or disabled.
    Passed {
        /// Days since the date.
        days_ago: i64,
    },
}

impl Standing {
    /// `undated`, `distant`, `approaching`, `imminent`, `passed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undated => "undated",
            Self::Distant { .. } => "distant",
            Self::Approaching { .. } => "approaching",
            Self::Imminent { .. } => "imminent",
            Self::Passed { .. } => "passed",
        }
    }
}

/// Where `d` stands on `today` with a notice period of `notice_days`.
pub fn standing(d: &Deadline, today: Date, notice_days: i64) -> Standing {
    let Some(date) = d.date else {
        return Standing::Undated;
    };
    let days_left = (date - today).whole_days();
    if days_left <= 0 {
        Standing::Passed {
            days_ago: -days_left,
        }
    } else if days_left <= CRITICAL_DAYS {
        Standing::Imminent { days_left }
    } else if days_left <= notice_days {
        Standing::Approaching { days_left }
    } else {
        Standing::Distant { days_left }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_shipped_list_has_the_dvv_date_and_the_runtime() {
        let list = shipped();
        let dvv = list.iter().find(|d| d.id == "dvv-old-apis-close").unwrap();
        assert_eq!(dvv.date, Some(date!(2027 - 01 - 01)));
        assert!(list.iter().any(|d| d.id == "lambda-provided-al2023"));
        assert!(
            list.iter()
                .any(|d| d.id == "dvv-tls13-required" && d.date.is_none())
        );
    }

    #[test]
    fn standing_moves_from_distant_to_passed() {
        let d = &shipped()[0];
        assert!(matches!(
            standing(d, date!(2026 - 01 - 01), 180),
            Standing::Distant { days_left: 365 }
        ));
        assert_eq!(
            standing(d, date!(2026 - 12 - 02), 180),
            Standing::Imminent { days_left: 30 }
        );
        assert_eq!(
            standing(d, date!(2026 - 10 - 01), 180),
            Standing::Approaching { days_left: 92 }
        );
        assert_eq!(
            standing(d, date!(2026 - 12 - 15), 180),
            Standing::Imminent { days_left: 17 }
        );
        assert_eq!(
            standing(d, date!(2027 - 01 - 01), 180),
            Standing::Passed { days_ago: 0 }
        );
        assert_eq!(
            standing(&shipped()[1], date!(2026 - 01 - 01), 180),
            Standing::Undated
        );
    }

    #[test]
    fn overrides_replace_add_and_disable_by_id() {
        let list = with_overrides(
            shipped(),
            r#"[{"id": "dvv-tls13-required", "date": "2027-06-01"},
                {"id": "lambda-provided-al2023", "disabled": true},
                {"id": "own-cert", "title": "our proxy moves", "date": "2027-03-01"}]"#,
        )
        .unwrap();
        let tls = list.iter().find(|d| d.id == "dvv-tls13-required").unwrap();
        assert_eq!(tls.date, Some(date!(2027 - 06 - 01)));
        assert_eq!(tls.title, "DVV will require TLS 1.3");
        assert!(!list.iter().any(|d| d.id == "lambda-provided-al2023"));
        assert!(list.iter().any(|d| d.id == "own-cert"));
        let undated =
            with_overrides(shipped(), r#"[{"id": "dvv-old-apis-close", "date": null}]"#).unwrap();
        assert_eq!(undated[0].date, None);
    }

    #[test]
    fn bad_overrides_are_refused_with_a_reason() {
        for (bad, says) in [
            (r#"[{"id": "x"}]"#, "needs a title"),
            (
                r#"[{"id": "dvv-old-apis-close", "date": "1.1.2027"}]"#,
                "1.1.2027",
            ),
            (
                r#"[{"id": "x", "title": "t", "when": "2027-01-01"}]"#,
                "when",
            ),
            (r#"{"id": "x"}"#, "sequence"),
            (r#"[{"id": " ", "title": "t"}]"#, "empty id"),
        ] {
            let err = with_overrides(shipped(), bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
