//! Scene 4: a signing certificate close to expiry, then renewed by a new issuer.

use crate::setup::{CERT_SECRET, Demo};
use serde_json::json;
use time::OffsetDateTime;

impl Demo {
    /// Scene 4: an expiry alert; after the renewal `[RESOLVED]` and DVV's certificate-change
    /// instruction.
    pub(crate) async fn certificates(&mut self) -> Result<String, String> {
        let now = OffsetDateTime::now_utc();
        let cn = "Demo Municipality e-services signing";
        let (old_pem, _) = certificate(
            cn,
            "Demo Trust CA 2024",
            now - time::Duration::days(355),
            now + time::Duration::days(10) + time::Duration::hours(2),
        )?;
        self.sm
            .create_secret()
            .name(CERT_SECRET)
            .secret_string(old_pem)
            .send()
            .await
            .map_err(|e| format!("create certificate secret: {e:?}"))?;
        self.progress(&format!(
            "signing certificate CN={cn}, issued by Demo Trust CA 2024, expires in 10 days"
        ));
        self.progress("check-certificates (scheduled run):");
        let report = Self::invoke(&mut self.certificates, json!({})).await?;
        let t = &report["targets"][0];
        self.progress(&format!(
            "  report: via-signing {} , {} day(s) left",
            self.paint.yellow(t["status"].as_str().unwrap_or("?")),
            t["daysLeft"]
        ));
        ensure!(
            t["status"] == "warning" || t["status"] == "critical",
            "status {}",
            t["status"]
        );
        let first = self.show_notifications().await?;
        ensure!(
            first.len() == 1
                && (first[0].starts_with("[WARNING]") || first[0].starts_with("[CRITICAL]")),
            "expected one expiry alert, got {first:?}"
        );

        let (new_pem, _) = certificate(
            cn,
            "Demo Trust CA 2026 G2",
            now - time::Duration::days(1),
            now + time::Duration::days(730),
        )?;
        self.sm
            .put_secret_value()
            .secret_id(CERT_SECRET)
            .secret_string(new_pem)
            .send()
            .await
            .map_err(|e| format!("renew certificate: {e:?}"))?;
        self.progress("renewed: same CN, new issuer Demo Trust CA 2026 G2, valid 2 years");
        self.progress("check-certificates (next scheduled run):");
        let report = Self::invoke(&mut self.certificates, json!({})).await?;
        let t = &report["targets"][0];
        self.progress(&format!(
            "  report: via-signing {}, {} day(s) left, certificate {}",
            self.paint.green(t["status"].as_str().unwrap_or("?")),
            t["daysLeft"],
            t["change"]["verdict"]
        ));
        ensure!(
            t["status"] == "ok",
            "status {} after the renewal",
            t["status"]
        );
        ensure!(
            t["change"]["dvvSubmission"]["to"] == "organisaatiopalvelut@dvv.fi",
            "no DVV submission in the report: {}",
            t["change"]
        );
        let second = self.show_notifications().await?;
        ensure!(
            second.iter().any(|s| s.starts_with("[RESOLVED]")),
            "no [RESOLVED] for the expiry: {second:?}"
        );
        let dvv = self.published().await?;
        ensure!(
            dvv.iter()
                .rev()
                .take(second.len())
                .any(|p| p.structure["email"]
                    .as_str()
                    .is_some_and(|e| e.contains("organisaatiopalvelut@dvv.fi")
                        && e.contains("Certificate change"))),
            "no notification tells to send the certificate to DVV"
        );
        Ok(format!(
            "expiry alert, then {} (incl. DVV instruction)",
            second.len()
        ))
    }
}

/// A certificate for `cn` issued by a fresh CA named `issuer`: PEM of leaf and CA, and the CA PEM.
fn certificate(
    cn: &str,
    issuer: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(String, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
    let e = |e: rcgen::Error| e.to_string();
    let mut ca = CertificateParams::new(Vec::new()).map_err(e)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, issuer);
    dn.push(DnType::OrganizationName, "Demo Trust");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = not_before - time::Duration::days(30);
    ca.not_after = not_after + time::Duration::days(365);
    let ca_key = KeyPair::generate().map_err(e)?;
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).map_err(e)?;
    let mut leaf = CertificateParams::new(Vec::new()).map_err(e)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Demo Municipality");
    leaf.distinguished_name = dn;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let key = KeyPair::generate().map_err(e)?;
    let cert = leaf.signed_by(&key, &ca).map_err(e)?;
    Ok((format!("{}{}", cert.pem(), ca.pem()), ca.pem()))
}
