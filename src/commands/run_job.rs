//! What every fleet command does around its job: select the hosts, check where results go, start
//! the reporters, run the job on the fleet, print the recap or JSON, write the report, return the
//! exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{FleetArgs, RolloutArgs};
use crate::error::FatalError;
use crate::inventory::{Host, Targets};
use crate::printer::{Printer, Verbosity};
use crate::reporter::{HostLogs, RecapColumns, Reporter, Summary, render_recap};
use crate::runner::{Board, FleetRun, HostJob, HostResult, Rollout, run_fleet};
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
    /// Where per-host logs of remote output go (beside the backups); `None` shows output. The
    /// retry file of a run with failed hosts goes there too.
    pub(super) logs: Option<&'a Path>,
    /// `--serial`, `--canary`, `--max-fail`, for the commands that take them.
    pub(super) rollout: Option<&'a RolloutArgs>,
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
    /// Batches, the failure budget, Ctrl-C and the board of where each host is.
    rollout: Rollout,
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
        let args = options.rollout;
        let rollout = Rollout {
            serial: args.map_or_else(crate::runner::Serial::all_at_once, RolloutArgs::serial),
            budget: args.map(RolloutArgs::budget).unwrap_or_default(),
            board: Board::new(hosts.iter().map(|h| h.name.as_str())),
            ..Rollout::default()
        };
        // Signals are caught only now: a Ctrl-C at a passphrase prompt still ends hubfleet at once.
        listen_for_signals(&runtime, &rollout, printer);
        Ok(Self {
            options,
            printer,
            hosts,
            runtime,
            credentials,
            rollout,
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
        // All at once, outside the batches and the budget, but stopped by Ctrl-C as the run is.
        let rollout = Rollout {
            interrupt: self.rollout.interrupt.clone(),
            board: self.rollout.board.clone(),
            ..Rollout::default()
        };
        self.run_with(hosts, job, logs, &rollout).results
    }

    /// Runs `job` on `hosts` as `rollout` says, with the reporters attached.
    fn run_with<J: HostJob>(
        &self,
        hosts: &[Host],
        job: Arc<J>,
        logs: Option<HostLogs>,
        rollout: &Rollout,
    ) -> FleetRun<J::Report> {
        let (events, reporter) = Reporter::start(*self.printer, logs);
        let forks = usize::from(self.options.fleet.forks);
        let run = run_fleet(hosts, forks, &self.credentials, job, events, rollout);
        let run = self.runtime.block_on(run);
        reporter.finish();
        run
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
        let run = self.run_with(&self.hosts, job, logs, &self.rollout);
        let code = self.finish_run(run);
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
        self.finish_run(FleetRun {
            results,
            stopped: None,
        })
    }

    /// [`Fleet::finish`] for a whole run: why it stopped early, if it did, is said under the
    /// recap and in the report, and its failed hosts go to a retry file beside the backups.
    fn finish_run<R: RecapColumns + serde::Serialize>(&self, run: FleetRun<R>) -> u8 {
        let mut summary = Summary::new(run.results);
        summary.stopped = run.stopped.map(|reason| reason.to_string());
        if let Some(dir) = self.options.logs {
            summary.retry_file = write_retry_file(dir, &summary.to_retry(), self.printer);
        }
        let code = summary.exit_code;
        let (printer, output) = (self.printer, &self.options.fleet.output);
        output::emit(output, printer, self.options.command, &summary, || {
            let mut recap = render_recap(&summary.hosts, terminal_width(), printer.color);
            if let Some(why) = &summary.stopped {
                recap.push_str(&format!("\nthe run stopped early: {why}"));
            }
            recap
        });
        if let Some(path) = &summary.retry_file {
            printer.err(&format!(
                "the failed hosts are listed in `{}`: run again on them with `--limit @{}`",
                path.display(),
                path.display()
            ));
        }
        code
    }
}

/// Catches SIGINT, SIGTERM and SIGHUP for the run: the first stops the rollout (no new host, no
/// new step before a stop), the second exits at once, saying where each host was left.
fn listen_for_signals(runtime: &tokio::runtime::Runtime, rollout: &Rollout, printer: &Printer) {
    let _entered = runtime.enter();
    let (board, printer) = (rollout.board.clone(), *printer);
    let listening = rollout.interrupt.listen(move |signal| {
        printer.err(&format!(
            "{signal} again: exiting at once; where each host was left:"
        ));
        for line in board.lines() {
            printer.err(&format!("  {line}"));
        }
        std::process::exit(i32::from(crate::exit_code::for_signal(signal)));
    });
    if let Err(e) = listening {
        printer.err(&format!(
            "warning: Ctrl-C will end hubfleet at once (cannot catch signals: {e})"
        ));
    }
}

/// Writes the names of `hosts` (failed or unreachable) to `DIR/retry-TIMESTAMP.txt`, atomically,
/// for `--limit @FILE`; its path, if there was anything to write and it could be written.
fn write_retry_file(dir: &Path, hosts: &[&str], printer: &Printer) -> Option<std::path::PathBuf> {
    if hosts.is_empty() {
        return None;
    }
    let stem = format!("retry-{}", crate::backup_dir::stamp(jiff::Timestamp::now()));
    let path = crate::backup_dir::candidates(dir, &stem, "txt", 99).find(|p| !p.exists())?;
    let text: String = hosts.iter().map(|h| format!("{h}\n")).collect();
    match crate::atomic_file::write(&path, text.as_bytes()) {
        Ok(()) => Some(path),
        Err(e) => {
            printer.err(&format!(
                "warning: the retry file `{}` was not written: {e}",
                path.display()
            ));
            None
        }
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
