//! The metrics the function emits (CloudWatch embedded metric format, on stdout), with the
//! dimensions the alarms and the dashboard select.

use crate::event::RotationEvent;
use suomifi_shared::telemetry::{Metric, emit_metrics};

/// Name of the metric a promoted rotation emits (the dashboard and the "no successful rotation
/// lately" alarm read it), per `Secret`.
pub const ROTATION_SUCCEEDED: &str = "RotationSucceeded";

/// Records a finished rotation of `ev`'s secret: `RotationSucceeded` = 1, dimension `Secret`.
pub fn rotation_succeeded(ev: &RotationEvent) {
    emit_metrics(
        time::OffsetDateTime::now_utc(),
        &[("Secret", ev.secret_id.as_str())],
        &[Metric {
            name: ROTATION_SUCCEEDED,
            value: 1.0,
            unit: "Count",
        }],
    );
}
