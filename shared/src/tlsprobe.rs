//! TLS handshake probe: the negotiated TLS version and the certificate chain a server presents,
//! captured **even when verification fails**.
//!
//! A monitor that lets the handshake fail on an invalid certificate learns nothing about the very
//! certificate it is there to watch (blackbox_exporter lost all its metrics for an expired
//! certificate). So the probe installs a [`ServerCertVerifier`] that asks rustls' real WebPKI
//! verifier for its verdict, *records* it, and lets the handshake complete. The verdict is then
//! reported beside the chain ([`TlsProbe::verification`]) instead of replacing it.
//!
//! The probe sends no application data: it completes the handshake, reads the chain and the
//! negotiated version, and closes the connection. Accepting an unverified server is harmless for
//! that reason alone — never reuse this configuration for a connection that carries data.
//!
//! TLS 1.2 is the minimum offered (DVV says TLS 1.3 will be required; reporting the negotiated
//! version lets the checkers show which hosts still stop at 1.2).

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{
    CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where to connect and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Host name or IP address to connect to.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Name to send as SNI and to verify the certificate against; `None` uses `host`. Lets a
    /// probe reach a server by address (or through a tunnel) while checking the real name.
    pub sni: Option<String>,
    /// Budget for the whole probe: name resolution, TCP connect and TLS handshake.
    pub timeout: Duration,
}

impl ProbeTarget {
    /// A target verified against its own host name.
    pub fn new(host: impl Into<String>, port: u16, timeout: Duration) -> Self {
        Self {
            host: host.into(),
            port,
            sni: None,
            timeout,
        }
    }

    /// The name sent as SNI and verified: `sni` if set, `host` otherwise.
    pub fn server_name(&self) -> &str {
        self.sni.as_deref().unwrap_or(&self.host)
    }

    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The negotiated protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// `TLSv1.2` / `TLSv1.3`, the spelling OpenSSL and most dashboards use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls12 => "TLSv1.2",
            Self::Tls13 => "TLSv1.3",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the presented chain did not verify, grouped so callers can decide without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// A certificate on the path has expired.
    Expired,
    /// A certificate on the path is not valid yet.
    NotYetValid,
    /// No path to a trusted root.
    UnknownIssuer,
    /// The certificate is not valid for the name that was checked.
    NameMismatch,
    /// A certificate was revoked.
    Revoked,
    /// A signature on the path is invalid or uses an unsupported algorithm.
    BadSignature,
    /// A certificate could not be parsed.
    BadEncoding,
    /// Anything else (wrong key usage, unhandled critical extension, ...).
    Other,
}

impl FailureKind {
    /// Stable lower-case name for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "notYetValid",
            Self::UnknownIssuer => "unknownIssuer",
            Self::NameMismatch => "nameMismatch",
            Self::Revoked => "revoked",
            Self::BadSignature => "badSignature",
            Self::BadEncoding => "badEncoding",
            Self::Other => "other",
        }
    }

    /// Whether the failure is only about time (the certificate's validity period); a checker
    /// that already reports validity periods need not raise it a second time.
    pub fn is_time_related(self) -> bool {
        matches!(self, Self::Expired | Self::NotYetValid)
    }
}

/// The verifier's verdict on a chain that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationFailure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// rustls' own description (names the expected and presented names for a mismatch).
    pub detail: String,
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

impl VerificationFailure {
    fn from_rustls(err: &TlsError) -> Self {
        let kind = match err {
            TlsError::InvalidCertificate(c) => match c {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    FailureKind::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    FailureKind::NotYetValid
                }
                CertificateError::UnknownIssuer => FailureKind::UnknownIssuer,
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => FailureKind::NameMismatch,
                CertificateError::Revoked => FailureKind::Revoked,
                CertificateError::BadSignature
                | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
                | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    FailureKind::BadSignature
                }
                CertificateError::BadEncoding => FailureKind::BadEncoding,
                _ => FailureKind::Other,
            },
            _ => FailureKind::Other,
        };
        Self {
            kind,
            detail: err.to_string(),
        }
    }
}

/// What a completed handshake showed.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsProbe {
    /// The negotiated protocol version.
    pub tls_version: TlsVersion,
    /// The chain exactly as presented, end-entity certificate first (extra and out-of-order
    /// certificates included: judging them is the caller's business).
    pub chain: Vec<CertificateDer<'static>>,
    /// The WebPKI verdict for [`ProbeTarget::server_name`] at the time of the handshake.
    pub verification: Result<(), VerificationFailure>,
}

