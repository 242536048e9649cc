//! `hubfleet upgrade --to VERSION`: JupyterHub's upgrade procedure on every selected hub,
//! safely. The per-host work is [`crate::jobs::UpgradeJob`], which builds each host's plan
//! ([`crate::plan::UpgradePlan`]) and executes it; `upgrade --help` lists the steps
//! ([`crate::step::Step`]).

use std::sync::Arc;
use std::time::Duration;

use super::{RunOptions, run_job};
use crate::cli::UpgradeArgs;
use crate::error::FatalError;
use crate::jobs::UpgradeJob;
use crate::printer::Printer;

/// Upgrades every selected host (or, with `--dry-run`, prints each host's plan).
pub fn run(args: &UpgradeArgs, printer: &Printer) -> Result<u8, FatalError> {
    let to = crate::target_version::TargetVersion::parse(&args.to)?;
    let options = RunOptions {
        command: "upgrade",
        targets: crate::inventory::Targets::Hubs,
        fleet: &args.fleet,
        json: args.json,
        logs: Some(&args.backups.dir),
    };
    let job = UpgradeJob {
        to: to.to_string(),
        backup_dir: args.backups.dir.clone(),
        dry_run: args.dry_run,
        allow_active_servers: args.allow_active_servers,
        rollback: !args.no_rollback,
        message: args.message.clone(),
        grace: Duration::from_secs(args.grace),
        holder: crate::steps::LockHolder::this_run("upgrade"),
    };
    run_job(&options, Arc::new(job), printer)
}
