//! `hubfleet completions SHELL`: the shell's completion script for every subcommand and flag,
//! generated from the same clap definition that parses the command line.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::printer::Printer;

/// Prints the completion script for `args.shell`.
pub fn run(args: &CompletionsArgs, printer: &Printer) -> u8 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "hubfleet", &mut script);
    printer.out(String::from_utf8_lossy(&script).trim_end());
    0
}
