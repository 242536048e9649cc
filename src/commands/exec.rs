//! `hubfleet exec -- COMMAND`: the command on every selected host, output labelled by host.

use std::sync::Arc;

use super::{RunOptions, run_job};
use crate::cli::ExecArgs;
use crate::error::FatalError;
use crate::inventory::Host;
use crate::printer::Printer;
use crate::runner::{Ended, HostEvents, HostJob, StepFailure};
use crate::ssh::{Become, ExitStatus, RemoteCommand, Session};

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
        json: false,
        logs: None,
        rollout: None,
    };
    run_job(&options, Arc::new(job), printer)
}

struct ExecJob {
    command: String,
    become_: bool,
}

impl HostJob for ExecJob {
    type Report = ();

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        _report: &mut (),
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
        let status = session
            .exec(&command, &mut events.output())
            .await
            .map_err(|e| StepFailure {
                step: "exec",
                reason: crate::error::one_line(&e, &e.hints()),
                ended: Ended::Failed,
            })?;
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
