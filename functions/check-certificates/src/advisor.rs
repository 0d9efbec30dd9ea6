//! DVV's certificate-change rule, applied when a new certificate appears.
//!
//! DVV (Technical maintenance): to change the signing certificate installed on Valtori's Shared
//! Integration Platform (VIA), send the certificate's public part, Base64 encoded, to
//! [`DVV_ADDRESS`] with the subject [`DVV_SUBJECT`]. No submission is needed when the new
//! certificate keeps the same **common name and authority chain** (for example only the validity
//! changed): renewing it at the organisation's own dispatch point is then enough.
//!
//! The state table remembers each target's certificate ([`RememberedCert`]); when the
//! fingerprint changes, [`compare`] decides which half of the rule applies.

use crate::certs::CertInfo;
use serde::{Deserialize, Serialize};
use suomifi_shared::alerts::format_time;
use time::OffsetDateTime;

/// Where DVV wants certificate changes sent.
pub const DVV_ADDRESS: &str = "organisaatiopalvelut@dvv.fi";
/// The subject DVV asks for.
pub const DVV_SUBJECT: &str = "Certificate change";

/// One step up the authority chain: the name of an issuer and, when the certificate says, the
/// identifier of the issuer's key.
///
/// The key identifier matters: a CA that re-keys under the same name issues certificates that
/// VIA's installed chain would not validate, although every name is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorityLink {
    /// Issuer distinguished name.
    pub name: String,
    /// Authority key identifier (hex), if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl AuthorityLink {
    /// Same authority: same name, and the same key where both certificates name it.
    fn same_as(&self, other: &Self) -> bool {
        self.name == other.name
            && match (&self.key_id, &other.key_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// The authority chain of `chain[0]`: its issuer, that issuer's issuer (when the chain carries
/// the intermediate), and so on, following names through the certificates present.
pub fn authority_chain(chain: &[CertInfo]) -> Vec<AuthorityLink> {
    let Some(leaf) = chain.first() else {
        return Vec::new();
    };
    let mut links = vec![AuthorityLink {
        name: leaf.issuer.clone(),
        key_id: leaf.authority_key_id.clone(),
    }];
    let mut used = vec![0];
    let mut current = leaf;
    while !current.self_issued {
        let next = chain
            .iter()
            .enumerate()
            .find(|(i, c)| !used.contains(i) && c.subject == current.issuer);
        let Some((i, issuer)) = next else { break };
        used.push(i);
        if issuer.self_issued {
            break;
        }
        links.push(AuthorityLink {
            name: issuer.issuer.clone(),
            key_id: issuer.authority_key_id.clone(),
        });
        current = issuer;
    }
    links
}

/// What the state table keeps about a target's certificate between runs. Public facts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RememberedCert {
    /// Fingerprint of the end-entity certificate.
    pub sha256: String,
    /// Its subject.
    pub subject: String,
    /// Its common name.
    #[serde(default)]
    pub common_name: Option<String>,
    /// Its issuer.
    pub issuer: String,
    /// Its authority chain.
    pub authority_chain: Vec<AuthorityLink>,
    /// Its end of validity (RFC 3339).
    pub not_after: String,
    /// Fingerprint of the certificate that governed the chain's expiry: when it changes, the
    /// expiry problem was fixed by a renewal, even if the leaf stayed the same.
    pub expiring_sha256: String,
    /// When this certificate was first seen (RFC 3339).
    pub first_seen: String,
}

impl RememberedCert {
    /// The facts of `chain` (leaf first); `expiring` is the governing certificate's index.
    pub fn from_chain(chain: &[CertInfo], expiring: usize, now: OffsetDateTime) -> Self {
        let leaf = &chain[0];
        Self {
            sha256: leaf.sha256.clone(),
            subject: leaf.subject.clone(),
            common_name: leaf.common_name.clone(),
            issuer: leaf.issuer.clone(),
            authority_chain: authority_chain(chain),
            not_after: format_time(leaf.not_after),
            expiring_sha256: chain[expiring].sha256.clone(),
            first_seen: format_time(now),
        }
    }
}

/// What changed since the previous run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeVerdict {
    /// Nothing was remembered: this is the first run for the target.
    FirstSeen,
    /// The same certificate as before.
    Same,
    /// A new certificate with the same common name and authority chain: no submission to DVV.
    Renewed,
    /// A new certificate whose common name or authority chain differs: DVV needs it.
    Changed {
        /// The common name differs.
        common_name: bool,
        /// The authority chain differs.
        authority: bool,
    },
}

impl ChangeVerdict {
    /// Name for reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FirstSeen => "firstSeen",
            Self::Same => "same",
            Self::Renewed => "renewedSameIdentity",
            Self::Changed { .. } => "changed",
        }
    }
}

