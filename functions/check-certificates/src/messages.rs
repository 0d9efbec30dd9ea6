//! What the notifications say. Pure functions from facts to [`Alert`]s, so the wording is
//! tested without AWS. Every alert names the target, the certificate and the absolute date
//! (UTC) — "in 13 days" alone is ambiguous by the time someone reads it.

use crate::advisor::{ChangeVerdict, DVV_ADDRESS, DVV_SUBJECT, RememberedCert, describe_chain};
use crate::certs::{CertInfo, Unreadable};
use crate::evaluate::{ChainEvaluation, Status};
use crate::targets::{Role, Source, Target};
use suomifi_shared::alerts::format_time;
use suomifi_shared::notify::{Alert, Severity};
use suomifi_shared::tlsprobe::{FailureKind, TlsVersion, VerificationFailure};
use time::OffsetDateTime;

/// `source` of every alert this function raises.
pub const ALERT_SOURCE: &str = "check-certificates";

/// Alert key of a target's validity-period problem.
pub fn expiry_key(target: &str) -> String {
    format!("certificates/{target}/expiry")
}

/// Alert key of a target whose certificate could not be fetched or read.
pub fn source_key(target: &str) -> String {
    format!("certificates/{target}/source")
}

/// Alert key of a TLS target whose chain fails verification for a reason other than time.
pub fn trust_key(target: &str) -> String {
    format!("certificates/{target}/trust")
}

/// Alert key of the one-off notice about a new certificate (one thread per certificate).
pub fn change_key(target: &str, sha256: &str) -> String {
    format!(
        "certificates/{target}/change/{}",
        &sha256[..sha256.len().min(16)]
    )
}

/// What TLS told about a target.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsFacts {
    /// Negotiated version.
    pub version: TlsVersion,
    /// The WebPKI verdict.
    pub verification: Result<(), VerificationFailure>,
}

/// Why a target yielded no certificate.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchProblem {
    /// The source did not answer.
    Unreachable(String),
    /// The source answered with something that is not a readable certificate.
    Unreadable(Unreadable),
}

impl FetchProblem {
    /// The status this problem gives the target.
    pub fn status(&self) -> Status {
        match self {
            Self::Unreachable(_) => Status::Unreachable,
            Self::Unreadable(_) => Status::Unreadable,
        }
    }
}

impl std::fmt::Display for FetchProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(s) => f.write_str(s),
            Self::Unreadable(u) => u.fmt(f),
        }
    }
}

/// How a target's source reads in a sentence.
pub fn describe_source(source: &Source) -> String {
    match source {
        Source::Tls(ep) => format!("TLS endpoint {ep}"),
        Source::Secret(loc) => match &loc.json_key {
            Some(k) => format!("secret `{}` (key `{k}`)", loc.secret_id),
            None => format!("secret `{}`", loc.secret_id),
        },
        Source::Acm(arn) => format!("ACM certificate {arn}"),
    }
}

/// `leaf`, `intermediate #1`, `root`.
pub fn position_label(chain: &[CertInfo], position: usize) -> String {
    if position == 0 {
        "leaf".into()
    } else if chain[position].self_issued {
        "root".into()
    } else {
        format!("intermediate #{position}")
    }
}

/// `2026-12-08`.
pub fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn days_text(days: u32) -> String {
    if days == 1 {
        "1 day".into()
    } else {
        format!("{days} days")
    }
}

fn in_days(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "in 1 day".into(),
        d => format!("in {d} days"),
    }
}

/// The severity of a validity problem. A server presenting a certificate that is not valid yet
/// is broken for every client (critical); a stored one may be staged ahead on purpose.
pub fn validity_severity(status: Status, source: &Source) -> Option<Severity> {
    match status {
        Status::Ok | Status::Unreadable | Status::Unreachable | Status::NotChecked => None,
        Status::Warning => Some(Severity::Warning),
        Status::Critical | Status::Expired => Some(Severity::Critical),
        Status::NotYetValid => Some(match source {
            Source::Tls(_) => Severity::Critical,
            _ => Severity::Warning,
        }),
    }
}

fn cert_details(
    mut alert: Alert,
    target: &Target,
    cert: &CertInfo,
    label: &str,
    tls: Option<&TlsFacts>,
) -> Alert {
    alert = alert
        .detail("Target", &target.name)
        .detail("Source", describe_source(&target.source))
        .detail("Certificate", label)
        .detail("Subject", &cert.subject)
        .detail("Issuer", &cert.issuer)
        .detail("Serial", &cert.serial)
        .detail("SHA-256", &cert.sha256)
        .detail("Valid from", format_time(cert.not_before))
        .detail("Valid until", format_time(cert.not_after));
    if let Some(t) = tls {
        alert = alert.detail("TLS version", t.version).detail(
            "Verification",
            match &t.verification {
                Ok(()) => "ok".to_owned(),
                Err(f) => f.to_string(),
            },
        );
    }
    alert
}

