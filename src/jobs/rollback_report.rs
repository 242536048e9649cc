//! What a rollback did on a host (or, with `--dry-run`, plans to do): the report's record (its
//! recap columns are the reporter's, `reporter/rollback_columns.rs`).

use std::path::PathBuf;

use serde::Serialize;

use crate::plan::RollbackPlan;
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
    #[serde(serialize_with = "crate::lossy_path::serialize")]
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