/// Applies DVV's rule to the previous and the current certificate.
///
/// Authority chains are compared as far as both are known: a store that keeps the leaf alone
/// yields only its issuer, and that link — issuer name plus the issuer's key identifier —
/// already pins the issuing CA. A bundle that once carried the intermediate and now does not
/// is no change of authority.
pub fn compare(previous: Option<&RememberedCert>, current: &RememberedCert) -> ChangeVerdict {
    let Some(prev) = previous else {
        return ChangeVerdict::FirstSeen;
    };
    if prev.sha256 == current.sha256 {
        return ChangeVerdict::Same;
    }
    let common_name = prev.common_name != current.common_name;
    let authority = prev.authority_chain.is_empty() != current.authority_chain.is_empty()
        || prev
            .authority_chain
            .iter()
            .zip(&current.authority_chain)
            .any(|(a, b)| !a.same_as(b));
    if common_name || authority {
        ChangeVerdict::Changed {
            common_name,
            authority,
        }
    } else {
        ChangeVerdict::Renewed
    }
}

/// How an authority chain reads in a notification: `CN=Issuing CA ← CN=Root CA`.
pub fn describe_chain(links: &[AuthorityLink]) -> String {
    if links.is_empty() {
        return "(none)".into();
    }
    links
        .iter()
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(" ← ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered(sha: &str, cn: &str, chain: &[(&str, Option<&str>)]) -> RememberedCert {
        RememberedCert {
            sha256: sha.into(),
            subject: format!("CN={cn}"),
            common_name: Some(cn.into()),
            issuer: chain[0].0.into(),
            authority_chain: chain
                .iter()
                .map(|(n, k)| AuthorityLink {
                    name: (*n).into(),
                    key_id: k.map(str::to_owned),
                })
                .collect(),
            not_after: "2027-01-01T00:00:00Z".into(),
            expiring_sha256: sha.into(),
            first_seen: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn first_sighting_and_the_same_certificate_need_nothing() {
        let a = remembered("aa", "org.example", &[("CN=CA", Some("01"))]);
        assert_eq!(compare(None, &a), ChangeVerdict::FirstSeen);
        assert_eq!(compare(Some(&a), &a.clone()), ChangeVerdict::Same);
    }

    #[test]
    fn same_name_and_authority_is_a_renewal_without_submission() {
        let old = remembered(
            "aa",
            "org.example",
            &[("CN=CA", Some("01")), ("CN=Root", None)],
        );
        let new = remembered(
            "bb",
            "org.example",
            &[("CN=CA", Some("01")), ("CN=Root", None)],
        );
        assert_eq!(compare(Some(&old), &new), ChangeVerdict::Renewed);
        // A bundle without the intermediate this time is no change of authority.
        let leaf_only = remembered("cc", "org.example", &[("CN=CA", Some("01"))]);
        assert_eq!(compare(Some(&old), &leaf_only), ChangeVerdict::Renewed);
    }

    #[test]
    fn a_new_name_or_a_new_authority_must_go_to_dvv() {
        let old = remembered("aa", "org.example", &[("CN=CA", Some("01"))]);
        let renamed = remembered("bb", "new.example", &[("CN=CA", Some("01"))]);
        assert_eq!(
            compare(Some(&old), &renamed),
            ChangeVerdict::Changed {
                common_name: true,
                authority: false
            }
        );
        let other_ca = remembered("bb", "org.example", &[("CN=Other CA", Some("02"))]);
        assert_eq!(
            compare(Some(&old), &other_ca),
            ChangeVerdict::Changed {
                common_name: false,
                authority: true
            }
        );
        // Same CA name, new CA key: VIA's installed chain would not validate it.
        let rekeyed = remembered("bb", "org.example", &[("CN=CA", Some("99"))]);
        assert_eq!(
            compare(Some(&old), &rekeyed),
            ChangeVerdict::Changed {
                common_name: false,
                authority: true
            }
        );
    }

    #[test]
    fn chains_read_from_the_issuer_upwards() {
        let links = [
            AuthorityLink {
                name: "CN=Issuing".into(),
                key_id: None,
            },
            AuthorityLink {
                name: "CN=Root".into(),
                key_id: None,
            },
        ];
        assert_eq!(describe_chain(&links), "CN=Issuing ← CN=Root");
    }

    #[test]
    fn the_record_round_trips_through_json() {
        let a = remembered("aa", "org.example", &[("CN=CA", Some("01"))]);
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["authorityChain"][0]["keyId"], "01");
        assert_eq!(serde_json::from_value::<RememberedCert>(v).unwrap(), a);
    }
}
