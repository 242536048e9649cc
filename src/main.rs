//! The `hubfleet` binary: parse the command line, run, exit with the code from `exit_code`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match hubfleet::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 on a usage error, which is our "some host failed": use ours.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                hubfleet::exit_code::USAGE
            } else {
                0
            });
        }
    };
    ExitCode::from(hubfleet::commands::run(&cli))
}
