//! Test certificates made with rcgen at test time (never checked-in files that expire), a local
//! TLS server on loopback, and the in-memory sources (the crate's `testing` feature).

pub use check_certificates::testing::{FakeAcm, FakeSecrets};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;

/// "Now" for certificates and the manual clock alike, whole seconds (X.509 has no fractions).
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

/// A day.
pub fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

/// A CA (root or intermediate) that can sign.
pub struct Ca {
    pub issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }
}

pub fn ca_params(
    cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "Test Org");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = true;
    p.not_before = not_before;
    p.not_after = not_after;
    p
}

/// A self-signed root.
pub fn root(cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Ca {
    let key = KeyPair::generate().unwrap();
    Ca {
        issuer: CertifiedIssuer::self_signed(ca_params(cn, not_before, not_after), key).unwrap(),
    }
}

/// An intermediate signed by `parent`.
pub fn intermediate(
    parent: &Ca,
    cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Ca {
    let key = KeyPair::generate().unwrap();
    Ca {
        issuer: CertifiedIssuer::signed_by(
            ca_params(cn, not_before, not_after),
            key,
            &parent.issuer,
        )
        .unwrap(),
    }
}

/// A cross-certificate: `subject`'s name and key, signed by `by` — what servers send along as
/// an "extra root" (Let's Encrypt's ISRG Root X1 cross-signed by DST Root CA X3, say).
pub fn cross_sign(
    subject_cn: &str,
    subject_key: &KeyPair,
    by: &Ca,
    not_after: OffsetDateTime,
) -> CertificateDer<'static> {
    let p = ca_params(subject_cn, not_after - days(3000), not_after);
    p.signed_by(subject_key, &by.issuer).unwrap().der().clone()
}

/// An end-entity certificate and its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key: KeyPair,
}

impl Leaf {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

/// A leaf for `cn` (also its DNS name) valid from `not_before` to `not_after`, signed by `ca`.
pub fn leaf(ca: &Ca, cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![cn.to_owned()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.use_authority_key_identifier_extension = true;
    p.not_before = not_before;
    p.not_after = not_after;
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    Leaf {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
    }
}

/// A leaf expiring `in_days` from `at`, issued long ago (so every threshold applies).
pub fn leaf_expiring(ca: &Ca, cn: &str, at: OffsetDateTime, in_days: i64) -> Leaf {
    leaf(ca, cn, at - days(300), at + days(in_days))
}

/// A PKCS#12 keystore of `leaf` and `chain` with `password`, in the given encryption.
pub fn pkcs12(
    leaf: &Leaf,
    chain: &[CertificateDer<'static>],
    password: &str,
    encryption: p12_keystore::EncryptionAlgorithm,
    mac: p12_keystore::MacAlgorithm,
) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let mut certs = vec![Certificate::from_der(leaf.der.as_ref()).unwrap()];
    certs.extend(
        chain
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).unwrap()),
    );
    let key = PrivateKey::from_der(&leaf.key.serialize_der()).unwrap();
    let mut ks = KeyStore::new();
    ks.add_entry(
        "signing",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(b"key-1".as_slice(), key, certs)),
    );
    ks.writer(password)
        .encryption_algorithm(encryption)
        .mac_algorithm(mac)
        .encryption_iterations(2048)
        .mac_iterations(2048)
        .write()
        .unwrap()
}

/// Base64 of bytes.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A TLS server on 127.0.0.1 presenting `chain` (leaf first, exactly as given). Returns its
/// port; the server lives as long as the test's runtime.
pub async fn serve_tls(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    tls12_only: bool,
) -> u16 {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 64];
                    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf)).await;
                }
            });
        }
    });
    port
}

/// A TCP server that accepts and then says nothing: a TLS handshake with it never completes.
pub async fn serve_silence() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    port
}
