//! What an upgrade did on a host (or, with `--dry-run`, plans to do): the report's record (its
//! recap columns are the reporter's, `reporter/upgrade_columns.rs`).

use std::path::PathBuf;

use serde::Serialize;

use crate::plan::UpgradePlan;

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
    #[serde(serialize_with = "crate::lossy_path::serialize")]
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
