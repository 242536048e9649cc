//! `hubfleet rollback`: puts each selected hub back as an archive has it. The per-host work is
//! [`crate::jobs::RollbackJob`]. Unless `--yes`, the hosts are first checked and their plans shown
//! (a dry run, which changes nothing), and the operator asked; nothing stops before a yes. Unlike
//! `upgrade`, a rollback loses rows: without a terminal to ask on, it refuses to run unless `--yes`.

use std::io::IsTerminal;
use std::sync::Arc;

use super::confirm::{confirm, some_names};
use super::{Fleet, RunOptions};
use crate::cli::RollbackArgs;
use crate::error::FatalError;
use crate::jobs::{ArchiveChoice, RollbackJob};
use crate::printer::Printer;
use crate::reporter::HostLogs;
use crate::steps::LockHolder;

/// Rolls back every selected host (or, with `--dry-run`, prints each host's plan).
pub fn run(args: &RollbackArgs, printer: &Printer) -> Result<u8, FatalError> {
    let ask = !(args.dry_run || args.confirm.yes);
    // Refused before any connection: stopping hubs and losing rows is not done unasked.
    if ask && !std::io::stdin().is_terminal() {
        return Err(FatalError::NoConfirmation);
    }
    let options = RunOptions {
        command: "rollback",
        targets: crate::inventory::Targets::Hubs,
        fleet: &args.fleet,
        logs: Some(&args.backups.dir),
        rollout: None,
    };
    let job = |dry_run| {
        Arc::new(RollbackJob {
            archive: args
                .archive
                .clone()
                .map_or(ArchiveChoice::Latest, ArchiveChoice::Path),
            backup_dir: args.backups.dir.clone(),
            dry_run,
            holder: LockHolder::this_run("rollback"),
        })
    };
    let fleet = Fleet::prepare(&options, printer)?;
    if ask {
        let logs = HostLogs::new(&args.backups.dir, "rollback-check");
        let checked = fleet.run_on(&fleet.hosts, job(true), Some(logs));
        let code = fleet.finish(checked);
        if code != 0 {
            printer.err("some host did not pass its checks: nothing was stopped");
            return Ok(code);
        }
        let hubs = &fleet.hosts;
        let summary = format!(
            "roll back {} hub{} ({}) as planned above: each hub is stopped, and what it lists as lost is lost",
            hubs.len(),
            if hubs.len() == 1 { "" } else { "s" },
            some_names(hubs.iter().map(|h| h.name.as_str())),
        );
        confirm("rollback", &summary, false)?;
    }
    fleet.run(job(args.dry_run))
}
