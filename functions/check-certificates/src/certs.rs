//! Turning what a source holds into certificates: PEM (one or a bundle), DER in Base64, or
//! PKCS#12 (modern AES or legacy 3DES/RC2), and reading the facts the checker needs from each
//! certificate.
//!
//! Everything that fails here is [`Unreadable`], a state of its own: a parse error or a wrong
//! password must never look like an expired certificate (ssl-cert-check once reported −2458529
//! days for a file it could not read). No error carries the input: it may hold a private key or
//! a password.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::CertificateDer;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use suomifi_shared::sensitive::Password;
use time::OffsetDateTime;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a source's content yields no usable certificate. Never quotes the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// Nothing there.
    #[error("the content is empty")]
    Empty,
    /// Has PEM armour but no `CERTIFICATE` block.
    #[error("the PEM holds no CERTIFICATE block (found: {0})")]
    NoCertificateInPem(String),
    /// A PEM `CERTIFICATE` block is broken.
    #[error("PEM CERTIFICATE block #{index} is broken: {reason}")]
    BadPem {
        /// Which block, from 0.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Neither PEM nor Base64.
    #[error("the content is neither PEM nor Base64")]
    NotPemOrBase64,
    /// Decoded bytes that are neither an X.509 certificate nor PKCS#12.
    #[error("certificate #{index} is not a valid X.509 certificate: {reason}")]
    NotACertificate {
        /// Position in the chain, from 0.
        index: usize,
        /// The parser's reason (about structure, never content).
        reason: String,
    },
    /// The PKCS#12 integrity check failed: the password is wrong (or the file was altered).
    #[error("the PKCS#12 password is wrong (or the keystore was altered): {0}")]
    Pkcs12WrongPassword(&'static str),
    /// The PKCS#12 structure cannot be read.
    #[error("the PKCS#12 keystore cannot be read: {0}")]
    Pkcs12(String),
    /// The PKCS#12 keystore holds no certificate.
    #[error("the PKCS#12 keystore holds no certificate")]
    Pkcs12NoCertificate,
    /// `jsonKey` is configured but the secret is not a JSON object.
    #[error("the secret is not a JSON object, but `jsonKey` is set")]
    NotJsonObject,
    /// The secret is a JSON object but no `jsonKey` says which key holds the certificate.
    #[error(
        "the secret is a JSON object (keys: {0}); set `jsonKey` to the key that holds the certificate"
    )]
    JsonWithoutKey(String),
    /// A configured key is missing from the secret, or is not a string.
    #[error("the secret has no string `{0}`")]
    MissingKey(String),
    /// `jsonKey` is set but the secret is binary.
    #[error("the secret is binary, but `jsonKey` is set")]
    BinaryWithJsonKey,
    /// A source returned something this function does not understand.
    #[error("{0}")]
    Other(String),
}

/// A secret's value as Secrets Manager returns it. `Debug` never shows the content.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretPayload {
    /// `SecretString`.
    Text(String),
    /// `SecretBinary`.
    Binary(Vec<u8>),
}

impl fmt::Debug for SecretPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => write!(f, "Text(*** {} chars)", s.len()),
            Self::Binary(b) => write!(f, "Binary(*** {} bytes)", b.len()),
        }
    }
}

/// Extracts the certificates of a secret, in the order found (PKCS#12: leaf first).
///
/// `json_key` names the key of a JSON secret holding the certificate; `password_key` the key
/// holding a PKCS#12 password (without it an empty password is tried, as for truststores).
pub fn certificates_from_secret(
    payload: &SecretPayload,
    json_key: Option<&str>,
    password_key: Option<&str>,
) -> Result<Vec<CertificateDer<'static>>, Unreadable> {
    match payload {
        SecretPayload::Binary(bytes) => {
            if json_key.is_some() {
                return Err(Unreadable::BinaryWithJsonKey);
            }
            certificates_from_bytes(bytes, &Password::new(""))
        }
        SecretPayload::Text(text) => match json_key {
            None => {
                if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Err(Unreadable::JsonWithoutKey(keys.join(", ")));
                }
                certificates_from_bytes(text.as_bytes(), &Password::new(""))
            }
            Some(key) => {
                let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
                    return Err(Unreadable::NotJsonObject);
                };
                let string_at = |k: &str| match map.get(k) {
                    Some(Value::String(s)) => Ok(s.as_str()),
                    _ => Err(Unreadable::MissingKey(k.to_owned())),
                };
                let content = string_at(key)?;
                let password = match password_key {
                    Some(pk) => Password::new(string_at(pk)?),
                    None => Password::new(""),
                };
                certificates_from_bytes(content.as_bytes(), &password)
            }
        },
    }
}

