//! `hubfleet exec -- COMMAND`: the command on every selected host, output labelled by host.

use std::sync::Arc;

use serde::Serialize;

use super::{RunOptions, run_job};
use crate::cli::ExecArgs;
use crate::error::FatalError;
use crate::inventory::Host;
use crate::printer::Printer;
use crate::reporter::RecapColumns;
use crate::runner::{Ended, HostEvents, HostJob, LineSink, StepFailure};
use crate::ssh::{Become, ExitStatus, OutputSink, RemoteCommand, Session};

/// Runs the command everywhere; the exit code says whether some host failed or was unreachable.
pub fn run(args: &ExecArgs, printer: &Printer) -> Result<u8, FatalError> {
    let job = ExecJob {
        // As `ssh HOST a b` does, the words are joined and given to the remote shell: this is the
        // operator's own shell code, passed as one quoted argument of `sh -c`.
        command: args.command.join(" "),
        become_: args.become_,
    };
    let options = RunOptions {
        command: "exec",
        targets: crate::inventory::Targets::HubsAndNamedHelpers,
        fleet: &args.fleet,
        logs: None,
        rollout: None,
    };
    run_job(&options, Arc::new(job), printer)
}

struct ExecJob {
    command: String,
    become_: bool,
}

/// How much of each stream a host's report keeps: the screen (or the pipe) shows all of it, and a
/// command that prints gigabytes must not hold them in memory for the report.
const KEPT_BYTES: usize = 1 << 20;

/// What the command did on a host, for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExecReport {
    /// Its standard output (invalid UTF-8 shown as U+FFFD), at most [`KEPT_BYTES`].
    pub stdout: String,
    /// Its standard error, likewise.
    pub stderr: String,
    /// Whether a stream was longer than kept.
    pub truncated: bool,
    /// Its exit code, if it exited.
    pub exit_code: Option<u32>,
    /// The signal that killed it (`TERM`), if one did.
    pub signal: Option<&'static str>,
}

impl RecapColumns for ExecReport {
    fn headers() -> Vec<&'static str> {
        vec!["EXIT"]
    }

    fn cells(&self) -> Vec<String> {
        vec![match (self.exit_code, self.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => format!("SIG{signal}"),
            (None, None) => String::new(),
        }]
    }
}

/// Shows the output line by line as it comes, and keeps it for the report.
struct Kept<'a> {
    lines: LineSink<'a>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
}

impl Kept<'_> {
    fn keep(kept: &mut Vec<u8>, truncated: &mut bool, chunk: &[u8]) {
        let room = KEPT_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        *truncated |= chunk.len() > room;
    }
}

impl OutputSink for Kept<'_> {
    fn stdout(&mut self, chunk: &[u8]) {
        self.lines.stdout(chunk);
        Self::keep(&mut self.stdout, &mut self.truncated, chunk);
    }

    fn stderr(&mut self, chunk: &[u8]) {
        self.lines.stderr(chunk);
        Self::keep(&mut self.stderr, &mut self.truncated, chunk);
    }
}

impl HostJob for ExecJob {
    type Report = ExecReport;

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut ExecReport,
    ) -> Result<(), StepFailure> {
        // `--become` sudoes to the host's `become_user` where the inventory sets `become`, else
        // to root, as `sudo CMD` would.
        let become_ = match (self.become_, &host.hub.become_) {
            (false, _) => Become::No,
            (true, Become::No) => Become::Sudo {
                user: "root".to_owned(),
            },
            (true, inventory) => inventory.clone(),
        };
        let command = RemoteCommand::shell(&self.command).become_(become_);
        events.step("exec", &self.command);
        let mut kept = Kept {
            lines: events.output(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            truncated: false,
        };
        let status = session.exec(&command, &mut kept).await;
        report.stdout = String::from_utf8_lossy(&kept.stdout).into_owned();
        report.stderr = String::from_utf8_lossy(&kept.stderr).into_owned();
        report.truncated = kept.truncated;
        let status = status.map_err(|e| StepFailure {
            step: "exec",
            reason: crate::error::one_line(&e, &e.hints()),
            ended: Ended::Failed,
        })?;
        match status {
            ExitStatus::Code(code) => report.exit_code = Some(code),
            ExitStatus::Signal(signal) => report.signal = Some(signal),
        }
        if status.success() {
            Ok(())
        } else {
            Err(StepFailure {
                step: "exec",
                reason: match status {
                    ExitStatus::Code(code) => format!("the command exited with code {code}"),
                    ExitStatus::Signal(signal) => format!("the command was killed by SIG{signal}"),
                },
                ended: Ended::Failed,
            })
        }
    }
}
