//! In-memory fakes of the rotation's ports — Secrets Manager (the shared
//! [`SecretStore`] port) and Suomi.fi (the shared [`SuomifiApi`] port, with the faults a rotation
//! must survive: lost answers, refusals, propagation delay, an outage) — for this crate's tests
//! and, behind the `testing` feature, other crates' tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use suomifi_shared::secrets::{AWSCURRENT, AWSPENDING, SecretMeta, SecretStore, SecretsError};
use suomifi_shared::sensitive::{AccessToken, Password};
use suomifi_shared::suomifi::{ApiBase, ApiError, EventsPage, SuomifiApi, Token, TraceId};

/// The state of a [`FakeSecrets`].
#[derive(Debug, Default)]
pub struct SecretsState {
    /// Whether rotation is enabled on the secret.
    pub enabled: bool,
    /// Fail every UpdateSecretVersionStage of this label.
    pub fail_stage: Option<String>,
    /// Version id → (value, staging labels).
    pub versions: HashMap<String, (Option<String>, Vec<String>)>,
}

/// Secrets Manager semantics that matter here: stages, empty pending version, ResourceExists.
#[derive(Debug, Clone, Default)]
pub struct FakeSecrets(pub Arc<StdMutex<SecretsState>>);

impl FakeSecrets {
    /// A secret with rotation enabled and one version `v0` holding `value` as `AWSCURRENT`.
    pub fn with_current(value: &str) -> Self {
        let s = Self::default();
        {
            let mut st = s.0.lock().unwrap();
            st.enabled = true;
            st.versions
                .insert("v0".into(), (Some(value.into()), vec![AWSCURRENT.into()]));
        }
        s
    }
    /// What Secrets Manager does before calling createSecret.
    pub fn start_rotation(&self, token: &str) {
        self.0
            .lock()
            .unwrap()
            .versions
            .insert(token.into(), (None, vec![AWSPENDING.into()]));
    }
    /// The value of the version holding `stage`, if any.
    pub fn value_with(&self, stage: &str) -> Option<String> {
        let st = self.0.lock().unwrap();
        st.versions
            .values()
            .find(|(_, s)| s.iter().any(|x| x == stage))
            .and_then(|(v, _)| v.clone())
    }
    /// The labels of `version` (none if it does not exist).
    pub fn stages(&self, version: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .versions
            .get(version)
            .map(|v| v.1.clone())
            .unwrap_or_default()
    }
}

impl SecretStore for FakeSecrets {
    async fn describe(&self, _id: &str) -> Result<SecretMeta, SecretsError> {
        let st = self.0.lock().unwrap();
        Ok(SecretMeta {
            arn: "arn:secret".into(),
            name: "sys".into(),
            rotation_enabled: st.enabled,
            versions: st
                .versions
                .iter()
                .map(|(k, v)| (k.clone(), v.1.clone()))
                .collect(),
            ..SecretMeta::default()
        })
    }
    async fn get_value(
        &self,
        _id: &str,
        version: Option<&str>,
        stage: &str,
    ) -> Result<Option<String>, SecretsError> {
        let st = self.0.lock().unwrap();
        Ok(st
            .versions
            .iter()
            .find(|(k, (_, s))| {
                version.is_none_or(|v| v == k.as_str()) && s.iter().any(|x| x == stage)
            })
            .and_then(|(_, (v, _))| v.clone()))
    }
    async fn put_pending(&self, id: &str, token: &str, value: &str) -> Result<(), SecretsError> {
        let mut st = self.0.lock().unwrap();
        let entry = st
            .versions
            .entry(token.into())
            .or_insert((None, vec![AWSPENDING.into()]));
        match &entry.0 {
            Some(v) if v != value => Err(SecretsError {
                operation: "PutSecretValue",
                secret_id: id.into(),
                code: Some("ResourceExistsException".into()),
                detail: "exists".into(),
                source: None,
            }),
            _ => {
                entry.0 = Some(value.into());
                Ok(())
            }
        }
    }
    async fn update_stage(
        &self,
        _id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), SecretsError> {
        let mut st = self.0.lock().unwrap();
        if st.fail_stage.as_deref() == Some(stage) {
            return Err(SecretsError {
                operation: "UpdateSecretVersionStage",
                secret_id: _id.into(),
                code: Some("InternalServiceError".into()),
                detail: "injected".into(),
                source: None,
            });
        }
        // As AWS: moving a label that sits on another version needs RemoveFromVersionId.
        if let Some(t) = to {
            let elsewhere = st
                .versions
                .iter()
                .find(|(v, (_, labels))| v.as_str() != t && labels.iter().any(|l| l == stage))
                .map(|(v, _)| v.clone());
            if let Some(holder) = elsewhere
                && from != Some(holder.as_str())
            {
                return Err(SecretsError {
                    operation: "UpdateSecretVersionStage",
                    secret_id: _id.into(),
                    code: Some("InvalidParameterException".into()),
                    detail: format!("{stage} is attached to {holder}"),
                    source: None,
                });
            }
        }
        if let Some(v) = from.and_then(|f| st.versions.get_mut(f)) {
            v.1.retain(|s| s != stage);
            if stage == AWSCURRENT {
                v.1.push("AWSPREVIOUS".into());
            }
        }
        if let Some(t) = to {
            st.versions.get_mut(t).unwrap().1.push(stage.into());
        }
        Ok(())
    }
}

