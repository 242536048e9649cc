//! What an upgrade did on a host (or, with `--dry-run`, plans to do): the report's record and
//! the recap's columns.

use std::path::PathBuf;

use serde::Serialize;

use crate::plan::UpgradePlan;
use crate::runner::RecapColumns;

/// What happened on a host, for the recap and the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpgradeReport {
    /// JupyterHub before.
    pub version_before: Option<String>,
    /// The version the upgrade aims at (`--to latest` resolved).
    pub version_target: Option<String>,
    /// `--to latest`: the host that resolved it for the whole run.
    pub latest_resolved_on: Option<String>,
    /// JupyterHub after (the target, once healthy).
    pub version_after: Option<String>,
    /// Alembic revision before.
    pub revision_before: Option<String>,
    /// Alembic revision after upgrade-db.
    pub revision_after: Option<String>,
    /// The migrations upgrade-db applies, oldest first.
    pub migrations: Vec<String>,
    /// Packages the installer installs or upgrades.
    pub packages: Vec<String>,
    /// The verified archive taken before anything changed.
    #[serde(serialize_with = "crate::reporter::lossy_path")]
    pub archive: Option<PathBuf>,
    /// Its sha256.
    pub archive_sha256: Option<String>,
    /// From the stop command to `/hub/api` answering with the target version.
    pub downtime_seconds: Option<f64>,
    /// Already at the target: nothing was done.
    pub unchanged: bool,
    /// jupyterhub in the single-user env after the upgrade (with `singleuser_env`).
    pub singleuser_version_after: Option<String>,
    /// Where the env the upgrade replaced is kept (the package half of a rollback).
    pub previous_env: Option<String>,
    /// The database as it was at the stop, kept beside it by the cutover: removed once the
    /// target serves, kept after a rollback (the database put back is byte for byte this) and
    /// when the hub is left down.
    pub kept_db: Option<String>,
    /// Its sha256, recorded right after the copy.
    pub kept_db_sha256: Option<String>,
    /// A hub left down: the commands that finish the way back by hand, in order.
    pub by_hand: Vec<String>,
    /// The plan (with `--dry-run`, which only makes it): every step with its resolved values,
    /// its phase and its way back.
    pub plan: Option<UpgradePlan>,
}

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
            let pinned = super::Pinned {
                host: host.clone(),
                version: plan.target.clone(),
            };
            notes.insert(0, pinned.line());
        }
        if !self.by_hand.is_empty() {
            notes.push("the hub is DOWN; to finish by hand, on the host:".to_owned());
            notes.extend(
                self.by_hand
                    .iter()
                    .enumerate()
                    .map(|(i, command)| format!("  {}. {command}", i + 1)),
            );
        }
        notes
    }
}
