//! How the checks' reports and notifications look: tables and text for a terminal, and the
//! notifications as JSON for scripts. `check` and `status` run the checks
//! ([`crate::check`]); this only renders what they return.

use crate::output::{Cell, Style, Table, Tone, days, relative, span, when};
use check_retrieval::fleet::FleetReport;
use serde_json::{Value, json};
use suomifi_shared::notify::{Alert, Severity};

/// The notifications of a run as JSON: each one as published (or not), with its key, severity,
/// subject and bodies.
pub fn notifications_json(sent: &[Alert], published: bool) -> Vec<Value> {
    sent.iter()
        .map(|a| {
            json!({
                "published": published,
                "key": a.key,
                "severity": a.severity,
                "subject": a.subject(),
                "email": a.email_body(),
                "chat": a.chat_json(),
            })
        })
        .collect()
}

/// The colour of a severity.
pub fn severity_tone(s: Severity) -> Tone {
    match s {
        Severity::Critical => Tone::Bad,
        Severity::Warning => Tone::Warn,
        Severity::Info => Tone::Plain,
        Severity::Resolved => Tone::Good,
    }
}

/// The notifications of a run: published ones by subject, a dry run's in full (as the e-mail
/// reader would get them), since seeing them is the point of a dry run.
pub fn render_notifications(sent: &[Alert], published: bool, style: &Style) -> String {
    let mut out = String::new();
    if sent.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            style.paint(
                if published {
                    "No notification sent."
                } else {
                    "Dry run: no notification would be sent."
                },
                Tone::Dim
            )
        ));
        return out;
    }
    if published {
        out.push_str(&format!("\n{}\n", style.heading("Notifications published")));
        for a in sent {
            out.push_str(&format!(
                "  {}\n",
                style.paint(&a.subject(), severity_tone(a.severity))
            ));
        }
    } else {
        out.push_str(&format!(
            "\n{}\n",
            style.heading("Dry run: these notifications would be sent (nothing was published, no alert state changed)")
        ));
        for a in sent {
            out.push_str(&format!(
                "\n  {} {}\n",
                style.paint("Subject:", Tone::Dim),
                style.paint(&a.subject(), severity_tone(a.severity))
            ));
            for line in a.email_body().lines() {
                out.push_str(&format!("  │ {line}\n"));
            }
        }
    }
    out
}

/// The words and the tone of a retrieval status.
fn status_tone(s: check_retrieval::report::Status) -> (String, Tone) {
    use check_retrieval::report::Status;
    match s {
        Status::Ok => ("OK".into(), Tone::Good),
        Status::Unknown => ("UNKNOWN (a part could not be checked)".into(), Tone::Warn),
        Status::Warning => ("WARNING".into(), Tone::Warn),
        Status::Critical => ("CRITICAL".into(), Tone::Bad),
    }
}

/// The report of every system: the overall status, one row per system (worst first), then the
/// details of each system that is not ok (of the only one, when there is one).
pub fn render_fleet(r: &FleetReport, style: &Style) -> String {
    let (status, tone) = status_tone(r.status);
    let mut out = format!(
        "{} {}  {}\n",
        style.heading("Retrieval check:"),
        style.paint(&status, tone),
        style.paint(&format!("(checked {})", when(r.checked_at)), Tone::Dim)
    );
    let one = r.systems.len() == 1;
    if !one {
        out.push_str(&systems_table(r).render(style, 2));
    }
    for system in r.worst_first() {
        if one || system.status != check_retrieval::report::Status::Ok {
            out.push('\n');
            out.push_str(&render_retrieval(system, style));
        }
    }
    out
}

