//! Scenes 1 and 2: a full password rotation; a rotation whose change-password answer is lost.

use crate::setup::{Demo, FIRST_PASSWORD, SECRET};
use serde_json::json;
use std::time::Duration;
use suomifi_sandbox::{Endpoint, Fault, FaultRule};
use suomifi_shared::suomifi::ApiError;

impl Demo {
    /// Scene 1: the four steps, then Suomi.fi accepts only the new password and `AWSPREVIOUS`
    /// holds the old one.
    pub(crate) async fn full_rotation(&mut self) -> Result<String, String> {
        let token = self.start_rotation().await?;
        for s in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            self.step(s, &token).await?;
        }
        let new = self.password("AWSCURRENT").await?;
        ensure!(
            new != FIRST_PASSWORD,
            "AWSCURRENT still holds the first password"
        );
        ensure!(
            self.sandbox.password() == new,
            "the sandbox does not hold the new AWSCURRENT password"
        );
        ensure!(
            self.login(&new).await.is_ok(),
            "Suomi.fi refuses the new password"
        );
        let old_refused = matches!(
            self.login(FIRST_PASSWORD).await,
            Err(ApiError::AuthenticationFailed { .. })
        );
        ensure!(old_refused, "Suomi.fi still accepts the old password");
        ensure!(
            self.password("AWSPREVIOUS").await? == FIRST_PASSWORD,
            "AWSPREVIOUS does not hold the old password"
        );
        ensure!(
            self.stages()
                .await?
                .values()
                .all(|s| !s.contains(&"AWSPENDING".to_owned())),
            "AWSPENDING left behind"
        );
        self.progress(&format!(
            "  Suomi.fi accepts the new password ({} characters) {} and refuses the old one {}",
            new.chars().count(),
            self.paint.green("✓"),
            self.paint.green("✓")
        ));
        self.progress(&format!(
            "  AWSPREVIOUS holds the old password {}",
            self.paint.green("✓")
        ));
        self.progress("  a rotation that succeeds notifies nobody (NOTIFY_ON_SUCCESS is off):");
        self.show_notifications().await?;
        Ok("new password works, old refused, AWSPREVIOUS = old".into())
    }

    /// Scene 2: the function is killed while the change-password answer is held back; the
    /// retry finds the change made and completes it, with one change at Suomi.fi.
    pub(crate) async fn lost_response(&mut self) -> Result<String, String> {
        let before = self.password("AWSCURRENT").await?;
        let changes = self.sandbox.state().password_changes;
        let token = self.start_rotation().await?;
        self.step("createSecret", &token).await?;
        self.sandbox
            .add_fault(FaultRule::once(
                Endpoint::ChangePassword,
                Fault::Delay { millis: 30_000 },
            ))
            .map_err(|e| e.to_string())?;
        self.progress(
            "  fault: Suomi.fi applies the next change-password but holds its answer back",
        );
        let event = json!({"Step": "setSecret", "SecretId": SECRET, "ClientRequestToken": token});
        // Lambda's timeout strikes while the function waits for the answer: wait until the
        // sandbox has applied the change (not a fixed sleep, so a slow machine cannot kill the
        // function too early), then kill it.
        let sandbox = self.sandbox.sandbox();
        let previous = before.clone();
        let applied = async move {
            while sandbox.password() == previous {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let res = tokio::select! {
            r = self.rotate.invoke_within(event, Duration::from_secs(20)) => Some(r),
            () = applied => None,
        };
        ensure!(
            res.is_none(),
            "setSecret answered although the answer was held back: {res:?}"
        );
        self.rotate.restart().await;
        self.progress(&format!(
            "  setSecret      → {} (Lambda timed out: the process is killed, the answer is lost)",
            self.paint.yellow("no answer")
        ));
        ensure!(
            self.sandbox.password() != before,
            "the delayed change was not applied by the sandbox"
        );
        self.progress("  Secrets Manager retries the whole rotation:");
        let mut outcomes = Vec::new();
        for s in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            outcomes.push(self.step(s, &token).await?);
        }
        ensure!(
            outcomes[1] == "already_changed",
            "setSecret on retry said {}",
            outcomes[1]
        );
        let current = self.password("AWSCURRENT").await?;
        ensure!(
            self.sandbox.password() == current,
            "AWSCURRENT is not the password Suomi.fi accepts"
        );
        ensure!(
            self.password("AWSPREVIOUS").await? == before,
            "AWSPREVIOUS is not the previous password"
        );
        let made = self.sandbox.state().password_changes - changes;
        ensure!(made == 1, "{made} password changes instead of 1");
        self.progress(&format!(
            "  one password change at Suomi.fi, and it is AWSCURRENT {}",
            self.paint.green("✓")
        ));
        self.show_notifications().await?;
        Ok("retry found the change made (already_changed); 1 change".into())
    }
}
