//! The port of the Suomi.fi operations a rotation needs, and its adapter over the shared Suomi.fi
//! client. (Secrets Manager is the shared [`suomifi_shared::secrets::SecretStore`] port.)

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use suomifi_shared::secret::Credentials;
use suomifi_shared::sensitive::{AccessToken, Password};
use suomifi_shared::suomifi::{ApiError, ClientConfig, SuomifiClient, TraceId};

/// Port: the Suomi.fi operations a rotation needs.
pub trait PasswordApi: Send + Sync {
    /// A token for these credentials.
    fn login(
        &self,
        creds: &Credentials,
    ) -> impl Future<Output = Result<AccessToken, ApiError>> + Send;
    /// Changes `current` → `new` (one attempt).
    fn change_password(
        &self,
        creds: &Credentials,
        token: &AccessToken,
        new: &Password,
    ) -> impl Future<Output = Result<TraceId, ApiError>> + Send;
    /// DVV's test: `GET /v2/events` answers 200.
    fn read_events(
        &self,
        creds: &Credentials,
        token: &AccessToken,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// The real Suomi.fi adapter: one client (connection pool) per API base, created on first use.
#[derive(Debug, Default)]
pub struct SuomifiApi {
    config: ClientConfig,
    clients: Mutex<HashMap<String, SuomifiClient>>,
}

impl SuomifiApi {
    /// An adapter using `config` for every client.
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, creds: &Credentials) -> Result<SuomifiClient, ApiError> {
        let mut clients = self.clients.lock().expect("client cache lock");
        if let Some(c) = clients.get(creds.api.as_str()) {
            return Ok(c.clone());
        }
        let c = SuomifiClient::new(creds.api.clone(), self.config.clone())?;
        clients.insert(creds.api.as_str().to_owned(), c.clone());
        Ok(c)
    }
}

impl PasswordApi for SuomifiApi {
    async fn login(&self, creds: &Credentials) -> Result<AccessToken, ApiError> {
        let t = self
            .client(creds)?
            .token(&creds.username, &creds.password)
            .await?;
        Ok(t.access_token)
    }

    async fn change_password(
        &self,
        creds: &Credentials,
        token: &AccessToken,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        self.client(creds)?
            .change_password(token, &creds.password, new)
            .await
    }

    async fn read_events(&self, creds: &Credentials, token: &AccessToken) -> Result<(), ApiError> {
        self.client(creds)?
            .events_page(token, None)
            .await
            .map(|_| ())
    }
}