/// One row per system, worst first: status, credentials, heartbeat, backlog, days to deletion.
pub fn systems_table(r: &FleetReport) -> Table {
    let mut t = Table::new(&[
        "SYSTEM",
        "STATUS",
        "CREDENTIALS",
        "HEARTBEAT",
        "BACKLOG",
        "DAYS TO DELETION",
    ]);
    for s in r.worst_first() {
        let (status, tone) = status_tone(s.status);
        let status = status.split(' ').next().unwrap_or_default().to_owned();
        let heartbeat = match &s.heartbeat {
            Some(h) => Cell::new(
                span(time::Duration::seconds_f64(h.age_minutes * 60.0)),
                if h.stale { Tone::Warn } else { Tone::Good },
            ),
            None if s.retrieval_watched => Cell::new("-", Tone::Warn),
            None => Cell::new("not watched", Tone::Dim),
        };
        let backlog = s.backlog.as_ref().or(s.seen.as_ref());
        let count = match backlog {
            Some(b) => Cell::new(
                format!("{}{}", b.count, if b.complete { "" } else { "+" }),
                if b.over_grace_count > 0 {
                    Tone::Warn
                } else {
                    Tone::Good
                },
            ),
            None => Cell::new("-", Tone::Dim),
        };
        let left = match backlog.and_then(|b| b.days_until_deletion) {
            Some(d) => Cell::new(
                format!("{d:.1}"),
                if d < 7.0 { Tone::Bad } else { Tone::Dim },
            ),
            None => Cell::new("-", Tone::Dim),
        };
        t.row(vec![
            s.system.clone().into(),
            Cell::new(status, tone),
            Cell::new(
                s.credentials.status,
                if s.credentials.status == "ok" {
                    Tone::Good
                } else {
                    Tone::Bad
                },
            ),
            heartbeat,
            count,
            left,
        ]);
    }
    t
}

/// One system's report as aligned rows, with what this run did to each alert.
pub fn render_retrieval(r: &check_retrieval::report::Report, style: &Style) -> String {
    let (status, tone) = status_tone(r.status);
    let mut out = format!(
        "{} {}\n",
        style.heading(&format!("System {}:", r.system)),
        style.paint(&status, tone),
    );
    out.push_str(&retrieval_table(r).render(style, 2));
    let active: Vec<_> = r
        .alerts
        .iter()
        .filter(|a| a.outcome != "nothingOpen")
        .collect();
    if !active.is_empty() {
        out.push_str(&format!("\n{}\n", style.heading("Alerts")));
        let mut t = Table::new(&["KEY", "SEVERITY", "THIS RUN"]);
        for a in active {
            let (sev, tone) = match a.severity {
                Some(s) => (s.as_str().to_owned(), severity_tone(s)),
                None => ("-".to_owned(), Tone::Dim),
            };
            t.row(vec![
                a.key.clone().into(),
                Cell::new(sev, tone),
                a.outcome.into(),
            ]);
        }
        out.push_str(&t.render(style, 2));
    }
    for n in &r.notes {
        out.push_str(&format!("{} {n}\n", style.paint("note:", Tone::Dim)));
    }
    out
}

