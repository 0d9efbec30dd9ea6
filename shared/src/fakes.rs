//! In-memory fakes of this crate's ports, for unit tests (here and in the function crates).

use crate::notify::{Alert, Notifier, NotifyError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A [`Notifier`] that records what it is asked to publish, and can be told to fail.
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    sent: Arc<Mutex<Vec<Alert>>>,
    failures: Arc<AtomicUsize>,
}

impl RecordingNotifier {
    /// What was published, in order.
    pub fn sent(&self) -> Vec<Alert> {
        self.sent.lock().expect("lock").clone()
    }

    /// The next `n` publishes fail.
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(NotifyError {
                key: alert.key.clone(),
                detail: "injected failure".into(),
            });
        }
        self.sent.lock().expect("lock").push(alert.clone());
        Ok(())
    }
}
