//! The columns an upgrade adds to the recap (version, revision, downtime, archive) and the
//! lines under it (a dry run's plan, the commands that finish a hub left down by hand).

use super::RecapColumns;
use crate::jobs::{Pinned, UpgradeReport};
use crate::plan::UpgradePlan;

impl RecapColumns for UpgradeReport {
    fn headers() -> Vec<&'static str> {
        vec!["VERSION", "REVISION", "DOWNTIME", "ARCHIVE"]
    }

    fn cells(&self) -> Vec<String> {
        let arrow = |before: &Option<String>, after: &Option<String>| match (before, after) {
            (Some(b), Some(a)) if b == a => b.clone(),
            (b, a) => format!(
                "{} → {}",
                b.as_deref().unwrap_or("-"),
                a.as_deref().unwrap_or("-")
            ),
        };
        let mut version = arrow(&self.version_before, &self.version_after);
        if self.unchanged {
            version.push_str(" (unchanged)");
        } else if self.plan.is_some() {
            version = format!(
                "{} (planned)",
                arrow(&self.version_before, &self.version_target)
            );
        }
        let short = |r: &Option<String>| r.as_ref().map(|r| r.chars().take(12).collect::<String>());
        let mut revision = arrow(&short(&self.revision_before), &short(&self.revision_after));
        if !self.migrations.is_empty() {
            revision.push_str(&format!(" ({} migrations)", self.migrations.len()));
        }
        vec![
            version,
            revision,
            self.downtime_seconds
                .map(|s| format!("{s:.1}s"))
                .unwrap_or_default(),
            match (&self.archive, &self.archive_sha256) {
                (Some(path), Some(sum)) => format!("{} (sha256 {})", path.display(), &sum[..16]),
                _ => String::new(),
            },
        ]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self
            .plan
            .as_ref()
            .map(UpgradePlan::lines)
            .unwrap_or_default();
        // The plan says where its target came from; a real run says it once, on stderr.
        if let (Some(host), Some(plan)) = (&self.latest_resolved_on, &self.plan) {
            let pinned = Pinned {
                host: host.clone(),
                version: plan.target.clone(),
            };
            notes.insert(0, pinned.line());
        }
        notes.extend(super::recap_columns::by_hand(&self.by_hand));
        notes
    }
}
