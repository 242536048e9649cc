//! The plan stage: what runs on a host is decided once, as a value, from the host, its facts and
//! the target; the upgrade job executes it and `--dry-run` renders the same value.

pub mod policy;
mod upgrade_plan;

pub use upgrade_plan::{CutoverWork, PlannedStep, Request, UpgradePlan, Work};