/// Extracts certificates from PEM text, Base64 text (of DER or PKCS#12) or raw DER/PKCS#12.
pub fn certificates_from_bytes(
    input: &[u8],
    password: &Password,
) -> Result<Vec<CertificateDer<'static>>, Unreadable> {
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(Unreadable::Empty);
    }
    if contains(input, b"-----BEGIN") {
        return certificates_from_pem(input);
    }
    // Text that is all Base64 alphabet is Base64 (DER or PKCS#12 encoded); raw DER and PKCS#12
    // start with an ASN.1 SEQUENCE (0x30) and always contain bytes outside that alphabet.
    let der = if is_base64_text(input) {
        let compact: Vec<u8> = input
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        BASE64
            .decode(&compact)
            .map_err(|_| Unreadable::NotPemOrBase64)?
    } else if input.first() == Some(&0x30) {
        input.to_vec()
    } else {
        return Err(Unreadable::NotPemOrBase64);
    };
    if der.is_empty() {
        return Err(Unreadable::Empty);
    }
    if looks_like_pkcs12(&der) {
        certificates_from_pkcs12(&der, password)
    } else {
        // Validate now, so a corrupt DER is reported as unreadable here and not later.
        parse_x509(&der, 0)?;
        Ok(vec![CertificateDer::from(der)])
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_base64_text(input: &[u8]) -> bool {
    input.iter().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
    })
}

/// A PFX is `SEQUENCE { INTEGER 3, ... }`; a certificate is `SEQUENCE { SEQUENCE ... }`. The
/// second element tells them apart without trying a password on something that isn't PKCS#12.
fn looks_like_pkcs12(der: &[u8]) -> bool {
    if der.first() != Some(&0x30) || der.len() < 2 {
        return false;
    }
    let header = match der[1] {
        n if n < 0x80 => 2,
        n => 2 + usize::from(n & 0x7f),
    };
    der.get(header..header + 3) == Some(&[0x02, 0x01, 0x03])
}

/// All `CERTIFICATE` blocks of a PEM text. Other blocks (private keys!) are skipped without
/// being decoded. Tolerates CRLF, indentation and the literal `\n` sequences left behind when a
/// PEM was pasted through a JSON or shell string.
pub fn certificates_from_pem(input: &[u8]) -> Result<Vec<CertificateDer<'static>>, Unreadable> {
    let text = String::from_utf8_lossy(input).replace("\\n", "\n");
    let mut certs = Vec::new();
    let mut other_labels = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            return Err(Unreadable::BadPem {
                index: certs.len(),
                reason: "a BEGIN line is not closed by -----",
            });
        };
        let label = after[..label_end].trim().to_owned();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_marker) else {
            if label == "CERTIFICATE" {
                return Err(Unreadable::BadPem {
                    index: certs.len(),
                    reason: "no END CERTIFICATE line",
                });
            }
            // A truncated key block after the certificates: nothing of ours is missing.
            break;
        };
        if label == "CERTIFICATE" {
            let index = certs.len();
            let body: String = body_start[..body_end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if body.is_empty() {
                return Err(Unreadable::BadPem {
                    index,
                    reason: "the block is empty",
                });
            }
            let der = BASE64
                .decode(body.as_bytes())
                .map_err(|_| Unreadable::BadPem {
                    index,
                    reason: "the block is not valid Base64",
                })?;
            parse_x509(&der, index)?;
            certs.push(CertificateDer::from(der));
        } else if !other_labels.contains(&label) {
            other_labels.push(label);
        }
        rest = &body_start[body_end + end_marker.len()..];
    }
    if certs.is_empty() {
        let found = if other_labels.is_empty() {
            "no complete block".to_owned()
        } else {
            other_labels.join(", ")
        };
        return Err(Unreadable::NoCertificateInPem(found));
    }
    Ok(certs)
}

