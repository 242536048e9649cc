//! What every fleet command does around its job: select the hosts, start the reporters, run the
//! job on the fleet, print the recap or JSON, write the report, return the exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{FleetArgs, RolloutArgs};
use crate::error::{FatalError, render};
use crate::printer::{Printer, Verbosity};
use crate::reporter::{HostLogs, RecapColumns, Reporter, Summary, render_recap};
use crate::runner::{Board, HostJob, Rollout, run_fleet};
use crate::ssh::{Credentials, PassphrasePrompt};

use super::targets;
use crate::inventory::Targets;

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
    /// Inventory, `--limit`, `--forks`, `--report`.
    pub(super) fleet: &'a FleetArgs,
    /// `--json`: the summary as JSON on stdout instead of the recap table.
    pub(super) json: bool,
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
    let RunOptions {
        command,
        targets,
        fleet,
        json,
        logs,
        rollout,
    } = *options;
    let (forks, report) = (usize::from(fleet.forks), fleet.report.as_deref());
    let hosts = targets::select(&fleet.target, targets, printer)?;
    // Where results go is checked before the first connection, not after the fleet has run.
    if let Some(path) = report {
        crate::writable::probe_file(path).map_err(|source| FatalError::ReportUnwritable {
            path: path.to_path_buf(),
            source,
        })?;
    }
    if let Some(dir) = logs {
        crate::writable::probe_dir(dir).map_err(|source| FatalError::BackupDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(FatalError::Runtime)?;
    let credentials = Credentials::new(passphrase_prompt());
    let log_dir = logs;
    let logs = logs.map(|dir| HostLogs::new(dir, command));
    let log_hint = logs.as_ref().map(|l| l.path("HOST"));
    // Passphrase prompts happen here, before the bars draw over the terminal.
    runtime.block_on(credentials.preload(hosts.iter().map(|h| &h.ssh)));
    let rollout = Rollout {
        serial: rollout.map_or_else(crate::runner::Serial::all_at_once, RolloutArgs::serial),
        budget: rollout.map(RolloutArgs::budget).unwrap_or_default(),
        board: Board::new(hosts.iter().map(|h| h.name.as_str())),
        ..Rollout::default()
    };
    // Signals are caught only now: a Ctrl-C at a passphrase prompt still ends hubfleet at once.
    listen_for_signals(&runtime, &rollout, printer);
    let (events, reporter) = Reporter::start(*printer, logs);
    let run = runtime.block_on(run_fleet(
        &hosts,
        forks,
        &credentials,
        job,
        events,
        &rollout,
    ));
    reporter.finish();
    let mut summary = Summary::new(command, run.results);
    summary.stopped = run.stopped.map(|reason| reason.to_string());
    if let Some(dir) = log_dir {
        summary.retry_file = write_retry_file(dir, &summary.to_retry(), printer);
    }
    if json {
        printer.out(&summary.to_json());
    } else {
        let mut recap = render_recap(&summary.hosts, terminal_width());
        if let Some(why) = &summary.stopped {
            recap.push_str(&format!("\nthe run stopped early: {why}"));
        }
        printer.out(&recap);
    }
    if let Some(path) = &summary.retry_file {
        printer.err(&format!(
            "the failed hosts are listed in `{}`: run again on them with `--limit @{}`",
            path.display(),
            path.display()
        ));
    }
    // A notice, not a result or an error: `--quiet` leaves it out.
    if let Some(path) = log_hint.filter(|_| printer.verbosity > Verbosity::Quiet) {
        printer.err(&format!(
            "remote output is logged per host in `{}`",
            path.display()
        ));
    }
    // The fleet has run: a report that cannot be written now (a full disk) is said, and the run's
    // exit code stands — "nothing ran" would send the operator to run it all again.
    if let Some(path) = report
        && let Err(source) = crate::atomic_file::write(path, summary.to_json().as_bytes())
    {
        let error = FatalError::Report {
            path: path.to_path_buf(),
            source,
        };
        printer.err(&render(&error, &error.hints()));
    }
    Ok(summary.exit_code)
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
