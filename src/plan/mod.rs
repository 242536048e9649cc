//! The plan stage: what runs on a host is decided once, as a value, from the host, its facts and
//! the target; the upgrade job executes it and `--dry-run` renders the same value.

pub mod policy;
mod rollback_plan;
mod upgrade_plan;

pub use rollback_plan::{EnvPlan, RollbackPlan, check_archive, live_path};
pub use upgrade_plan::{CutoverWork, PlannedStep, Request, UpgradePlan, Work};
