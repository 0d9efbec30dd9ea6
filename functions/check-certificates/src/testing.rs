//! In-memory fakes of this function's ports ([`SecretSource`], [`AcmSource`]), for its tests
//! and other crates' (the `testing` feature). The TLS port needs no fake: tests serve real
//! certificates from a TLS server on loopback to the shared prober. (State table, notifier and
//! clock are the shared crate's ports, faked in `suomifi_shared::testing`.)

use crate::certs::SecretPayload;
use crate::sources::{AcmCertificate, AcmSource, FetchError, SecretSource};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// In-memory Secrets Manager: values, failures and delays per secret id. An id never put
/// answers `ResourceNotFoundException`.
#[derive(Clone, Default)]
pub struct FakeSecrets {
    values: Arc<Mutex<HashMap<String, Result<SecretPayload, FetchError>>>>,
    delays: Arc<Mutex<HashMap<String, Duration>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl FakeSecrets {
    /// `id` answers `payload`.
    pub fn put(&self, id: &str, payload: SecretPayload) {
        self.values.lock().unwrap().insert(id.into(), Ok(payload));
    }

    /// `id` answers `text` as its `SecretString`.
    pub fn put_text(&self, id: &str, text: impl Into<String>) {
        self.put(id, SecretPayload::Text(text.into()));
    }

    /// Reading `id` fails with `why`.
    pub fn fail(&self, id: &str, why: &str) {
        self.values
            .lock()
            .unwrap()
            .insert(id.into(), Err(FetchError(why.into())));
    }

    /// Reading `id` takes `by` first.
    pub fn delay(&self, id: &str, by: Duration) {
        self.delays.lock().unwrap().insert(id.into(), by);
    }

    /// The most reads that were in progress at the same time.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }
}

impl SecretSource for FakeSecrets {
    async fn read_secret(&self, secret_id: &str) -> Result<SecretPayload, FetchError> {
        let now_in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight
            .fetch_max(now_in_flight, Ordering::SeqCst);
        let delay = self.delays.lock().unwrap().get(secret_id).copied();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.values
            .lock()
            .unwrap()
            .get(secret_id)
            .cloned()
            .unwrap_or_else(|| {
                Err(FetchError(format!(
                    "ResourceNotFoundException: secret `{secret_id}` not found"
                )))
            })
    }
}

/// In-memory Certificate Manager. An ARN never put answers `ResourceNotFoundException`.
#[derive(Clone, Default)]
pub struct FakeAcm {
    certs: Arc<Mutex<HashMap<String, AcmCertificate>>>,
}

impl FakeAcm {
    /// `arn` answers `certificate_pem` and `chain_pem`.
    pub fn put(&self, arn: &str, certificate_pem: String, chain_pem: Option<String>) {
        self.certs.lock().unwrap().insert(
            arn.into(),
            AcmCertificate {
                certificate_pem,
                chain_pem,
            },
        );
    }
}

impl AcmSource for FakeAcm {
    async fn read_certificate(&self, arn: &str) -> Result<AcmCertificate, FetchError> {
        self.certs
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .ok_or_else(|| FetchError(format!("ResourceNotFoundException: {arn}")))
    }
}