/// The state of a [`FakeApi`].
#[derive(Debug, Default)]
pub struct ApiState {
    /// The password Suomi.fi accepts.
    pub password: String,
    /// Apply the change but lose the answer.
    pub lose_next_change: bool,
    /// Refuse the next change with this reason (a permanent refusal or a cool-down).
    pub refuse_next_change: Option<String>,
    /// Refuse the next N logins even with the right password (a transient refusal).
    pub refuse_logins: u32,
    /// Answer every call with a server error.
    pub down: bool,
    /// Changes applied.
    pub changes: u32,
    /// Logins refused for a wrong password (what DVV's monitoring would see).
    pub failed_logins: u32,
    /// Refuse every login of the pending password's first `n` tries after a change (propagation).
    pub test_refusals: u32,
}

/// Suomi.fi as the rotation sees it: one password, logins, changes, injected faults.
#[derive(Debug, Clone, Default)]
pub struct FakeApi(pub Arc<StdMutex<ApiState>>);

impl FakeApi {
    /// Suomi.fi accepting `p`.
    pub fn with_password(p: &str) -> Self {
        let a = Self::default();
        a.0.lock().unwrap().password = p.into();
        a
    }
    /// The password Suomi.fi accepts now.
    pub fn password(&self) -> String {
        self.0.lock().unwrap().password.clone()
    }
}

fn server_error() -> ApiError {
    ApiError::Server {
        endpoint: "/v1/token",
        status: 503,
        attempts: 3,
        trace_id: TraceId::default(),
    }
}

impl SuomifiApi for FakeApi {
    async fn token(
        &self,
        _api: &ApiBase,
        _username: &str,
        password: &Password,
    ) -> Result<Token, ApiError> {
        let mut st = self.0.lock().unwrap();
        if st.down {
            return Err(server_error());
        }
        if st.refuse_logins > 0 {
            st.refuse_logins -= 1;
            return Err(ApiError::AuthenticationFailed {
                reason: "refused".into(),
                trace_id: TraceId::default(),
            });
        }
        if password.expose() == st.password && st.test_refusals == 0 {
            Ok(Token {
                access_token: AccessToken::new(format!("tok-{}", st.changes)),
                expires_in: 3600,
                trace_id: TraceId::default(),
            })
        } else {
            if password.expose() == st.password {
                st.test_refusals -= 1;
            } else {
                st.failed_logins += 1;
            }
            Err(ApiError::AuthenticationFailed {
                reason: "bad credentials".into(),
                trace_id: TraceId::default(),
            })
        }
    }
    async fn change_password(
        &self,
        _api: &ApiBase,
        _t: &AccessToken,
        current: &Password,
        new: &Password,
    ) -> Result<TraceId, ApiError> {
        let mut st = self.0.lock().unwrap();
        if st.down {
            return Err(server_error());
        }
        if let Some(reason) = st.refuse_next_change.take() {
            return Err(ApiError::PasswordChangeRefused {
                reason,
                trace_id: TraceId(Some("trace-1".into())),
            });
        }
        if current.expose() != st.password {
            return Err(ApiError::PasswordChangeRefused {
                reason: "current password is wrong".into(),
                trace_id: TraceId::default(),
            });
        }
        st.password = new.expose().into();
        st.changes += 1;
        if std::mem::take(&mut st.lose_next_change) {
            return Err(ApiError::Timeout {
                endpoint: "/v1/change-password",
                attempts: 1,
                timeout_ms: 10,
            });
        }
        Ok(TraceId(Some("trace-ok".into())))
    }
    async fn events_page(
        &self,
        _api: &ApiBase,
        _t: &AccessToken,
        _continuation: Option<&str>,
    ) -> Result<EventsPage, ApiError> {
        Ok(EventsPage {
            continuation_token: "end".into(),
            events: Vec::new(),
        })
    }
}
