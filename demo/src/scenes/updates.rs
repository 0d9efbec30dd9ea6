//! Scene 5: a security advisory for a crate the `check-updates` binary really links.

use crate::setup::Demo;
use serde_json::json;

impl Demo {
    /// Scene 5: one `[CRITICAL]` alert for the advisory; the advisory gone, `[RESOLVED]`.
    pub(crate) async fn updates(&mut self) -> Result<String, String> {
        let bin = std::fs::read(integration_tests::binary("check-updates"))
            .map_err(|e| format!("read check-updates: {e}"))?;
        let list = suomifi_shared::deps::find_in_binary(&bin)
            .ok_or("the check-updates binary carries no dependency list")?;
        let hyper = list
            .crates
            .iter()
            .find(|c| c.name == "hyper")
            .ok_or("check-updates does not link hyper")?
            .clone();
        let mut parts: Vec<u64> = hyper
            .version
            .split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        parts.resize(3, 0);
        let fixed = format!("{}.{}.{}", parts[0], parts[1], parts[2] + 1);
        self.progress(&format!(
            "the check-updates binary carries its dependency list: {} crates, among them hyper {}",
            list.crates.len(),
            hyper.version
        ));
        self.osv.publish(json!({
            "id": "RUSTSEC-2099-0042",
            "summary": "demo advisory: request smuggling in the HTTP/1 parser",
            "aliases": ["CVE-2099-4242", "GHSA-demo-demo-demo"],
            "database_specific": {"severity": "HIGH"},
            "affected": [{
                "package": {"name": "hyper", "ecosystem": "crates.io"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
            }]
        }));
        self.progress(&format!(
            "OSV stand-in publishes RUSTSEC-2099-0042 for hyper < {fixed}"
        ));
        self.progress("check-updates (daily run):");
        let report = Self::invoke(&mut self.updates, json!({})).await?;
        self.progress(&format!(
            "  report: {}, {} advisory(ies), {} crates checked",
            self.paint.red(report["status"].as_str().unwrap_or("?")),
            report["advisories"].as_array().map_or(0, Vec::len),
            report["dependencyList"]["crates"]
        ));
        ensure!(
            report["status"] == "affected",
            "status {}",
            report["status"]
        );
        let first = self.show_notifications().await?;
        ensure!(
            first.len() == 1 && first[0].starts_with("[CRITICAL]"),
            "expected one advisory alert, got {first:?}"
        );
        self.osv.remove("RUSTSEC-2099-0042");
        self.progress("rebuilt and redeployed (here: the advisory is gone from OSV)");
        self.progress("check-updates (next daily run):");
        let report = Self::invoke(&mut self.updates, json!({})).await?;
        self.progress(&format!(
            "  report: {}",
            self.paint.green(report["status"].as_str().unwrap_or("?"))
        ));
        ensure!(report["status"] == "ok", "status {}", report["status"]);
        let second = self.show_notifications().await?;
        ensure!(
            second.len() == 1 && second[0].starts_with("[RESOLVED]"),
            "expected one [RESOLVED], got {second:?}"
        );
        Ok("advisory alert, then [RESOLVED]".into())
    }
}
