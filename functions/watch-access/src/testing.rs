//! In-memory fakes of this function's ports, for its unit tests and other crates' tests (the
//! `testing` feature).
//!
//! In-memory fakes, for unit tests here and in other crates.

use crate::ledger::SecretState;
use crate::ports::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Secrets Manager in memory: `rotate` moves `AWSCURRENT` to a new version at once (as
/// moto's stand-in rotation does) unless told a rotation is running.
#[derive(Debug, Clone, Default)]
pub struct FakeSecrets {
    /// The secrets, by ARN.
    pub secrets: Arc<Mutex<HashMap<String, SecretState>>>,
    /// Policies, by ARN.
    pub policies: Arc<Mutex<HashMap<String, String>>>,
    /// ARNs `rotate` was called for, in order.
    pub rotations: Arc<Mutex<Vec<String>>>,
}

impl FakeSecrets {
    /// Adds a secret at version `v1`.
    pub fn add(&self, arn: &str) {
        self.secrets.lock().expect("lock").insert(
            arn.to_owned(),
            SecretState {
                arn: arn.to_owned(),
                name: crate::event::secret_name(arn).to_owned(),
                current_version: Some("v1".into()),
                pending_version: None,
                last_rotated: None,
            },
        );
    }

    /// Changes a secret.
    pub fn update(&self, arn: &str, f: impl FnOnce(&mut SecretState)) {
        f(self
            .secrets
            .lock()
            .expect("lock")
            .get_mut(arn)
            .expect("known secret"));
    }

    /// `rotate` calls so far.
    pub fn rotated(&self) -> Vec<String> {
        self.rotations.lock().expect("lock").clone()
    }
}

fn not_found(op: &'static str, arn: &str) -> AwsError {
    AwsError::new(
        op,
        arn,
        Some("ResourceNotFoundException".into()),
        "no such secret",
        "fake".into(),
    )
}

impl Secrets for FakeSecrets {
    async fn describe(&self, arn: &str) -> Result<SecretState, AwsError> {
        self.secrets
            .lock()
            .expect("lock")
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found("DescribeSecret", arn))
    }

    async fn rotate(&self, arn: &str) -> Result<RotateOutcome, AwsError> {
        let mut all = self.secrets.lock().expect("lock");
        let s = all
            .get_mut(arn)
            .ok_or_else(|| not_found("RotateSecret", arn))?;
        self.rotations.lock().expect("lock").push(arn.to_owned());
        if s.rotation_running() {
            return Ok(RotateOutcome::AlreadyRunning);
        }
        s.pending_version = Some(format!(
            "pending-{}",
            self.rotations.lock().expect("lock").len()
        ));
        Ok(RotateOutcome::Started)
    }

    async fn policy(&self, arn: &str) -> Result<Option<String>, AwsError> {
        Ok(self.policies.lock().expect("lock").get(arn).cloned())
    }
}

/// EventBridge Scheduler in memory.
#[derive(Debug, Clone, Default)]
pub struct FakeScheduler {
    /// Created schedules.
    pub created: Arc<Mutex<Vec<OneTimeSchedule>>>,
    names: Arc<Mutex<HashSet<String>>>,
}

impl FakeScheduler {
    /// The schedules created.
    pub fn schedules(&self) -> Vec<OneTimeSchedule> {
        self.created.lock().expect("lock").clone()
    }
}

impl Scheduler for FakeScheduler {
    async fn create(&self, s: &OneTimeSchedule) -> Result<ScheduleOutcome, AwsError> {
        if !self
            .names
            .lock()
            .expect("lock")
            .insert(format!("{}/{}", s.group, s.name))
        {
            return Ok(ScheduleOutcome::AlreadyScheduled);
        }
        self.created.lock().expect("lock").push(s.clone());
        Ok(ScheduleOutcome::Created)
    }
}