/// The certificates of a PKCS#12 keystore, the one matching a private key first, then its
/// issuers in order, then any others. The decrypted private keys are dropped at once.
pub fn certificates_from_pkcs12(
    der: &[u8],
    password: &Password,
) -> Result<Vec<CertificateDer<'static>>, Unreadable> {
    use p12_keystore::error::Error as P12Error;
    let archive =
        p12_keystore::Pkcs12Archive::from_pkcs12(der, password.expose()).map_err(|e| match e {
            P12Error::MacError(_) => {
                Unreadable::Pkcs12WrongPassword("the integrity check (MAC) failed")
            }
            // Without a MAC, a wrong password shows up as garbage after decryption.
            P12Error::UnpadError | P12Error::InvalidData | P12Error::Pkcs5Error(_) => {
                Unreadable::Pkcs12WrongPassword("the content does not decrypt")
            }
            P12Error::UnsupportedEncryptionScheme => {
                Unreadable::Pkcs12("unsupported encryption scheme".into())
            }
            P12Error::UnsupportedMacAlgorithm => {
                Unreadable::Pkcs12("unsupported MAC algorithm".into())
            }
            P12Error::InvalidVersion => Unreadable::Pkcs12("not a version 3 PFX".into()),
            P12Error::DerError(e) => {
                Unreadable::Pkcs12(format!("malformed structure ({})", e.kind()))
            }
            other => Unreadable::Pkcs12(other.to_string()),
        })?;
    let key_ids: Vec<Vec<u8>> = archive
        .keys
        .iter()
        .filter_map(|k| k.local_key_id.as_ref().map(|id| id.0.clone()))
        .collect();
    // Only certificate facts leave this function; the key bags are dropped with `archive`.
    let mut certs: Vec<(Vec<u8>, bool)> = archive
        .certs
        .iter()
        .map(|bag| {
            let is_leaf = bag
                .local_key_id
                .as_ref()
                .is_some_and(|id| key_ids.contains(id));
            (bag.cert.as_der().to_vec(), is_leaf)
        })
        .collect();
    drop(archive);
    if certs.is_empty() {
        return Err(Unreadable::Pkcs12NoCertificate);
    }
    // Leaf first (stable otherwise), then order the rest by issuer links.
    certs.sort_by_key(|(_, is_leaf)| !*is_leaf);
    let ders: Vec<Vec<u8>> = certs.into_iter().map(|(d, _)| d).collect();
    for (i, d) in ders.iter().enumerate() {
        parse_x509(d, i)?;
    }
    Ok(order_by_issuer(ders)
        .into_iter()
        .map(CertificateDer::from)
        .collect())
}

/// Keeps the first certificate first, then follows issuer → subject links through the rest;
/// certificates off that path keep their relative order at the end.
fn order_by_issuer(mut ders: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    if ders.len() < 3 {
        // With two, either order is "leaf, other": nothing to gain.
        return ders;
    }
    let names = |d: &[u8]| {
        X509Certificate::from_der(d)
            .map(|(_, c)| (c.subject().as_raw().to_vec(), c.issuer().as_raw().to_vec()))
            .unwrap_or_default()
    };
    let mut ordered = vec![ders.remove(0)];
    loop {
        let (subject, issuer) = names(ordered.last().expect("non-empty"));
        if subject == issuer {
            break;
        }
        match ders.iter().position(|d| names(d).0 == issuer) {
            Some(i) => ordered.push(ders.remove(i)),
            None => break,
        }
    }
    ordered.extend(ders);
    ordered
}

fn parse_x509(der: &[u8], index: usize) -> Result<X509Certificate<'_>, Unreadable> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(Unreadable::NotACertificate {
            index,
            reason: "trailing data after the certificate".into(),
        }),
        Err(e) => Err(Unreadable::NotACertificate {
            index,
            reason: e.to_string(),
        }),
    }
}

/// The facts about one certificate that the checker uses. Public data only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The certificate itself (DER).
    pub der: CertificateDer<'static>,
    /// Subject distinguished name, RFC 4514 style (`CN=..., O=...`).
    pub subject: String,
    /// The subject's first common name, if any.
    pub common_name: Option<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// SHA-256 fingerprint of the DER, lower-case hex without separators.
    pub sha256: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Subject and issuer names are equal (a root, or a self-signed leaf).
    pub self_issued: bool,
    /// Authority key identifier (hex), when the certificate carries one.
    pub authority_key_id: Option<String>,
}

impl CertInfo {
    /// Reads the facts of a DER certificate; `index` is its chain position, for the error.
    pub fn parse(der: &CertificateDer<'_>, index: usize) -> Result<Self, Unreadable> {
        let cert = parse_x509(der.as_ref(), index)?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        let authority_key_id =
            cert.extensions()
                .iter()
                .find_map(|ext| match ext.parsed_extension() {
                    ParsedExtension::AuthorityKeyIdentifier(aki) => {
                        aki.key_identifier.as_ref().map(|k| hex(k.0))
                    }
                    _ => None,
                });
        Ok(Self {
            der: CertificateDer::from(der.as_ref().to_vec()),
            subject: cert.subject().to_string(),
            common_name,
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            sha256: hex(&Sha256::digest(der.as_ref())),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
            authority_key_id,
        })
    }

