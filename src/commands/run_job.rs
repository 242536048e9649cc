//! What every fleet command does around its job: select the hosts, start the reporters, run the
//! job on the fleet, print the recap or JSON, write the report, return the exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::FleetArgs;
use crate::error::{FatalError, render};
use crate::printer::{Printer, Verbosity};
use crate::reporter::{HostLogs, RecapColumns, Reporter, Summary, render_recap};
use crate::runner::{HostJob, run_fleet};
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
    let RunOptions {
        command,
        targets,
        fleet,
        json,
        logs,
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
    let logs = logs.map(|dir| HostLogs::new(dir, command));
    let log_hint = logs.as_ref().map(|l| l.path("HOST"));
    // Passphrase prompts happen here, before the bars draw over the terminal.
    runtime.block_on(credentials.preload(hosts.iter().map(|h| &h.ssh)));
    let (events, reporter) = Reporter::start(*printer, logs);
    let results = runtime.block_on(run_fleet(&hosts, forks, &credentials, job, events));
    reporter.finish();
    let summary = Summary::new(command, results);
    if json {
        printer.out(&summary.to_json());
    } else {
        printer.out(&render_recap(&summary.hosts, terminal_width()));
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

/// Asks for a key's passphrase on the terminal, once per key file; nobody to ask without one.
fn passphrase_prompt() -> PassphrasePrompt {
    Arc::new(|path: &Path| {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        rpassword::prompt_password(format!("passphrase for `{}`: ", path.display())).ok()
    })
}
