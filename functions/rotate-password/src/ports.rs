//! The ports a rotation runs over, both shared with the other functions: Suomi.fi is
//! [`SuomifiApi`] (adapter [`HttpSuomifi`]: one connection pool per API base, kept for the
//! process's life), Secrets Manager is [`SecretStore`] (adapter
//! [`suomifi_shared::secrets::SecretsManager`]). Their fakes are in [`crate::testing`] (the
//! rotation's Suomi.fi with its faults) and `suomifi_shared::testing`.

pub use suomifi_shared::secrets::SecretStore;
pub use suomifi_shared::suomifi::{HttpSuomifi, SuomifiApi};
