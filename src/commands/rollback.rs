//! `hubfleet rollback`: puts each selected hub back as an archive has it. The per-host work is
//! [`crate::jobs::RollbackJob`]. Unless `--yes`, the hosts are first checked and their plans shown
//! (a dry run, which changes nothing), and the operator asked; nothing stops before a yes, and
//! without a terminal to ask on, nothing stops at all.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use super::{RunOptions, run_job};
use crate::cli::RollbackArgs;
use crate::error::FatalError;
use crate::jobs::{ArchiveChoice, RollbackJob};
use crate::printer::Printer;

/// Rolls back every selected host (or, with `--dry-run`, prints each host's plan).
pub fn run(args: &RollbackArgs, printer: &Printer) -> Result<u8, FatalError> {
    let options = RunOptions {
        command: "rollback",
        targets: crate::inventory::Targets::Hubs,
        fleet: &args.fleet,
        json: args.json,
        logs: Some(&args.backups.dir),
    };
    let job = |dry_run| {
        Arc::new(RollbackJob {
            archive: args
                .archive
                .clone()
                .map_or(ArchiveChoice::Latest, ArchiveChoice::Path),
            backup_dir: args.backups.dir.clone(),
            dry_run,
        })
    };
    if args.dry_run || args.yes {
        return run_job(&options, job(args.dry_run), printer);
    }
    // Refused before any connection: stopping hubs is not something to do unasked.
    if !std::io::stdin().is_terminal() {
        return Err(FatalError::NoConfirmation);
    }
    let checked = run_job(&options, job(true), printer)?;
    if checked != 0 {
        printer.err("some host did not pass its checks: nothing was stopped");
        return Ok(checked);
    }
    printer.err("roll back these hosts as shown above (their hubs stop)? [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        printer.err("nothing was stopped");
        return Ok(0);
    }
    run_job(&options, job(false), printer)
}
