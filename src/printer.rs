//! The one printer: every line hubfleet shows goes through here. stdout carries only the result
//! (host output, the recap, JSON); progress, warnings and errors go to stderr.

use std::io::{IsTerminal, Write};

/// How much to show, from `-q` and how many `-v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Only results and errors.
    Quiet,
    /// Progress and results.
    Normal,
    /// Also the cause chain of every failure (`-v`, `-vv`).
    Verbose,
    /// Also the SSH library's debug log (`-vvv`), as plain lines: no bars for it to tear.
    Debug,
}

impl Verbosity {
    /// The verbosity of `-q` (`quiet`) and `verbose` times `-v`.
    pub fn from_flags(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Self::Quiet,
            (false, 0) => Self::Normal,
            (false, 1 | 2) => Self::Verbose,
            (false, _) => Self::Debug,
        }
    }
}

/// Where and how output is shown, decided once from the flags and the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// How much to show.
    pub verbosity: Verbosity,
    /// Whether to draw progress bars (stderr is a terminal and `--no-progress` was not given).
    pub bars: bool,
}

impl Printer {
    /// A printer for the given flags; bars only when stderr is a terminal and no debug log
    /// interleaves with them.
    pub fn new(verbosity: Verbosity, no_progress: bool) -> Self {
        let bars = !no_progress
            && matches!(verbosity, Verbosity::Normal | Verbosity::Verbose)
            && std::io::stderr().is_terminal();
        Self { verbosity, bars }
    }

    /// Writes a result line to stdout. A closed pipe (`| head`) is not an error worth a panic.
    pub fn out(&self, line: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    /// Writes a progress, warning or error line to stderr.
    pub fn err(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
