//! Many TLS endpoints on loopback for the certificate-probe benchmark: `bench-tls-farm <n>`
//! listens on `n` free ports, each presenting the same self-signed certificate for `localhost`
//! and `127.0.0.1`, prints the ports as one JSON array line, and serves until its standard input
//! closes (so it never outlives the runner).

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .ok_or("usage: bench-tls-farm <number-of-endpoints>")?
        .parse()?;
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let mut ports = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        ports.push(listener.local_addr()?.port());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // Handshake, then wait for the prober to close: it only reads the chain.
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        let mut buf = [0u8; 512];
                        let _ = tls.read(&mut buf).await;
                    }
                });
            }
        });
    }
    println!("{}", serde_json::to_string(&ports)?);
    // Serve until the runner closes our stdin.
    tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
        .await??;
    Ok(())
}
