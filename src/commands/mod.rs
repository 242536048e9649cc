//! Thin wiring from each subcommand's arguments to the inventory, the runner and the reporters.

mod backup;
mod exec;
mod facts;
mod inventory;
mod run_job;
mod targets;
mod upgrade;
mod verify;

use run_job::{RunOptions, run_job, terminal_width};

use crate::cli::{Cli, Command};
use crate::error::render;
use crate::printer::{Printer, Verbosity};

/// Runs the command line and returns the process exit code.
pub fn run(cli: &Cli) -> u8 {
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let printer = Printer::new(verbosity, cli.no_progress);
    let result = match &cli.command {
        Command::Inventory(args) => inventory::run(args, &printer),
        Command::Exec(args) => exec::run(args, &printer),
        Command::Backup(args) => backup::run(args, &printer),
        Command::Upgrade(args) => upgrade::run(args, &printer),
        Command::Facts(args) => facts::run(args, &printer),
        Command::Verify(args) => Ok(verify::run(args, &printer)),
    };
    result.unwrap_or_else(|error| {
        printer.err(&render(&error, &error.hints()));
        crate::exit_code::USAGE
    })
}
