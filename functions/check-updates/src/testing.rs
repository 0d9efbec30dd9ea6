//! In-memory fakes of this function's ports, for its unit tests and other crates' tests (the
//! `testing` feature).
//!
//! An in-memory OSV for tests: advisories by id, matched to crates by the advisories' own
//! ranges (as OSV does), answered in pages of `page_size` ids, and told to fail.

use crate::advisories::Vuln;
use crate::advisories::{Verdict, assess};
use crate::osv::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The fake.
#[derive(Debug, Clone, Default)]
pub struct FakeOsv {
    vulns: Arc<Mutex<Vec<Vuln>>>,
    /// Ids per page (0: all at once).
    pub page_size: usize,
    /// When set, every call fails with this.
    pub failure: Arc<Mutex<Option<OsvError>>>,
    /// `querybatch` calls made, and the largest batch.
    pub batches: Arc<AtomicUsize>,
    /// Largest batch seen.
    pub largest_batch: Arc<AtomicUsize>,
}

impl FakeOsv {
    /// Answers in pages of `n` ids.
    pub fn with_page_size(mut self, n: usize) -> Self {
        self.page_size = n;
        self
    }

    /// Publishes (or replaces) an advisory.
    pub fn publish(&self, v: Vuln) {
        let mut all = self.vulns.lock().expect("lock");
        all.retain(|x| x.id != v.id);
        all.push(v);
    }

    /// Removes an advisory.
    pub fn remove(&self, id: &str) {
        self.vulns.lock().expect("lock").retain(|x| x.id != id);
    }

    /// Every call fails with `e` (`None`: works again).
    pub fn fail_with(&self, e: Option<OsvError>) {
        *self.failure.lock().expect("lock") = e;
    }

    fn check(&self) -> Result<(), OsvError> {
        match self.failure.lock().expect("lock").clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Osv for FakeOsv {
    async fn query_batch(&self, queries: &[Query]) -> Result<Vec<QueryAnswer>, OsvError> {
        self.check()?;
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.largest_batch
            .fetch_max(queries.len(), Ordering::SeqCst);
        let all = self.vulns.lock().expect("lock").clone();
        Ok(queries
            .iter()
            .map(|q| {
                let ids: Vec<String> = all
                    .iter()
                    .filter(|v| {
                        // Like OSV, match withdrawn records too: the check must ignore them.
                        let probe = Vuln {
                            withdrawn: None,
                            ..(*v).clone()
                        };
                        matches!(
                            assess(&probe, &q.name, &q.version),
                            Verdict::Affected { .. }
                        )
                    })
                    .map(|v| v.id.clone())
                    .collect();
                let start: usize = q.page_token.as_deref().map_or(0, |t| t.parse().unwrap());
                let size = if self.page_size == 0 {
                    ids.len()
                } else {
                    self.page_size
                };
                let end = (start + size).min(ids.len());
                QueryAnswer {
                    ids: ids[start..end].to_vec(),
                    next_page_token: (end < ids.len()).then(|| end.to_string()),
                }
            })
            .collect())
    }

    async fn vuln(&self, id: &str) -> Result<Vuln, OsvError> {
        self.check()?;
        self.vulns
            .lock()
            .expect("lock")
            .iter()
            .find(|v| v.id == id)
            .cloned()
            .ok_or(OsvError::Status {
                endpoint: "vulns",
                status: 404,
            })
    }
}
