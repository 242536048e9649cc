//! The per-host work of the commands that change hosts: what runs on one host, over its session,
//! between the runner (which gives it a slot and a session) and the steps (which it calls).

mod latest;
mod upgrade;
mod upgrade_report;

pub use latest::{Pinned, ResolveLatest, Resolved};
pub use upgrade::UpgradeJob;
pub use upgrade_report::UpgradeReport;