/// DVV's rule, said ahead of time in expiry alerts of a signing certificate.
fn signing_renewal_steps(leaf: &CertInfo, chain: &[CertInfo], deadline: &str) -> Vec<String> {
    let cn = leaf.common_name.as_deref().unwrap_or("(none)");
    vec![
        format!(
            "Renew it keeping the same common name (CN={cn}) and the same authority chain ({}): then DVV needs nothing, and installing it at your own dispatch point is enough.",
            describe_chain(&crate::advisor::authority_chain(chain))
        ),
        format!(
            "If the common name or the authority chain changes, send the new certificate's public part, Base64 encoded, to {DVV_ADDRESS} with the subject \"{DVV_SUBJECT}\" well before {deadline}; DVV passes it to Valtori, who install it on VIA. This function sends the ready-made text when the new certificate appears."
        ),
    ]
}

/// The alert for a chain whose validity needs attention (`eval.status()` is a validity problem).
pub fn expiry_alert(
    target: &Target,
    chain: &[CertInfo],
    eval: &ChainEvaluation,
    tls: Option<&TlsFacts>,
    severity: Severity,
) -> Alert {
    let gov = eval.governing();
    let cert = &chain[gov.position];
    let label = position_label(chain, gov.position);
    let name = &target.name;
    let until = date(cert.not_after);
    let whose = if gov.position == 0 {
        format!("certificate `{name}`")
    } else {
        format!("certificate chain `{name}`: {label} CA")
    };
    let title = match gov.status {
        Status::Expired => format!("{whose} expired on {until}"),
        Status::NotYetValid => format!("{whose} is not valid before {}", date(cert.not_before)),
        _ => format!("{whose} expires {} ({until})", in_days(gov.days_left())),
    };
    let mut alert = Alert::new(expiry_key(name), severity, title, ALERT_SOURCE);
    alert.what_happened = match gov.status {
        Status::Expired => format!(
            "The {label} certificate {} of `{name}` ({}) expired at {}.",
            cert.subject,
            describe_source(&target.source),
            format_time(cert.not_after)
        ),
        Status::NotYetValid => format!(
            "The {label} certificate {} of `{name}` ({}) only becomes valid at {}.",
            cert.subject,
            describe_source(&target.source),
            format_time(cert.not_before)
        ),
        _ => format!(
            "The {label} certificate {} of `{name}` ({}) is valid until {}: {} days left.",
            cert.subject,
            describe_source(&target.source),
            format_time(cert.not_after),
            gov.days_left()
        ),
    };
    if gov.position > 0 {
        alert.what_happened.push_str(&format!(
            " It expires before the leaf certificate ({}), so it sets the whole chain's expiry.",
            date(chain[0].not_after)
        ));
    }
    alert.why_it_matters = match (&target.source, target.role) {
        (_, Role::Signing) => "Your connection through Valtori's Shared Integration Platform (VIA) relies on this signing certificate, and a change that DVV must pass on to Valtori takes time.".into(),
        (Source::Tls(ep), _) => format!("Clients refuse TLS connections to {ep} once a certificate of the chain is out of its validity period: every call through it fails."),
        _ => "Whatever uses this certificate stops working once it is out of its validity period.".into(),
    };
    let renew = match &target.source {
        Source::Tls(ep) => format!(
            "Renew the certificate and install it, with its current intermediates, on {ep} before {until}."
        ),
        Source::Secret(loc) => format!(
            "Renew the certificate and store it in secret `{}` before {until}.",
            loc.secret_id
        ),
        Source::Acm(_) => format!(
            "Before {until}: for an Amazon-issued certificate check why ACM's managed renewal has not happened (usually domain validation); for an imported one, re-import the renewed certificate to the same ARN."
        ),
    };
    alert.next_steps.push(renew);
    if gov.position > 0 {
        alert.next_steps.push(
            "Get the CA's current intermediate certificate and serve or store it with the leaf."
                .into(),
        );
    }
    if target.role == Role::Signing {
        alert
            .next_steps
            .extend(signing_renewal_steps(&chain[0], chain, &until));
        alert = alert.detail("WS interface", WS_INTERFACE_CLOSES);
    }
    alert = cert_details(alert, target, cert, &label, tls);
    alert = alert.detail("Days left", gov.days_left());
    if let Some(t) = gov.threshold {
        alert = alert.detail("Threshold crossed", days_text(t));
    }
    alert
}