    /// The certificate as PEM, rebuilt from the parsed DER: this is what goes to DVV. Being
    /// re-encoded from one certificate's DER, it cannot carry a private key or anything else
    /// that sat beside the certificate in the source.
    pub fn pem(&self) -> String {
        let b64 = BASE64.encode(self.der.as_ref());
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("Base64 is ASCII"));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

/// Parses every certificate of a chain; the first failure makes the whole source unreadable.
pub fn parse_chain(chain: &[CertificateDer<'_>]) -> Result<Vec<CertInfo>, Unreadable> {
    if chain.is_empty() {
        return Err(Unreadable::Empty);
    }
    chain
        .iter()
        .enumerate()
        .map(|(i, d)| CertInfo::parse(d, i))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_are_unreadable_not_expired() {
        let pw = Password::new("");
        assert_eq!(certificates_from_bytes(b"", &pw), Err(Unreadable::Empty));
        assert_eq!(
            certificates_from_bytes(b" \n\t", &pw),
            Err(Unreadable::Empty)
        );
        assert_eq!(
            certificates_from_bytes("not a cert!".as_bytes(), &pw),
            Err(Unreadable::NotPemOrBase64)
        );
        assert!(matches!(
            certificates_from_bytes(b"QUJDRA==", &pw),
            Err(Unreadable::NotACertificate { index: 0, .. })
        ));
    }

    #[test]
    fn pem_without_certificate_names_what_it_found_but_not_the_content() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n";
        let err = certificates_from_pem(pem).unwrap_err();
        assert_eq!(err, Unreadable::NoCertificateInPem("PRIVATE KEY".into()));
        assert!(!err.to_string().contains("c2VjcmV0"));
    }

    #[test]
    fn corrupt_pem_blocks_are_reported_by_position() {
        let truncated = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert_eq!(
            certificates_from_pem(truncated),
            Err(Unreadable::BadPem {
                index: 0,
                reason: "no END CERTIFICATE line"
            })
        );
        let not_b64 = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(
            certificates_from_pem(not_b64),
            Err(Unreadable::BadPem {
                index: 0,
                reason: "the block is not valid Base64"
            })
        );
        let empty = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            certificates_from_pem(empty),
            Err(Unreadable::BadPem { .. })
        ));
        let not_x509 = b"-----BEGIN CERTIFICATE-----\nQUJDRA==\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            certificates_from_pem(not_x509),
            Err(Unreadable::NotACertificate { .. })
        ));
    }

    #[test]
    fn json_secrets_need_the_configured_keys() {
        let obj = SecretPayload::Text(r#"{"cert": "x", "password": "hunter2"}"#.into());
        let err = certificates_from_secret(&obj, None, None).unwrap_err();
        assert_eq!(err, Unreadable::JsonWithoutKey("cert, password".into()));
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(
            certificates_from_secret(&obj, Some("pem"), None),
            Err(Unreadable::MissingKey("pem".into()))
        );
        assert_eq!(
            certificates_from_secret(&SecretPayload::Text("plain".into()), Some("pem"), None),
            Err(Unreadable::NotJsonObject)
        );
        assert_eq!(
            certificates_from_secret(&SecretPayload::Binary(vec![0x30]), Some("pem"), None),
            Err(Unreadable::BinaryWithJsonKey)
        );
    }

    #[test]
    fn payload_debug_hides_the_content() {
        let shown = format!(
            "{:?}",
            SecretPayload::Text("-----BEGIN PRIVATE KEY----- secret".into())
        );
        assert!(
            !shown.contains("secret") && shown.contains("***"),
            "{shown}"
        );
    }

    #[test]
    fn pkcs12_and_certificates_are_told_apart_by_their_second_element() {
        assert!(looks_like_pkcs12(&[
            0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03
        ]));
        assert!(looks_like_pkcs12(&[0x30, 0x10, 0x02, 0x01, 0x03]));
        assert!(!looks_like_pkcs12(&[0x30, 0x82, 0x01, 0x00, 0x30, 0x82]));
        assert!(!looks_like_pkcs12(&[0x30]));
    }
}
