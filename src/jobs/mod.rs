//! The per-host work of the commands that change hosts: what runs on one host, over its session,
//! between the runner (which gives it a slot and a session) and the steps (which it calls).

mod latest;
mod rollback;
mod rollback_report;
mod upgrade;
mod upgrade_report;

pub use latest::{Pinned, ResolveLatest, Resolved};
pub use rollback::{ArchiveChoice, RollbackJob};
pub use rollback_report::RollbackReport;
pub use upgrade::UpgradeJob;
pub use upgrade_report::UpgradeReport;
