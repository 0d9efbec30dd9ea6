//! The OSV database as a port ([`Osv`]), the batching and pagination the check needs on top of
//! it ([`vulnerability_ids`]), and its HTTPS adapter ([`HttpOsv`]).
//!
//! - `POST /v1/querybatch` `{"queries": [{"package": {"name", "ecosystem": "crates.io"},
//!   "version", "page_token"?}]}` answers `{"results": [{"vulns": [{"id", "modified"}],
//!   "next_page_token"?}]}` in the order asked, at most [`MAX_BATCH`] queries a request;
//! - `GET /v1/vulns/{id}` gives one advisory's details.
//!
//! A 5xx (after retries), a transport failure, a timeout, or an answer that is not what OSV
//! documents is an [`OsvError`]: the check reports `unknown` on it, never "no vulnerabilities".

use crate::advisories::{ECOSYSTEM, Vuln};
use serde::Deserialize;
use serde_json::json;
use std::future::Future;
use suomifi_shared::deps::LinkedCrate;
use suomifi_shared::suomifi::{ApiBase, RetryPolicy};

/// OSV's documented limit of queries in one `querybatch`.
pub const MAX_BATCH: usize = 1000;

/// Rounds of `next_page_token` followed before the answer counts as garbage (OSV pages after
/// about a thousand vulnerabilities per query; this bundle's crates have a handful each).
pub const MAX_PAGE_ROUNDS: usize = 20;

/// One query: a crate at a version, and the page to continue from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Crate name.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// `next_page_token` of the previous answer to this query.
    pub page_token: Option<String>,
}

/// The answer to one query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryAnswer {
    /// Ids of the vulnerabilities OSV matched.
    pub ids: Vec<String>,
    /// More to fetch with this token.
    pub next_page_token: Option<String>,
}

