//! Thin wiring from each subcommand's arguments to the inventory, the runner and the reporters.

mod backup;
mod completions;
mod confirm;
mod exec;
mod facts;
mod inventory;
mod man;
mod output;
mod rollback;
mod run_job;
mod targets;
mod upgrade;
mod verify;

use run_job::{Fleet, RunOptions, run_job, terminal_width};

use crate::cli::{Cli, Command};
use crate::error::render;
use crate::printer::{Printer, Verbosity};

/// Runs the command line and returns the process exit code.
pub fn run(cli: &Cli) -> u8 {
    let mut printer = Printer::new(
        Verbosity::from_flags(cli.quiet, cli.verbose),
        cli.no_progress,
    );
    printer.json = match &cli.command {
        Command::Inventory(args) => args.output.json,
        Command::Verify(args) => args.output.json,
        Command::Exec(args) => args.fleet.output.json,
        Command::Backup(args) => args.fleet.output.json,
        Command::Upgrade(args) => args.fleet.output.json,
        Command::Rollback(args) => args.fleet.output.json,
        Command::Facts(args) => args.fleet.output.json,
        Command::Completions(_) | Command::Man(_) => false,
    };
    if printer.verbosity == Verbosity::Debug {
        crate::debug_log::install(printer);
    }
    let result = match &cli.command {
        Command::Inventory(args) => inventory::run(args, &printer),
        Command::Exec(args) => exec::run(args, &printer),
        Command::Backup(args) => backup::run(args, &printer),
        Command::Upgrade(args) => upgrade::run(args, &printer),
        Command::Rollback(args) => rollback::run(args, &printer),
        Command::Facts(args) => facts::run(args, &printer),
        Command::Verify(args) => verify::run(args, &printer),
        Command::Completions(args) => Ok(completions::run(args, &printer)),
        Command::Man(args) => man::run(args, &printer),
    };
    result.unwrap_or_else(|error| {
        printer.err(&render(&error, &error.hints()));
        crate::exit_code::USAGE
    })
}
