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

/// Where and how output is shown, decided once from the flags, the environment and the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// How much to show.
    pub verbosity: Verbosity,
    /// Whether to draw progress bars (stderr is a terminal that can redraw a line, and
    /// `--no-progress` was not given).
    pub bars: bool,
    /// Whether results on stdout may be coloured.
    pub color: bool,
    /// `--json`: stdout carries the JSON document alone, so the hosts' own output (which the
    /// JSON holds where a command keeps it) goes to stderr.
    pub json: bool,
}

/// What the environment says about the terminal, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terminal {
    /// `$TERM` is `dumb`: it cannot move the cursor, so no bars and no colour.
    pub dumb: bool,
    /// `$NO_COLOR` is set and not empty (<https://no-color.org>).
    pub no_color: bool,
    /// `$CLICOLOR_FORCE` is set and not `0`: colour even when piped
    /// (<https://bixense.com/clicolors/>).
    pub force_color: bool,
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal.
    pub stderr_tty: bool,
}

impl Terminal {
    /// This process's terminal and environment.
    pub fn detect() -> Self {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        Self {
            dumb: var("TERM").is_some_and(|t| t == "dumb"),
            no_color: var("NO_COLOR").is_some(),
            force_color: var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// Whether stdout gets colour: forced beats `NO_COLOR`, which beats the terminal, as the
    /// two conventions ask.
    pub fn color(&self) -> bool {
        self.force_color || (!self.no_color && !self.dumb && self.stdout_tty)
    }
}

impl Printer {
    /// A printer for the given flags in this process's terminal.
    pub fn new(verbosity: Verbosity, no_progress: bool) -> Self {
        Self::for_terminal(verbosity, no_progress, &Terminal::detect())
    }

    /// A printer for the given flags and terminal: bars only on a terminal that can redraw them
    /// and when no debug log interleaves with them.
    pub fn for_terminal(verbosity: Verbosity, no_progress: bool, terminal: &Terminal) -> Self {
        let bars = !no_progress
            && matches!(verbosity, Verbosity::Normal | Verbosity::Verbose)
            && terminal.stderr_tty
            && !terminal.dumb;
        Self {
            verbosity,
            bars,
            color: terminal.color(),
            json: false,
        }
    }

    /// A line of a host's own output: stdout's on stdout, unless stdout carries `--json`.
    pub fn host_output(&self, stdout: bool, line: &str) {
        if stdout && !self.json {
            self.out(line);
        } else {
            self.err(line);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_colour_follow_the_terminal_and_the_conventions() {
        let tty = Terminal {
            stdout_tty: true,
            stderr_tty: true,
            ..Terminal::default()
        };
        let cases = [
            ("a terminal", tty.clone(), true, true),
            (
                "TERM=dumb",
                Terminal {
                    dumb: true,
                    ..tty.clone()
                },
                false,
                false,
            ),
            (
                "NO_COLOR",
                Terminal {
                    no_color: true,
                    ..tty.clone()
                },
                true,
                false,
            ),
            (
                "NO_COLOR and CLICOLOR_FORCE",
                Terminal {
                    no_color: true,
                    force_color: true,
                    ..tty.clone()
                },
                true,
                true,
            ),
            ("piped", Terminal::default(), false, false),
            (
                "piped, CLICOLOR_FORCE",
                Terminal {
                    force_color: true,
                    ..Terminal::default()
                },
                false,
                true,
            ),
        ];
        for (name, terminal, bars, color) in cases {
            let printer = Printer::for_terminal(Verbosity::Normal, false, &terminal);
            assert_eq!((printer.bars, printer.color), (bars, color), "{name}");
        }
    }
}