/// OSV could not be used; the result is `unknown`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OsvError {
    /// 5xx on every attempt.
    #[error("OSV {endpoint} answered HTTP {status} ({attempts} attempt(s))")]
    Server {
        /// `querybatch` or `vulns`.
        endpoint: &'static str,
        /// Last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Another unexpected status (4xx).
    #[error("OSV {endpoint} answered HTTP {status}")]
    Status {
        /// Endpoint.
        endpoint: &'static str,
        /// Status.
        status: u16,
    },
    /// Connection, TLS or timeout, on every attempt.
    #[error("OSV {endpoint} could not be reached ({attempts} attempt(s)): {detail}")]
    Transport {
        /// Endpoint.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The error chain (no URL: it is the configured OSV base).
        detail: String,
    },
    /// The answer is not what OSV documents.
    #[error("OSV {endpoint} answered something unreadable: {detail}")]
    Malformed {
        /// Endpoint.
        endpoint: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// Port: the two OSV calls.
pub trait Osv: Send + Sync {
    /// One `querybatch` of at most [`MAX_BATCH`] queries; one answer per query, in order.
    fn query_batch(
        &self,
        queries: &[Query],
    ) -> impl Future<Output = Result<Vec<QueryAnswer>, OsvError>> + Send;

    /// One advisory's details.
    fn vuln(&self, id: &str) -> impl Future<Output = Result<Vuln, OsvError>> + Send;
}

/// The vulnerability ids OSV matches for each crate (same order), over as many batches of
/// [`MAX_BATCH`] as needed and following every `next_page_token`.
pub async fn vulnerability_ids<O: Osv>(
    osv: &O,
    crates: &[LinkedCrate],
) -> Result<Vec<Vec<String>>, OsvError> {
    let mut ids: Vec<Vec<String>> = vec![Vec::new(); crates.len()];
    // (index into `crates`, page token) still to ask.
    let mut pending: Vec<(usize, Option<String>)> = (0..crates.len()).map(|i| (i, None)).collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        if rounds > MAX_PAGE_ROUNDS {
            return Err(OsvError::Malformed {
                endpoint: "querybatch",
                detail: format!("still paginating after {MAX_PAGE_ROUNDS} rounds"),
            });
        }
        let mut next = Vec::new();
        for chunk in pending.chunks(MAX_BATCH) {
            let queries: Vec<Query> = chunk
                .iter()
                .map(|(i, token)| Query {
                    name: crates[*i].name.clone(),
                    version: crates[*i].version.clone(),
                    page_token: token.clone(),
                })
                .collect();
            let answers = osv.query_batch(&queries).await?;
            if answers.len() != queries.len() {
                return Err(OsvError::Malformed {
                    endpoint: "querybatch",
                    detail: format!("{} result(s) for {} queries", answers.len(), queries.len()),
                });
            }
            for ((i, _), answer) in chunk.iter().zip(answers) {
                for id in answer.ids {
                    if !ids[*i].contains(&id) {
                        ids[*i].push(id);
                    }
                }
                if let Some(token) = answer.next_page_token.filter(|t| !t.is_empty()) {
                    next.push((*i, Some(token)));
                }
            }
        }
        pending = next;
    }
    Ok(ids)
}

/// Whether `id` can go into a URL path as is (OSV ids are letters, digits, `-`, `_`, `.`, `:`).
pub fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// The OSV API over HTTPS (reqwest with rustls, one connection pool).
#[derive(Debug, Clone)]
pub struct HttpOsv {
    http: reqwest::Client,
    base: ApiBase,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct BatchBody {
    results: Vec<BatchResult>,
}

#[derive(Deserialize)]
struct BatchResult {
    #[serde(default)]
    vulns: Vec<BatchVuln>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct BatchVuln {
    id: String,
}

impl HttpOsv {
    /// An adapter for `base` with a whole-request `timeout`, retrying 5xx and transport errors
    /// per `retry` (both calls are reads).
    pub fn new(
        base: ApiBase,
        timeout: std::time::Duration,
        retry: RetryPolicy,
    ) -> Result<Self, OsvError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
            .user_agent(concat!(
                "suomifi-ops-check-updates/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| OsvError::Transport {
                endpoint: "client",
                attempts: 0,
                detail: e.to_string(),
            })?;
        Ok(Self { http, base, retry })
    }

    async fn send(
        &self,
        endpoint: &'static str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, OsvError> {
        let attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= attempts;
            match build().send().await {
                Ok(resp) if resp.status().is_server_error() => {
                    let status = resp.status().as_u16();
                    tracing::warn!(endpoint, status, attempt, "OSV server error");
                    if last {
                        return Err(OsvError::Server {
                            endpoint,
                            status,
                            attempts: attempt,
                        });
                    }
                }
                Ok(resp) if !resp.status().is_success() => {
                    return Err(OsvError::Status {
                        endpoint,
                        status: resp.status().as_u16(),
                    });
                }
                Ok(resp) => match resp.bytes().await {
                    Ok(body) => return Ok(body.to_vec()),
                    Err(e) if last => {
                        return Err(OsvError::Transport {
                            endpoint,
                            attempts: attempt,
                            detail: chain(&e),
                        });
                    }
                    Err(e) => {
                        tracing::warn!(endpoint, attempt, error = %chain(&e), "OSV answer cut off")
                    }
                },
                Err(e) => {
                    tracing::warn!(endpoint, attempt, error = %chain(&e), "OSV request failed");
                    if last {
                        return Err(OsvError::Transport {
                            endpoint,
                            attempts: attempt,
                            detail: chain(&e),
                        });
                    }
                }
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
        }
    }
}

fn chain(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn malformed(endpoint: &'static str, e: impl std::fmt::Display) -> OsvError {
    OsvError::Malformed {
        endpoint,
        detail: e.to_string(),
    }
}

impl Osv for HttpOsv {
    async fn query_batch(&self, queries: &[Query]) -> Result<Vec<QueryAnswer>, OsvError> {
        let body = json!({
            "queries": queries.iter().map(|q| {
                let mut v = json!({
                    "package": {"name": q.name, "ecosystem": ECOSYSTEM},
                    "version": q.version,
                });
                if let Some(t) = &q.page_token {
                    v["page_token"] = json!(t);
                }
                v
            }).collect::<Vec<_>>(),
        });
        let url = format!("{}/v1/querybatch", self.base.as_str());
        let raw = self
            .send("querybatch", || self.http.post(&url).json(&body))
            .await?;
        let parsed: BatchBody =
            serde_json::from_slice(&raw).map_err(|e| malformed("querybatch", e))?;
        let mut out = Vec::with_capacity(parsed.results.len());
        for r in parsed.results {
            if let Some(bad) = r.vulns.iter().find(|v| !is_plain_id(&v.id)) {
                return Err(malformed(
                    "querybatch",
                    format!("vulnerability id {:?} is not an OSV id", bad.id),
                ));
            }
            out.push(QueryAnswer {
                ids: r.vulns.into_iter().map(|v| v.id).collect(),
                next_page_token: r.next_page_token,
            });
        }
        Ok(out)
    }

    async fn vuln(&self, id: &str) -> Result<Vuln, OsvError> {
        if !is_plain_id(id) {
            return Err(malformed("vulns", format!("{id:?} is not an OSV id")));
        }
        let url = format!("{}/v1/vulns/{id}", self.base.as_str());
        let raw = self.send("vulns", || self.http.get(&url)).await?;
        let vuln: Vuln = serde_json::from_slice(&raw).map_err(|e| malformed("vulns", e))?;
        if vuln.id != id {
            return Err(malformed(
                "vulns",
                format!("asked for {id}, got {:?}", vuln.id),
            ));
        }
        Ok(vuln)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeOsv;
    use serde_json::json;
    use std::sync::atomic::Ordering;

    fn advisory(id: &str, name: &str, fixed: &str) -> Vuln {
        serde_json::from_value(json!({"id": id, "affected": [{
            "package": {"name": name, "ecosystem": "crates.io"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }]}))
        .unwrap()
    }

    fn krate(name: &str, version: &str) -> LinkedCrate {
        LinkedCrate {
            name: name.into(),
            version: version.into(),
        }
    }

    #[tokio::test]
    async fn more_than_a_thousand_crates_go_in_batches_of_at_most_a_thousand() {
        let osv = FakeOsv::default();
        osv.publish(advisory("RUSTSEC-2099-0001", "c1500", "2.0.0"));
        let crates: Vec<_> = (0..2001)
            .map(|i| krate(&format!("c{i}"), "1.0.0"))
            .collect();
        let ids = vulnerability_ids(&osv, &crates).await.unwrap();
        assert_eq!(osv.batches.load(Ordering::SeqCst), 3);
        assert_eq!(osv.largest_batch.load(Ordering::SeqCst), MAX_BATCH);
        assert_eq!(ids[1500], ["RUSTSEC-2099-0001"]);
        assert!(ids[0].is_empty());
    }

    #[tokio::test]
    async fn every_page_is_followed() {
        let osv = FakeOsv::default().with_page_size(1);
        for n in 1..=3 {
            osv.publish(advisory(&format!("RUSTSEC-2099-000{n}"), "hyper", "9.0.0"));
        }
        let ids = vulnerability_ids(&osv, &[krate("hyper", "1.0.0"), krate("idna", "1.0.0")])
            .await
            .unwrap();
        assert_eq!(ids[0].len(), 3, "{ids:?}");
        assert!(ids[1].is_empty());
    }

    #[tokio::test]
    async fn a_failure_is_an_error_not_an_empty_answer() {
        let osv = FakeOsv::default();
        osv.fail_with(Some(OsvError::Server {
            endpoint: "querybatch",
            status: 503,
            attempts: 3,
        }));
        assert!(
            vulnerability_ids(&osv, &[krate("hyper", "1.0.0")])
                .await
                .is_err()
        );
    }

    #[test]
    fn only_plain_ids_go_into_a_path() {
        assert!(is_plain_id("RUSTSEC-2024-0001"));
        assert!(is_plain_id("GHSA-4w8r-3xrw-v25g"));
        for bad in ["", "../admin", "a/b", "x?y=1", "id with space"] {
            assert!(!is_plain_id(bad), "{bad}");
        }
    }
}
