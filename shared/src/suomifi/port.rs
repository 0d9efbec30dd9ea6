//! The port through which every function reaches Suomi.fi, and its HTTP adapter.
//!
//! A function is generic over [`SuomifiApi`]; `main.rs` wires in [`HttpSuomifi`] (the shared
//! [`SuomifiClient`], one connection pool per API base, built once per process), unit tests an
//! in-memory fake (`testing::FakeSuomifi`, behind the `testing` feature), integration tests the
//! adapter against the sandbox over HTTP.
//!
//! The API base is an argument of every call, not a property of the adapter: it comes from the
//! credentials secret (`apiUrl`), which may differ per system and may change with any rotation.

use super::base::ApiBase;
use super::client::{ClientConfig, SuomifiClient, Token};
use super::error::{ApiError, TraceId};
use super::model::EventsPage;
use crate::sensitive::{AccessToken, Password};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

/// Port: the Suomi.fi Messages REST API operations the functions use.
pub trait SuomifiApi: Send + Sync {
    /// `POST /v1/token` (retried on 5xx and transport errors by the HTTP adapter).
    fn token(
        &self,
        api: &ApiBase,
        username: &str,
        password: &Password,
    ) -> impl Future<Output = Result<Token, ApiError>> + Send;

    /// `POST /v1/change-password`: exactly one attempt, never retried. After an error for which
    /// [`ApiError::outcome_unknown`] holds, the password may or may not have changed.
    fn change_password(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        current: &Password,
        new: &Password,
    ) -> impl Future<Output = Result<TraceId, ApiError>> + Send;

    /// `GET /v2/events`: one page from `continuation`, or from the start of the feed.
    fn events_page(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        continuation: Option<&str>,
    ) -> impl Future<Output = Result<EventsPage, ApiError>> + Send;

    /// DVV's credential test: a token for `username` / `password`, then `GET /v2/events` (from
    /// the start of the feed) answering 200. `AuthenticationFailed` means the password was
    /// refused; any other error leaves the question open.
    fn verify_credentials(
        &self,
        api: &ApiBase,
        username: &str,
        password: &Password,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        async move {
            let token = self.token(api, username, password).await?;
            self.events_page(api, &token.access_token, None)
                .await
                .map(|_| ())
        }
    }
}

/// The HTTP adapter: one [`SuomifiClient`] (connection pool) per API base, created on first use
/// and reused by every later call and invocation.
#[derive(Debug, Default)]
pub struct HttpSuomifi {
    config: ClientConfig,
    clients: Mutex<HashMap<String, SuomifiClient>>,
}

impl HttpSuomifi {
    /// An adapter whose clients use `config` (timeouts, retries).
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client of `api` (cloned: clones share one pool).
    pub fn client(&self, api: &ApiBase) -> Result<SuomifiClient, ApiError> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(api.as_str()) {
            return Ok(c.clone());
        }
        let c = SuomifiClient::new(api.clone(), self.config.clone())?;
        clients.insert(api.as_str().to_owned(), c.clone());
        Ok(c)
    }
}

impl SuomifiApi for HttpSuomifi {
    async fn token(
        &self,
        api: &ApiBase,
        username: &str,
        password: &Password,
    ) -> Result<Token, ApiError> {
        self.client(api)?.token(username, password).await
    }

    async fn change_password(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        current: &Password,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        self.client(api)?.change_password(token, current, new).await
    }

    async fn events_page(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        continuation: Option<&str>,
    ) -> Result<EventsPage, ApiError> {
        self.client(api)?.events_page(token, continuation).await
    }
}

impl<T: SuomifiApi> SuomifiApi for std::sync::Arc<T> {
    fn token(
        &self,
        api: &ApiBase,
        username: &str,
        password: &Password,
    ) -> impl Future<Output = Result<Token, ApiError>> + Send {
        (**self).token(api, username, password)
    }

    fn change_password(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        current: &Password,
        new: &Password,
    ) -> impl Future<Output = Result<TraceId, ApiError>> + Send {
        (**self).change_password(api, token, current, new)
    }

    fn events_page(
        &self,
        api: &ApiBase,
        token: &AccessToken,
        continuation: Option<&str>,
    ) -> impl Future<Output = Result<EventsPage, ApiError>> + Send {
        (**self).events_page(api, token, continuation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_per_api_base() {
        let http = HttpSuomifi::new(ClientConfig::default());
        let a = ApiBase::parse("https://api.messages-qa.suomi.fi").unwrap();
        let b = ApiBase::parse("https://api.messages.suomi.fi").unwrap();
        http.client(&a).unwrap();
        http.client(&a).unwrap();
        http.client(&b).unwrap();
        assert_eq!(http.clients.lock().unwrap().len(), 2);
    }
}
