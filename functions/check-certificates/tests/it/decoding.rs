//! Reading certificates out of what a source holds, with real rcgen certificates and
//! PKCS#12 keystores written by p12-keystore in the modern and the legacy encodings.

use crate::support::*;
use check_certificates::certs::{
    CertInfo, SecretPayload, Unreadable, certificates_from_bytes, certificates_from_secret,
    parse_chain,
};
use p12_keystore::{EncryptionAlgorithm, MacAlgorithm};
use sha2::Digest;
use suomifi_shared::sensitive::Password;

struct Fixture {
    ca: Ca,
    int: Ca,
    leaf: Leaf,
}

fn fixture() -> Fixture {
    let t = now();
    let ca = root("Decode Root", t - days(1000), t + days(3000));
    let int = intermediate(&ca, "Decode Issuing CA", t - days(500), t + days(1000));
    let leaf = leaf_expiring(&int, "signing.org.example", t, 200);
    Fixture { ca, int, leaf }
}

#[test]
fn a_pem_bundle_with_a_private_key_yields_only_the_certificates() {
    let f = fixture();
    let bundle = format!(
        "{}{}{}",
        f.leaf.pem,
        f.leaf.key.serialize_pem(),
        f.int.pem()
    );
    let certs = certificates_from_bytes(bundle.as_bytes(), &Password::new("")).unwrap();
    assert_eq!(certs, vec![f.leaf.der.clone(), f.int.der()]);
    // Pasted through a JSON string with literal \n and CRLF: still readable.
    let mangled = f.leaf.pem.replace('\n', "\\n");
    assert_eq!(
        certificates_from_bytes(mangled.as_bytes(), &Password::new("")).unwrap(),
        vec![f.leaf.der.clone()]
    );
    let crlf = f.leaf.pem.replace('\n', "\r\n");
    assert_eq!(
        certificates_from_bytes(crlf.as_bytes(), &Password::new("")).unwrap(),
        vec![f.leaf.der.clone()]
    );
}

#[test]
fn der_in_base64_and_raw_der_are_read() {
    let f = fixture();
    let b64_text = b64(f.leaf.der.as_ref());
    let wrapped: String = b64_text
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap().to_owned() + "\n")
        .collect();
    for input in [
        b64_text.into_bytes(),
        wrapped.into_bytes(),
        f.leaf.der.to_vec(),
    ] {
        assert_eq!(
            certificates_from_bytes(&input, &Password::new("")).unwrap(),
            vec![f.leaf.der.clone()]
        );
    }
    let binary = SecretPayload::Binary(f.leaf.der.to_vec());
    assert_eq!(
        certificates_from_secret(&binary, None, None).unwrap(),
        vec![f.leaf.der.clone()]
    );
}

#[test]
fn pkcs12_is_read_in_modern_aes_and_legacy_3des_and_rc2_encodings() {
    let f = fixture();
    let encodings = [
        (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
        // p12-keystore's name for pbeWithSHAAnd40BitRC2-CBC, OpenSSL 1.x's certificate-bag default.
        (
            EncryptionAlgorithm::PbeWithShaAnd40BitRc4Cbc,
            MacAlgorithm::HmacSha1,
        ),
    ];
    for (enc, mac) in encodings {
        // The root before the intermediate: the reader orders by issuer links.
        let p12 = pkcs12(
            &f.leaf,
            &[f.ca.der(), f.int.der()],
            "correct horse",
            enc,
            mac,
        );
        let secret = SecretPayload::Text(
            serde_json::json!({"p12": b64(&p12), "password": "correct horse", "note": "kept"})
                .to_string(),
        );
        let certs = certificates_from_secret(&secret, Some("p12"), Some("password")).unwrap();
        assert_eq!(
            certs,
            vec![f.leaf.der.clone(), f.int.der(), f.ca.der()],
            "{enc:?}"
        );

        let wrong = SecretPayload::Text(
            serde_json::json!({"p12": b64(&p12), "password": "Tr0ub4dor"}).to_string(),
        );
        let err = certificates_from_secret(&wrong, Some("p12"), Some("password")).unwrap_err();
        assert!(
            matches!(err, Unreadable::Pkcs12WrongPassword(_)),
            "{enc:?}: {err:?}"
        );
        assert!(
            !err.to_string().contains("Tr0ub4dor") && !err.to_string().contains("correct horse")
        );

        // Raw binary PKCS#12 (SecretBinary) without a password key: the empty password is tried.
        let err =
            certificates_from_secret(&SecretPayload::Binary(p12.clone()), None, None).unwrap_err();
        assert!(matches!(err, Unreadable::Pkcs12WrongPassword(_)), "{err:?}");
    }
    let open = pkcs12(
        &f.leaf,
        &[],
        "",
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        MacAlgorithm::HmacSha256,
    );
    assert_eq!(
        certificates_from_secret(&SecretPayload::Binary(open), None, None).unwrap(),
        vec![f.leaf.der.clone()]
    );
}

#[test]
fn a_truncated_pkcs12_is_unreadable() {
    let f = fixture();
    let p12 = pkcs12(
        &f.leaf,
        &[],
        "pw",
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        MacAlgorithm::HmacSha256,
    );
    let err = certificates_from_bytes(&p12[..p12.len() / 2], &Password::new("pw")).unwrap_err();
    assert!(matches!(err, Unreadable::Pkcs12(_)), "{err:?}");
}

#[test]
fn certificate_facts_are_read_and_the_pem_is_rebuilt_from_the_certificate_alone() {
    let f = fixture();
    let p12 = pkcs12(
        &f.leaf,
        &[f.int.der()],
        "pw",
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        MacAlgorithm::HmacSha256,
    );
    let certs = certificates_from_bytes(&p12, &Password::new("pw")).unwrap();
    let chain = parse_chain(&certs).unwrap();
    let leaf = &chain[0];
    assert_eq!(leaf.common_name.as_deref(), Some("signing.org.example"));
    assert_eq!(leaf.subject, "CN=signing.org.example");
    assert_eq!(leaf.issuer, "CN=Decode Issuing CA, O=Test Org");
    assert_eq!(
        leaf.sha256,
        format!("{:x}", sha2::Sha256::digest(f.leaf.der.as_ref()))
    );
    assert!(leaf.authority_key_id.is_some());
    assert!(!leaf.self_issued);
    assert!(parse_chain(&[f.ca.der()]).unwrap()[0].self_issued);

    let pem = leaf.pem();
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE-----\n")
            && pem.ends_with("-----END CERTIFICATE-----\n")
    );
    assert!(!pem.contains("PRIVATE KEY"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    let again = certificates_from_bytes(pem.as_bytes(), &Password::new("")).unwrap();
    assert_eq!(again, vec![f.leaf.der.clone()]);
    assert_eq!(CertInfo::parse(&again[0], 0).unwrap(), *leaf);
}

#[test]
fn corrupt_input_is_unreadable_never_expired() {
    let f = fixture();
    let mut broken = f.leaf.pem.clone().into_bytes();
    let mid = broken.len() / 2;
    broken[mid] = b'*';
    assert!(matches!(
        certificates_from_bytes(&broken, &Password::new("")),
        Err(Unreadable::BadPem { index: 0, .. })
    ));
    let mut der = f.leaf.der.to_vec();
    der.truncate(der.len() - 10);
    assert!(matches!(
        certificates_from_bytes(&der, &Password::new("")),
        Err(Unreadable::NotACertificate { .. })
    ));
    assert_eq!(
        certificates_from_secret(&SecretPayload::Text(String::new()), None, None),
        Err(Unreadable::Empty)
    );
}