/// The probe could not complete a handshake, so there is no chain to report.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The SNI / verification name is neither a DNS name nor an IP address.
    #[error("`{0}` is not a valid server name")]
    InvalidServerName(String),
    /// The extra trust anchors or the rustls configuration were refused.
    #[error("TLS configuration: {0}")]
    Config(String),
    /// Resolution, connect and handshake together took longer than the budget.
    #[error("no TLS handshake with {address} within {} s", .after.as_secs_f32())]
    Timeout {
        /// `host:port`.
        address: String,
        /// The budget that ran out.
        after: Duration,
    },
    /// Name resolution or TCP connect failed.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// `host:port`.
        address: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake failed (protocol version, cipher suites, alert from the server, ...).
    #[error("TLS handshake with {address} failed: {source}")]
    Handshake {
        /// `host:port`.
        address: String,
        /// The I/O error wrapping the rustls error.
        #[source]
        source: std::io::Error,
    },
    /// The server completed a handshake without presenting any certificate.
    #[error("{address} presented no certificate")]
    NoCertificate {
        /// `host:port`.
        address: String,
    },
}

/// Probes TLS servers against the public WebPKI roots (`webpki-roots`) plus any extra trust
/// anchors. Build it once and reuse it: the root store is parsed once.
#[derive(Clone)]
pub struct TlsProber {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
}

impl fmt::Debug for TlsProber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsProber").finish_non_exhaustive()
    }
}

impl TlsProber {
    /// A prober that trusts the public WebPKI roots only.
    pub fn new() -> Self {
        Self::with_extra_roots(Vec::new())
            .expect("the bundled WebPKI roots always build a verifier")
    }

    /// A prober that trusts the public WebPKI roots and `extra_roots` (a private CA, or a test
    /// CA). Fails when an extra root cannot be used as a trust anchor.
    pub fn with_extra_roots(extra_roots: Vec<CertificateDer<'static>>) -> Result<Self, ProbeError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for (i, root) in extra_roots.into_iter().enumerate() {
            roots
                .add(root)
                .map_err(|e| ProbeError::Config(format!("extra trust anchor #{i}: {e}")))?;
        }
        // An explicit provider: the process-wide default may be unset, or ambiguous when several
        // crates enable different rustls back ends.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| ProbeError::Config(e.to_string()))?;
        Ok(Self { provider, verifier })
    }

    /// Connects, completes a TLS handshake and reports what the server presented.
    ///
    /// Verification failures are *not* errors: they are in [`TlsProbe::verification`]. Errors
    /// mean no handshake happened (unreachable, timeout, protocol failure).
    pub async fn probe(&self, target: &ProbeTarget) -> Result<TlsProbe, ProbeError> {
        let address = target.address();
        let name = target.server_name().to_owned();
        let server_name =
            ServerName::try_from(name.clone()).map_err(|_| ProbeError::InvalidServerName(name))?;
        let verdict = Arc::new(Mutex::new(None));
        let recorder = RecordingVerifier {
            inner: self.verifier.clone(),
            verdict: verdict.clone(),
        };
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| ProbeError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(recorder))
            .with_no_client_auth();
        // A resumed session presents no certificate; every probe must see the chain.
        config.resumption = rustls::client::Resumption::disabled();
        let connector = TlsConnector::from(Arc::new(config));

        let handshake = async {
            let tcp = TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|source| ProbeError::Connect {
                    address: address.clone(),
                    source,
                })?;
            let _ = tcp.set_nodelay(true);
            connector
                .connect(server_name, tcp)
                .await
                .map_err(|source| ProbeError::Handshake {
                    address: address.clone(),
                    source,
                })
        };
        let mut stream = tokio::time::timeout(target.timeout, handshake)
            .await
            .map_err(|_| ProbeError::Timeout {
                address: address.clone(),
                after: target.timeout,
            })??;

        let (_, conn) = stream.get_ref();
        let tls_version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => TlsVersion::Tls13,
            Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
            other => {
                return Err(ProbeError::Config(format!(
                    "negotiated an unexpected protocol version {other:?}"
                )));
            }
        };
        let chain: Vec<CertificateDer<'static>> = conn
            .peer_certificates()
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        // Best effort: the server may already have gone; the probe has what it came for.
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
        if chain.is_empty() {
            return Err(ProbeError::NoCertificate { address });
        }
        let verification = verdict
            .lock()
            .expect("verdict lock")
            .take()
            // rustls always calls the verifier when a chain was presented; if it somehow did not,
            // say so rather than claim the chain verified.
            .unwrap_or_else(|| {
                Err(VerificationFailure {
                    kind: FailureKind::Other,
                    detail: "the verifier was not consulted".into(),
                })
            });
        Ok(TlsProbe {
            tls_version,
            chain,
            verification,
        })
    }
}

