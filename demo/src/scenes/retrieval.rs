//! Scene 3: a stalled retriever with citizens' messages waiting, then caught up.

use crate::setup::{CHECKPOINT, Demo, SECRET};
use serde_json::json;
use suomifi_sandbox::Event;
use time::OffsetDateTime;

impl Demo {
    /// Scene 3: `check-retrieval` alerts (heartbeat, backlog), `suomifi-ops status` shows them
    /// open, the retriever catches up, the next run resolves them.
    pub(crate) async fn retrieval(&mut self) -> Result<String, String> {
        let now = OffsetDateTime::now_utc();
        // The feed before the retriever stalled: status events it has retrieved.
        self.sandbox.add_events([
            Event::for_message("Electronic message created", 9001, "social-services")
                .at(now - time::Duration::hours(6)),
            Event::for_message("Electronic message read", 9001, "social-services")
                .at(now - time::Duration::hours(5)),
            Event::for_message("Paper mail created", 9002, "early-education")
                .at(now - time::Duration::hours(4)),
        ]);
        let (stalled_at, _) = self.retrieve(None).await?;
        self.progress(
            "retriever: last successful poll 3 h ago, then it stalled; its checkpoint says so",
        );
        let three_hours_ago = suomifi_shared::alerts::format_time(now - time::Duration::hours(3));
        let code = self
            .cli(&[
                "checkpoint",
                "put",
                "--parameter",
                CHECKPOINT,
                "--token",
                &stalled_at,
                "--updated-at",
                &three_hours_ago,
            ])
            .await?;
        ensure!(code == 0, "checkpoint put exited {code}");
        // Citizens write meanwhile.
        let minutes = [170, 150, 120, 95];
        let services = [
            "social-services",
            "early-education",
            "social-services",
            "social-services",
        ];
        for (i, (m, s)) in minutes.iter().zip(services).enumerate() {
            self.sandbox.add_event(
                Event::end_user_message(7001 + i as i64, s).at(now - time::Duration::minutes(*m)),
            );
        }
        self.progress(
            "citizens sent 4 messages since (oldest 2 h 50 min ago): nobody has retrieved them",
        );
        self.progress("check-retrieval (scheduled run):");
        // One system here (SUOMIFI_SECRET_ID): the report's only entry.
        let report = Self::invoke(&mut self.retrieval, json!({})).await?["systems"][0].clone();
        self.progress(&format!(
            "  report: status {}, heartbeat {} min old, backlog {} message(s), {} day(s) to deletion",
            self.paint.yellow(report["status"].as_str().unwrap_or("?")),
            report["heartbeat"]["ageMinutes"],
            report["backlog"]["count"],
            report["backlog"]["daysUntilDeletion"]
        ));
        ensure!(report["status"] != "ok", "the check found nothing wrong");
        ensure!(
            report["heartbeat"]["stale"] == true,
            "the heartbeat is not stale"
        );
        ensure!(
            report["backlog"]["count"] == 4,
            "backlog {} instead of 4",
            report["backlog"]["count"]
        );
        let opened = self.show_notifications().await?;
        ensure!(
            opened.len() >= 2,
            "{} alert(s) instead of heartbeat + backlog",
            opened.len()
        );
        ensure!(
            opened
                .iter()
                .all(|s| s.starts_with("[WARNING]") || s.starts_with("[CRITICAL]")),
            "unexpected subjects: {opened:?}"
        );

        self.progress("the operator looks (exit code 3 = a warning is open):");
        let code = self
            .cli(&[
                "status",
                "--secret-id",
                SECRET,
                "--checkpoint-parameter",
                CHECKPOINT,
                "--state-table",
                &self.table.clone(),
            ])
            .await?;
        ensure!(
            code == 3 || code == 4,
            "status exited {code} while alerts are open"
        );

        let (caught_up, retrieved) = self.retrieve(Some(stalled_at)).await?;
        ensure!(
            retrieved == 4,
            "the retriever fetched {retrieved} messages instead of 4"
        );
        self.progress("retriever restarted: fetched the 4 messages and wrote its checkpoint");
        let code = self
            .cli(&[
                "checkpoint",
                "put",
                "--parameter",
                CHECKPOINT,
                "--token",
                &caught_up,
            ])
            .await?;
        ensure!(code == 0, "checkpoint put exited {code}");
        self.progress("check-retrieval (next scheduled run):");
        let report = Self::invoke(&mut self.retrieval, json!({})).await?["systems"][0].clone();
        self.progress(&format!(
            "  report: status {}, heartbeat {} min old, backlog {} message(s)",
            self.paint.green(report["status"].as_str().unwrap_or("?")),
            report["heartbeat"]["ageMinutes"],
            report["backlog"]["count"]
        ));
        ensure!(
            report["status"] == "ok",
            "status {} after catching up",
            report["status"]
        );
        let resolved = self.show_notifications().await?;
        ensure!(
            resolved.len() == opened.len() && resolved.iter().all(|s| s.starts_with("[RESOLVED]")),
            "expected {} [RESOLVED], got {resolved:?}",
            opened.len()
        );
        Ok(format!(
            "{} alert(s), then {} [RESOLVED]",
            opened.len(),
            resolved.len()
        ))
    }
}
