use std::net::IpAddr;
use url::{Host, Url};

/// A validated API base URL: `https://` anywhere, `http://` only to a loopback host (tests, the
/// local sandbox). Nothing else is ever contacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiBase(Url);

/// Why a URL was refused as an API base.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InsecureUrl {
    /// Not a URL at all.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// `http://` to a host that is not loopback, or another scheme.
    #[error(
        "`{0}` is not allowed: use https:// (plain http:// is accepted only for loopback addresses, for local tests)"
    )]
    NotHttps(String),
    /// A user name or password written into the URL: it would be printed wherever the URL is
    /// (reports, logs), and neither Suomi.fi nor AWS takes credentials that way.
    #[error(
        "`{0}` carries a user name or password in the URL; remove it (credentials never go into the URL)"
    )]
    UserInfo(String),
}

impl ApiBase {
    /// Validates a base URL such as `https://api.messages.suomi.fi`.
    pub fn parse(s: &str) -> Result<Self, InsecureUrl> {
        let url = Url::parse(s).map_err(|e| InsecureUrl::Invalid(e.to_string()))?;
        if url.cannot_be_a_base() || url.host().is_none() {
            // Not quoted: whatever was written, it is no base URL, and it may hold a secret.
            return Err(InsecureUrl::Invalid("the URL has no host".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InsecureUrl::UserInfo(without_userinfo(&url)));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return Err(InsecureUrl::NotHttps(without_userinfo(&url))),
        }
        Ok(Self(url))
    }

    /// The base as written (without a trailing slash).
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// Whether this base uses TLS (false only for loopback test servers).
    pub fn is_tls(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// Host name for a TLS probe.
    pub fn host(&self) -> String {
        self.0.host_str().unwrap_or_default().to_owned()
    }

    /// Port (443 by default for https).
    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }

    /// `base` + `path` (path starts with `/`).
    pub(crate) fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url
    }
}

/// The URL as it may be shown in an error or a log: a user name or password written into it
/// (`http://user:secret@host`) is left out.
fn without_userinfo(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://api.messages.suomi.fi",
            "https://api.messages-qa.suomi.fi/",
            "http://127.0.0.1:9000",
            "http://127.8.0.1",
            "http://[::1]:8080",
            "http://localhost:1",
        ] {
            assert!(ApiBase::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.messages.suomi.fi",
            "http://10.0.0.1",
            "http://192.168.1.1:80",
            "ftp://127.0.0.1",
            "http://localhost.evil.example",
        ] {
            assert!(
                matches!(ApiBase::parse(bad), Err(InsecureUrl::NotHttps(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            ApiBase::parse("not a url"),
            Err(InsecureUrl::Invalid(_))
        ));
    }

    #[test]
    fn a_refused_url_is_reported_without_its_credentials() {
        let err =
            ApiBase::parse("http://svc-user:S3cret-Pa55@proxy.example.org:8080/x").unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("http://proxy.example.org:8080/x"), "{shown}");
        assert!(
            !shown.contains("S3cret-Pa55") && !shown.contains("svc-user"),
            "{shown}"
        );
    }

    #[test]
    fn a_url_with_credentials_is_refused_even_over_https_and_never_echoed() {
        for bad in [
            "https://svc-user:S3cret-Pa55@api.messages.suomi.fi",
            "https://S3cret-Pa55@api.messages.suomi.fi",
            "http://svc-user:S3cret-Pa55@127.0.0.1:9000",
        ] {
            let err = ApiBase::parse(bad).unwrap_err();
            assert!(matches!(err, InsecureUrl::UserInfo(_)), "{bad}: {err:?}");
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("S3cret-Pa55") && !shown.contains("svc-user"),
                "{shown}"
            );
        }
        let err = ApiBase::parse("mailto:S3cret-Pa55@x").unwrap_err();
        assert!(!err.to_string().contains("S3cret-Pa55"), "{err}");
    }

    #[test]
    fn join_keeps_a_path_prefix() {
        let b = ApiBase::parse("https://example.fi/prefix/").unwrap();
        assert_eq!(
            b.join("/v1/token").as_str(),
            "https://example.fi/prefix/v1/token"
        );
        assert_eq!(b.as_str(), "https://example.fi/prefix");
    }
}