impl Default for TlsProber {
    fn default() -> Self {
        Self::new()
    }
}

/// One probe with a freshly built [`TlsProber`]: the public WebPKI roots plus `extra_roots`.
/// Callers probing many targets should build one `TlsProber` and reuse it.
pub async fn probe(
    target: &ProbeTarget,
    extra_roots: &[CertificateDer<'static>],
) -> Result<TlsProbe, ProbeError> {
    TlsProber::with_extra_roots(extra_roots.to_vec())?
        .probe(target)
        .await
}

/// Asks the real verifier, writes its verdict down, and lets the handshake go on.
///
/// The handshake signatures (`verify_tls1x_signature`) are still checked for real: they prove the
/// server holds the key of the certificate it presented, which is true even of an expired or
/// misnamed certificate, so enforcing them costs the probe nothing.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Arc<Mutex<Option<Result<(), VerificationFailure>>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ())
            .map_err(|e| VerificationFailure::from_rustls(&e));
        *self.verdict.lock().expect("verdict lock") = Some(verdict);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    //! Handshakes against real servers live in `functions/check-certificates/tests/tlsprobe.rs`,
    //! which has rcgen to make the chains; here only the pure parts.
    use super::*;

    #[test]
    fn versions_use_the_openssl_spelling() {
        assert_eq!(TlsVersion::Tls13.to_string(), "TLSv1.3");
        assert_eq!(TlsVersion::Tls12.as_str(), "TLSv1.2");
        assert!(TlsVersion::Tls12 < TlsVersion::Tls13);
    }

    #[test]
    fn rustls_errors_are_classified() {
        let cases = [
            (CertificateError::Expired, FailureKind::Expired),
            (CertificateError::NotValidYet, FailureKind::NotYetValid),
            (CertificateError::UnknownIssuer, FailureKind::UnknownIssuer),
            (CertificateError::NotValidForName, FailureKind::NameMismatch),
            (CertificateError::Revoked, FailureKind::Revoked),
            (CertificateError::BadSignature, FailureKind::BadSignature),
            (CertificateError::BadEncoding, FailureKind::BadEncoding),
            (CertificateError::InvalidPurpose, FailureKind::Other),
        ];
        for (err, kind) in cases {
            let f = VerificationFailure::from_rustls(&TlsError::InvalidCertificate(err));
            assert_eq!(f.kind, kind, "{f}");
            assert!(!f.detail.is_empty());
        }
        assert!(
            FailureKind::Expired.is_time_related() && !FailureKind::UnknownIssuer.is_time_related()
        );
    }

    #[test]
    fn ipv6_addresses_are_bracketed_and_sni_overrides_the_host() {
        let mut t = ProbeTarget::new("::1", 8443, Duration::from_secs(1));
        assert_eq!(t.address(), "[::1]:8443");
        assert_eq!(t.server_name(), "::1");
        t.sni = Some("api.example.test".into());
        assert_eq!(t.server_name(), "api.example.test");
    }

    #[tokio::test]
    async fn an_invalid_server_name_is_refused_before_connecting() {
        let mut t = ProbeTarget::new("127.0.0.1", 9, Duration::from_secs(1));
        t.sni = Some("not a name".into());
        let err = TlsProber::new().probe(&t).await.unwrap_err();
        assert!(matches!(err, ProbeError::InvalidServerName(_)), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error_not_a_timeout() {
        // Bind then drop, so the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = ProbeTarget::new("127.0.0.1", port, Duration::from_secs(5));
        let err = TlsProber::new().probe(&t).await.unwrap_err();
        assert!(matches!(err, ProbeError::Connect { .. }), "{err}");
    }
}
