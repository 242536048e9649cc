//! Running hubfleet's own Python scripts and the operator's shell commands on a host: the two
//! ways steps do remote work, each returning a one-line failure that names the step.

use serde::de::DeserializeOwned;

use crate::host_scripts::ScriptArgs;
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{ExitStatus, RemoteCommand, Session};

/// The hub env's Python, which runs every script hubfleet sends to a host.
pub fn hub_python(host: &Host) -> String {
    env_python(&host.hub.env)
}

/// The Python of the env at `env`.
pub fn env_python(env: &str) -> String {
    format!("{}/bin/python", env.trim_end_matches('/'))
}

/// Runs `script` with the hub's Python and one JSON argument; parses its stdout as JSON. When it
/// fails, its whole stderr goes to `log` (the host's log, in a command that keeps one); the
/// failure carries the last line.
pub async fn run_script<A: ScriptArgs, T: DeserializeOwned>(
    step: &'static str,
    host: &Host,
    session: &Session,
    log: Option<&HostEvents>,
    args: &A,
) -> Result<T, StepFailure> {
    run_script_with(step, host, session, log, &hub_python(host), args).await
}

/// [`run_script`] with the Python at `python` (another env's).
pub async fn run_script_with<A: ScriptArgs, T: DeserializeOwned>(
    step: &'static str,
    host: &Host,
    session: &Session,
    log: Option<&HostEvents>,
    python: &str,
    args: &A,
) -> Result<T, StepFailure> {
    let python = python.to_owned();
    // No .pyc files: hubfleet leaves nothing behind on a host it only inspects (a dry run must
    // leave the hub env byte-identical, and pip's own modules would otherwise be compiled).
    let command = args
        .command(&python)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .become_(host.hub.become_.clone());
    let (status, stdout, stderr) = session
        .exec_capture(&command)
        .await
        .map_err(|e| failure(step, crate::error::one_line(&e, &e.hints())))?;
    if status == ExitStatus::Code(127) {
        return Err(failure(
            step,
            format!(
                "`{python}` does not exist (hint: set `hub_env` to the prefix of the hub's Python environment)"
            ),
        ));
    }
    if status != ExitStatus::Code(0) {
        if let Some(events) = log {
            crate::ssh::OutputSink::stderr(&mut events.output(), &stderr);
        }
        return Err(failure(
            step,
            format!("{} ({})", last_line(&stderr), describe(status)),
        ));
    }
    serde_json::from_slice(&stdout).map_err(|e| {
        failure(
            step,
            format!("`{python}` printed something that is not the expected JSON: {e}"),
        )
    })
}

/// Runs a command, streaming its output to the host's events, and fails on a non-zero exit
/// with the last line of its output. `what` is what the display says meanwhile; the command
/// line goes to the log.
pub async fn run_command(
    step: &'static str,
    what: &str,
    session: &Session,
    events: &HostEvents,
    command: &RemoteCommand,
) -> Result<(), StepFailure> {
    events.step(step, what);
    events.command(step, command.to_string());
    let mut tail = Tail::default();
    let status = {
        let mut sink = Tee {
            lines: events.output(),
            tail: &mut tail,
        };
        session
            .exec(command, &mut sink)
            .await
            .map_err(|e| failure(step, crate::error::one_line(&e, &e.hints())))?
    };
    if status.success() {
        Ok(())
    } else {
        Err(failure(
            step,
            format!("{} ({})", last_line(&tail.0), describe(status)),
        ))
    }
}

fn failure(step: &'static str, reason: String) -> StepFailure {
    StepFailure {
        step,
        reason,
        ended: Ended::Failed,
    }
}

/// `exit code 3` / `killed by SIGTERM`.
pub fn describe(status: ExitStatus) -> String {
    match status {
        ExitStatus::Code(code) => format!("exit code {code}"),
        ExitStatus::Signal(signal) => format!("killed by SIG{signal}"),
    }
}

/// The last non-empty line of some output.
fn last_line(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_owned()
}

/// The last 4 KiB of a command's output, for its failure message.
#[derive(Default)]
struct Tail(Vec<u8>);

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.0.extend_from_slice(chunk);
        if self.0.len() > 8192 {
            self.0.drain(..self.0.len() - 4096);
        }
    }
}

struct Tee<'a, S> {
    lines: S,
    tail: &'a mut Tail,
}

impl<S: crate::ssh::OutputSink> crate::ssh::OutputSink for Tee<'_, S> {
    fn stdout(&mut self, chunk: &[u8]) {
        self.tail.push(chunk);
        self.lines.stdout(chunk);
    }

    fn stderr(&mut self, chunk: &[u8]) {
        self.tail.push(chunk);
        self.lines.stderr(chunk);
    }
}