/// The `[RESOLVED]` for a validity problem: either a new certificate appeared or time moved on
/// (a not-yet-valid certificate became valid; thresholds changed).
pub fn expiry_resolved(
    target: &Target,
    chain: &[CertInfo],
    eval: &ChainEvaluation,
    renewed: bool,
) -> Alert {
    let gov = eval.governing();
    let cert = &chain[gov.position];
    let title = if renewed {
        format!(
            "certificate `{}` renewed: valid until {}",
            target.name,
            date(cert.not_after)
        )
    } else {
        format!(
            "certificate `{}` is fine again: valid until {}",
            target.name,
            date(cert.not_after)
        )
    };
    let mut alert = Alert::new(
        expiry_key(&target.name),
        Severity::Resolved,
        title,
        ALERT_SOURCE,
    );
    alert.what_happened = format!(
        "`{}` now has {} ({} days left; the chain's first expiry is its {} certificate).",
        target.name,
        cert.subject,
        gov.days_left(),
        position_label(chain, gov.position)
    );
    alert.detail("SHA-256", &cert.sha256)
}

/// The alert for a target whose certificate could not be fetched or read.
pub fn source_alert(target: &Target, problem: &FetchProblem) -> Alert {
    let name = &target.name;
    let source = describe_source(&target.source);
    let (title, next) = match problem {
        FetchProblem::Unreachable(_) => (
            format!("certificate `{name}` cannot be checked: source unreachable"),
            match &target.source {
                Source::Tls(ep) => format!(
                    "Check that {ep} answers, and that this function's network (VPC subnets, NAT, security groups, network ACLs) lets it reach the host."
                ),
                Source::Secret(loc) => format!(
                    "Check that secret `{}` exists and that this function's role may call secretsmanager:GetSecretValue on it (and kms:Decrypt with a customer-managed key).",
                    loc.secret_id
                ),
                Source::Acm(arn) => format!("Check that {arn} exists, is issued, and that this function's role may call acm:GetCertificate on it."),
            },
        ),
        FetchProblem::Unreadable(u) => (
            format!("certificate `{name}` is unreadable"),
            match u {
                Unreadable::Pkcs12WrongPassword(_) => {
                    "Check the PKCS#12 password stored under `passwordKey` (and that the keystore was stored whole).".to_owned()
                }
                _ => "Store the certificate as PEM (one or a bundle, leaf first), as DER in Base64, or as PKCS#12 in Base64 with its password under `passwordKey`.".to_owned(),
            },
        ),
    };
    let mut alert = Alert::new(source_key(name), Severity::Warning, title, ALERT_SOURCE);
    alert.what_happened = format!("Reading {source} failed: {problem}.");
    alert.why_it_matters =
        "Until the check works again, nobody is told when this certificate is about to expire."
            .into();
    alert.next_steps.push(next);
    alert.detail("Target", name).detail("Source", source)
}

/// The `[RESOLVED]` for a source that can be read again.
pub fn source_resolved(target: &Target) -> Alert {
    let mut alert = Alert::new(
        source_key(&target.name),
        Severity::Resolved,
        format!("certificate `{}` can be checked again", target.name),
        ALERT_SOURCE,
    );
    alert.what_happened = format!(
        "{} answered with a readable certificate.",
        describe_source(&target.source)
    );
    alert
}

/// The alert for a TLS chain that fails verification for a reason other than its dates.
pub fn trust_alert(
    target: &Target,
    chain: &[CertInfo],
    tls: &TlsFacts,
    failure: &VerificationFailure,
) -> Alert {
    let name = &target.name;
    let (server, sni) = match &target.source {
        Source::Tls(ep) => (
            ep.to_string(),
            ep.sni.clone().unwrap_or_else(|| ep.host.clone()),
        ),
        _ => (describe_source(&target.source), String::new()),
    };
    let what = match failure.kind {
        FailureKind::NameMismatch => "is not valid for the name",
        FailureKind::UnknownIssuer => "does not lead to a trusted root",
        FailureKind::Revoked => "was revoked",
        FailureKind::BadSignature => "has an invalid or unsupported signature",
        FailureKind::BadEncoding => "is malformed",
        _ => "fails verification",
    };
    let mut alert = Alert::new(
        trust_key(name),
        Severity::Critical,
        format!("certificate `{name}` {what}"),
        ALERT_SOURCE,
    );
    alert.what_happened = format!(
        "The chain presented by {server} fails verification: {}.",
        failure.detail
    );
    alert.why_it_matters =
        "Clients that verify certificates, as they must, refuse the connection.".into();
    alert.next_steps.push(match failure.kind {
        FailureKind::NameMismatch => {
            format!("Install a certificate whose subject alternative names include {sni}, or correct `sni` in CERT_TARGETS.")
        }
        FailureKind::UnknownIssuer => "Serve the complete chain (leaf and intermediates) from a publicly trusted CA.".into(),
        _ => format!("Check the certificate chain served by {server}."),
    });
    cert_details(alert, target, &chain[0], "leaf", Some(tls))
}

