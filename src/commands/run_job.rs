//! What every fleet command does around its job: select the hosts, check where results go, start
//! the reporters, run the job on the fleet, print the recap or JSON, write the report, return the
//! exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::FleetArgs;
use crate::error::FatalError;
use crate::inventory::{Host, Targets};
use crate::printer::{Printer, Verbosity};
use crate::reporter::{HostLogs, RecapColumns, Reporter, Summary, render_recap};
use crate::runner::{HostJob, HostResult, run_fleet};
use crate::ssh::{Credentials, PassphrasePrompt};

use super::{output, targets};

/// Width for tables: `$COLUMNS` (shells rarely export it), else the terminal's own width when
/// stdout is one (comfy-table asks it), else 100.
pub(super) fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| comfy_table::Table::new().width())
        .unwrap_or(100)
}

/// What every fleet command shares: which hosts, how many at once, where the results go.
pub(super) struct RunOptions<'a> {
    /// The subcommand's name, for the report.
    pub(super) command: &'a str,
    /// Whether helpers (`hub = false`) may be targeted.
    pub(super) targets: Targets,
    /// Inventory, `--limit`, `--forks`, `--json`, `--report`.
    pub(super) fleet: &'a FleetArgs,
    /// Where per-host logs of remote output go (beside the backups); `None` shows output.
    pub(super) logs: Option<&'a Path>,
}

/// Selects the hosts, runs `job` on them with the reporters attached, prints the recap (or the
/// JSON summary), writes the report, and returns the exit code.
pub(super) fn run_job<J: HostJob>(
    options: &RunOptions<'_>,
    job: Arc<J>,
    printer: &Printer,
) -> Result<u8, FatalError>
where
    J::Report: RecapColumns,
{
    Fleet::prepare(options, printer)?.run(job)
}

/// A fleet command ready to run: its hosts selected, every check that needs no connection
/// passed, keys unlocked. Commands that must learn something first (`--to latest`) or ask before
/// they stop hubs do so between [`Fleet::prepare`] and [`Fleet::run`].
pub(super) struct Fleet<'a> {
    options: &'a RunOptions<'a>,
    printer: &'a Printer,
    /// The selected hosts, in inventory order.
    pub(super) hosts: Vec<Host>,
    runtime: tokio::runtime::Runtime,
    credentials: Credentials,
}

impl<'a> Fleet<'a> {
    /// Selects the hosts and checks, before the first connection, that the report and the logs
    /// can be written; then asks for key passphrases, before any bar draws over the terminal.
    pub(super) fn prepare(
        options: &'a RunOptions<'a>,
        printer: &'a Printer,
    ) -> Result<Self, FatalError> {
        let hosts = targets::select(&options.fleet.target, options.targets, printer)?;
        // Where results go is checked before the first connection, not after the fleet has run.
        output::probe(&options.fleet.output)?;
        if let Some(dir) = options.logs {
            crate::writable::probe_dir(dir).map_err(|source| FatalError::BackupDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let runtime = tokio::runtime::Runtime::new().map_err(FatalError::Runtime)?;
        let credentials = Credentials::new(passphrase_prompt());
        runtime.block_on(credentials.preload(hosts.iter().map(|h| &h.ssh)));
        Ok(Self {
            options,
            printer,
            hosts,
            runtime,
            credentials,
        })
    }

    /// Runs `job` on `hosts` (some of the selection) with the reporters attached and returns the
    /// results, rendering nothing after the run: a step before the run itself (`latest`).
    pub(super) fn run_on<J: HostJob>(
        &self,
        hosts: &[Host],
        job: Arc<J>,
        logs: Option<HostLogs>,
    ) -> Vec<HostResult<J::Report>> {
        let (events, reporter) = Reporter::start(*self.printer, logs);
        let forks = usize::from(self.options.fleet.forks);
        let run = run_fleet(hosts, forks, &self.credentials, job, events);
        let results = self.runtime.block_on(run);
        reporter.finish();
        results
    }

    /// Runs `job` on every selected host, prints the recap (or JSON), writes the report, and
    /// returns the exit code.
    pub(super) fn run<J: HostJob>(self, job: Arc<J>) -> Result<u8, FatalError>
    where
        J::Report: RecapColumns,
    {
        let logs = self
            .options
            .logs
            .map(|dir| HostLogs::new(dir, self.options.command));
        let log_hint = logs.as_ref().map(|l| l.path("HOST"));
        let results = self.run_on(&self.hosts, job, logs);
        let code = self.finish(results);
        // A notice, not a result or an error: `--quiet` leaves it out.
        if let Some(path) = log_hint.filter(|_| self.printer.verbosity > Verbosity::Quiet) {
            self.printer.err(&format!(
                "remote output is logged per host in `{}`",
                path.display()
            ));
        }
        Ok(code)
    }

    /// Prints the recap (or JSON) of `results`, writes the report and returns the exit code.
    pub(super) fn finish<R: RecapColumns + serde::Serialize>(
        &self,
        results: Vec<HostResult<R>>,
    ) -> u8 {
        let summary = Summary::new(results);
        let code = summary.exit_code;
        let (printer, output) = (self.printer, &self.options.fleet.output);
        output::emit(output, printer, self.options.command, &summary, || {
            render_recap(&summary.hosts, terminal_width(), printer.color)
        });
        code
    }
}

/// Asks for a key's passphrase on the terminal, once per key file; nobody to ask without one.
fn passphrase_prompt() -> PassphrasePrompt {
    Arc::new(|path: &Path| {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        rpassword::prompt_password(format!("passphrase for `{}`: ", path.display())).ok()
    })
}