/// One row per part of the retrieval check: credentials, password age, checkpoint, heartbeat,
/// backlog.
pub fn retrieval_table(r: &check_retrieval::report::Report) -> Table {
    let mut t = Table::new(&["CHECK", "STATE", "DETAIL"]);
    let c = &r.credentials;
    let ok = c.status == "ok";
    let mut detail = format!(
        "{} at {}",
        c.username.as_deref().unwrap_or("?"),
        c.api_url.as_deref().unwrap_or("?")
    );
    if let Some(ms) = c.token_latency_ms {
        detail.push_str(&format!(", token {ms} ms"));
    }
    if let Some(ms) = c.events_latency_ms {
        detail.push_str(&format!(", events {ms} ms"));
    }
    if let Some(e) = &c.error {
        detail = e.clone();
    }
    t.row(vec![
        "credentials".into(),
        Cell::new(c.status, if ok { Tone::Good } else { Tone::Bad }),
        detail.into(),
    ]);
    let p = &r.password_age;
    let (state, tone) = match (p.rotation_failing, p.age_days) {
        (Some(why), _) => (format!("rotation {why}"), Tone::Bad),
        (None, Some(age)) if age > 365.0 => (days(age), Tone::Bad),
        (None, Some(age)) if age > p.max_age_days as f64 => (days(age), Tone::Warn),
        (None, Some(age)) => (days(age), Tone::Good),
        (None, None) => ("unknown".into(), Tone::Warn),
    };
    let mut detail = format!("limit {} d", p.max_age_days);
    if let Some(on) = p.rotation_enabled {
        detail.push_str(if on {
            ", rotation on"
        } else {
            ", rotation OFF"
        });
    }
    if let Some(n) = p.next_rotation_date {
        detail.push_str(&format!(", next {}", when(n)));
    }
    if p.rotation_in_progress {
        detail.push_str(", a rotation is running now");
    }
    t.row(vec![
        "password age".into(),
        Cell::new(state, tone),
        detail.into(),
    ]);
    match &r.checkpoint {
        None => t.row(vec![
            "checkpoint".into(),
            Cell::new("not watched", Tone::Warn),
            "give the system a checkpoint (SYSTEMS' `checkpoint`, or CHECKPOINT_PARAMETER) to watch retrieval".into(),
        ]),
        Some(cp) => t.row(vec![
            "checkpoint".into(),
            Cell::new(
                cp.status,
                if cp.status == "ok" {
                    Tone::Good
                } else {
                    Tone::Bad
                },
            ),
            cp.error
                .clone()
                .unwrap_or_else(|| cp.parameter.clone())
                .into(),
        ]),
    }
    if let Some(h) = &r.heartbeat {
        let age = time::Duration::seconds_f64(h.age_minutes * 60.0);
        t.row(vec![
            "heartbeat".into(),
            Cell::new(
                if h.stale { "stale" } else { "fresh" },
                if h.stale { Tone::Warn } else { Tone::Good },
            ),
            format!(
                "last poll {} ({}), limit {}",
                span(age),
                when(h.updated_at),
                span(time::Duration::seconds_f64(h.max_age_minutes * 60.0))
            )
            .into(),
        ]);
    }
    for (label, b) in [("backlog", &r.backlog), ("seen", &r.seen)] {
        let Some(b) = b else { continue };
        let overdue = b.over_grace_count > 0;
        let mut detail = format!("{} citizens' message(s) waiting", b.count);
        if let Some(age) = b.oldest_age_minutes {
            detail.push_str(&format!(
                ", oldest {}",
                span(time::Duration::seconds_f64(age * 60.0))
            ));
        }
        if let (Some(d), Some(at)) = (b.days_until_deletion, b.deletion_at) {
            detail.push_str(&format!(
                ", Suomi.fi deletes it in {} ({})",
                days(d),
                when(at)
            ));
        }
        if !b.complete {
            detail.push_str(" (lower bound: scan incomplete)");
        }
        t.row(vec![
            label.into(),
            Cell::new(
                if overdue {
                    format!("{} overdue", b.over_grace_count)
                } else {
                    "ok".into()
                },
                if overdue { Tone::Warn } else { Tone::Good },
            ),
            detail.into(),
        ]);
    }
    t
}

/// The tone of a certificate status name.
pub fn cert_tone(s: check_certificates::evaluate::Status) -> Tone {
    use check_certificates::evaluate::Status;
    match s {
        Status::Ok => Tone::Good,
        Status::Warning | Status::NotYetValid => Tone::Warn,
        _ => Tone::Bad,
    }
}

