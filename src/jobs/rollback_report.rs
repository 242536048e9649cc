//! What a rollback did on a host (or, with `--dry-run`, plans to do): the report's record and the
//! recap's columns.

use std::path::PathBuf;

use serde::Serialize;

use crate::plan::RollbackPlan;
use crate::runner::RecapColumns;
use crate::steps::Losses;

/// What happened on a host, for the recap and the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RollbackReport {
    /// JupyterHub before.
    pub version_before: Option<String>,
    /// The archive's release.
    pub version_target: Option<String>,
    /// JupyterHub after (the archive's, once healthy).
    pub version_after: Option<String>,
    /// Alembic revision before.
    pub revision_before: Option<String>,
    /// Alembic revision after (the archive's).
    pub revision_after: Option<String>,
    /// The archive put back.
    #[serde(serialize_with = "crate::reporter::lossy_path")]
    pub archive: Option<PathBuf>,
    /// Its sha256.
    pub archive_sha256: Option<String>,
    /// What the live database had that the archive does not.
    pub losses: Option<Losses>,
    /// The live files that differed from the archive's and were (or would be) replaced.
    pub files: Vec<String>,
    /// From the stop to `/hub/api` answering with the archive's version.
    pub downtime_seconds: Option<f64>,
    /// The live database as it was before the rollback, kept beside it.
    pub kept_db: Option<String>,
    /// Its sha256.
    pub kept_db_sha256: Option<String>,
    /// A hub left down: the commands that finish (or undo) the rollback by hand, in order.
    pub by_hand: Vec<String>,
    /// The plan (with `--dry-run`, which only makes it).
    pub plan: Option<RollbackPlan>,
}

impl RecapColumns for RollbackReport {
    fn headers() -> Vec<&'static str> {
        vec!["VERSION", "REVISION", "LOST", "DOWNTIME"]
    }

    fn cells(&self) -> Vec<String> {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        let after = if self.plan.is_some() {
            format!("{} (planned)", or_dash(&self.version_target))
        } else {
            or_dash(&self.version_after)
        };
        let short = |r: &Option<String>| r.as_ref().map(|r| r.chars().take(12).collect::<String>());
        vec![
            format!("{} → {after}", or_dash(&self.version_before)),
            format!(
                "{} → {}",
                or_dash(&short(&self.revision_before)),
                or_dash(&short(&self.revision_after))
            ),
            self.losses
                .as_ref()
                .map(Losses::describe)
                .unwrap_or_default(),
            self.downtime_seconds
                .map(|s| format!("{s:.1}s"))
                .unwrap_or_default(),
        ]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self
            .plan
            .as_ref()
            .map(RollbackPlan::lines)
            .unwrap_or_default();
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