/// The `[RESOLVED]` for a chain that verifies again.
pub fn trust_resolved(target: &Target) -> Alert {
    Alert::new(
        trust_key(&target.name),
        Severity::Resolved,
        format!("certificate `{}` verifies again", target.name),
        ALERT_SOURCE,
    )
}

/// Said in every alert about a signing (VIA) certificate: the interface it belongs to has an end
/// date (DVV's REST API page; check-updates reports the same date ahead of time).
pub const WS_INTERFACE_CLOSES: &str = "DVV's WS interface, which the VIA signing certificate belongs to, closes on 1 January 2027 with all old APIs; the REST API needs no signing certificate.";

/// The notice about a new signing certificate, in DVV's terms: for `Changed`, the ready-to-send
/// submission (address, subject, the certificate's public part); for `Renewed`, that nothing
/// needs to be sent. `None` for other verdicts.
pub fn change_alert(
    target: &Target,
    previous: &RememberedCert,
    leaf: &CertInfo,
    current: &RememberedCert,
    verdict: &ChangeVerdict,
) -> Option<Alert> {
    let name = &target.name;
    let cn = |c: &Option<String>| c.clone().unwrap_or_else(|| "(none)".into());
    let mut alert = match verdict {
        ChangeVerdict::Changed {
            common_name,
            authority,
        } => {
            let mut a = Alert::new(
                change_key(name, &current.sha256),
                Severity::Warning,
                format!("new signing certificate `{name}`: send it to DVV (\"{DVV_SUBJECT}\")"),
                ALERT_SOURCE,
            );
            let mut changed = Vec::new();
            if *common_name {
                changed.push(format!(
                    "a different common name (was CN={}; now CN={})",
                    cn(&previous.common_name),
                    cn(&current.common_name)
                ));
            }
            if *authority {
                changed.push(format!(
                    "a different authority chain (was {}; now {})",
                    describe_chain(&previous.authority_chain),
                    describe_chain(&current.authority_chain)
                ));
            }
            a.what_happened = format!(
                "A new certificate appeared for `{name}` with {}. Under DVV's rule such a certificate must be sent to DVV to be installed on Valtori's Shared Integration Platform (VIA).",
                changed.join(" and ")
            );
            a.why_it_matters = "DVV passes the certificate to Valtori, who install it on VIA; until then VIA knows only the previous certificate.".into();
            a.next_steps = vec![
                format!("Send an e-mail to {DVV_ADDRESS} with the subject \"{DVV_SUBJECT}\"."),
                "Put the certificate below in the message: it is the certificate's public part, Base64 encoded (PEM). It holds no private key.".into(),
                "Keep this notice until DVV confirms the change.".into(),
            ];
            a = a
                .detail("To", DVV_ADDRESS)
                .detail("Subject", DVV_SUBJECT)
                .detail("What changed", changed.join("; "));
            a
        }
        ChangeVerdict::Renewed => {
            let mut a = Alert::new(
                change_key(name, &current.sha256),
                Severity::Info,
                format!("signing certificate `{name}` renewed: no submission to DVV needed"),
                ALERT_SOURCE,
            );
            a.what_happened = format!(
                "A new certificate appeared for `{name}` with the same common name (CN={}) and the same authority chain ({}) as the previous one.",
                cn(&current.common_name),
                describe_chain(&current.authority_chain)
            );
            a.why_it_matters = "DVV's rule: when the common name and the authority chain stay the same (for example only the validity changed), nothing is sent to DVV; renewing the certificate at your own dispatch point is enough.".into();
            a.next_steps =
                vec!["Make sure your dispatch point uses the renewed certificate.".into()];
            a
        }
        ChangeVerdict::FirstSeen | ChangeVerdict::Same => return None,
    };
    alert = alert
        .detail("Target", name)
        .detail("New certificate", &leaf.subject)
        .detail("New issuer", &leaf.issuer)
        .detail("New valid until", format_time(leaf.not_after))
        .detail("New SHA-256", &leaf.sha256)
        .detail("Previous certificate", &previous.subject)
        .detail("Previous valid until", &previous.not_after)
        .detail("Previous SHA-256", &previous.sha256);
    alert = alert.detail("WS interface", WS_INTERFACE_CLOSES);
    if matches!(verdict, ChangeVerdict::Changed { .. }) {
        alert = alert.detail("Certificate (Base64, public part only)", leaf.pem());
    }
    Some(alert)
}