/// The certificate report as aligned rows, and the DVV submission when one is due.
pub fn render_certificates(r: &check_certificates::Report, style: &Style) -> String {
    let now = time::OffsetDateTime::now_utc();
    let mut out = format!(
        "{} {} target(s)  {}\n",
        style.heading("Certificate check:"),
        r.summary.targets,
        style.paint(&format!("(checked {})", r.checked_at), Tone::Dim)
    );
    let mut t = Table::new(&[
        "TARGET",
        "SOURCE",
        "STATUS",
        "DAYS LEFT",
        "EXPIRES",
        "THIS RUN",
    ]);
    for target in &r.targets {
        let expires = target
            .not_after
            .as_deref()
            .and_then(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(|t| format!("{} ({})", crate::output::day(t), relative(t, now)))
            .unwrap_or_else(|| {
                if target.error.is_some() {
                    "see below".into()
                } else {
                    "-".into()
                }
            });
        let mut notes: Vec<String> = target
            .alerts
            .iter()
            .filter(|a| a.outcome != "unchanged")
            .map(|a| format!("{} {}", a.alert, a.outcome))
            .collect();
        if let Some(c) = &target.change
            && c.verdict != "same"
        {
            notes.push(format!("certificate {}", c.verdict));
        }
        let source = match target.role {
            Some(role) => format!("{} ({role})", target.source),
            None => target.source.to_owned(),
        };
        t.row(vec![
            target.target.clone().into(),
            source.into(),
            Cell::new(target.status.as_str(), cert_tone(target.status)),
            target
                .days_left
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into())
                .into(),
            expires.into(),
            notes.join(", ").into(),
        ]);
    }
    out.push_str(&t.render(style, 2));
    for target in &r.targets {
        if let Some(e) = &target.error {
            out.push_str(&format!(
                "  {} {}\n",
                style.paint(&format!("{}:", target.target), Tone::Bad),
                crate::output::clip(e, 400)
            ));
        }
    }
    for target in &r.targets {
        if let Some(sub) = target
            .change
            .as_ref()
            .and_then(|c| c.dvv_submission.as_ref())
        {
            out.push_str(&format!(
                "\n{} `{}` has a new signing certificate with a different common name or authority chain.\nSend its public part to {} with the subject \"{}\":\n{}",
                style.paint("DVV submission needed:", Tone::Warn),
                target.target,
                sub.to,
                sub.subject,
                sub.certificate_pem
            ));
        }
    }
    out
}

/// The update report for a terminal.
pub fn render_updates(r: &check_updates::Report, style: &Style) -> String {
    let mut out = String::new();
    let (status, tone) = match r.status {
        "ok" => ("OK: no advisory affects a linked version", Tone::Good),
        "affected" => ("AFFECTED: advisories for linked versions", Tone::Bad),
        _ => (
            "UNKNOWN: OSV could not be asked (this is no all-clear)",
            Tone::Warn,
        ),
    };
    out.push_str(&format!(
        "{}\n{}\n",
        style.heading("Update check"),
        style.paint(status, tone)
    ));
    let l = &r.dependency_list;
    out.push_str(&format!(
        "  {} crates linked by {} {} ({})\n",
        l.crates, l.package, l.version, l.target
    ));
    if let Some(e) = &r.osv_error {
        out.push_str(&format!("  {}\n", style.paint(e, Tone::Warn)));
    }
    for a in &r.advisories {
        let fixed: Vec<String> = a
            .first_fixed
            .iter()
            .map(|f| f.clone().unwrap_or_else(|| "none published".into()))
            .collect();
        out.push_str(&format!(
            "  {} {} {}: {} [{}] first fixed: {}\n",
            style.paint(&a.ids.join(" / "), Tone::Bad),
            a.crate_name,
            a.versions.join(", "),
            a.summary,
            a.severity,
            fixed.join(", ")
        ));
    }
    for u in &r.undetermined {
        out.push_str(&format!("  undetermined {}: {}\n", u.key, u.reason));
    }
    out.push_str(&format!("\n{}\n", style.heading("Deadlines")));
    for d in &r.deadlines {
        let tone = match d.standing {
            "imminent" | "passed" => Tone::Bad,
            "approaching" => Tone::Warn,
            _ => Tone::Dim,
        };
        let when = match (&d.date, d.days_left) {
            (Some(date), Some(n)) if n >= 0 => format!("{date} (in {n} days)"),
            (Some(date), Some(n)) => format!("{date} ({} days ago)", -n),
            _ => "no date announced".into(),
        };
        out.push_str(&format!(
            "  {} {}: {}\n",
            style.paint(&format!("{:<12}", d.standing), tone),
            d.title,
            when
        ));
    }
    out
}
