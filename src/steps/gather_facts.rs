//! Step `facts`: one round trip that runs `gather.py` with the hub's own Python.

use crate::facts::{GATHER_SCRIPT, HostFacts};
use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{ExitStatus, RemoteCommand, Session};

/// Gathers the facts of `host`. Fails only when the hub's Python cannot run the script at all;
/// anything the script could not read is in [`HostFacts::problems`].
pub async fn gather_facts(
    host: &Host,
    session: &Session,
    events: &HostEvents,
) -> Result<HostFacts, StepFailure> {
    let python = super::hub_python(host);
    events.step("facts", format!("{python} (config {})", host.hub.config));
    // Every inventory value travels inside one JSON argument, quoted by the command builder:
    // nothing of it is ever seen by a shell.
    let args = serde_json::json!({
        "config": host.hub.config,
        "workdir": host.hub.workdir,
        "health_url": host.hub.health_url,
        "singleuser_env": host.hub.singleuser_env,
    });
    let command = RemoteCommand::new(&python)
        .arg("-c")
        .arg(GATHER_SCRIPT)
        .arg(args.to_string())
        .become_(host.hub.become_.clone());
    let failure = |reason: String| StepFailure {
        step: "facts",
        reason,
    };
    let (status, stdout, stderr) = session
        .exec_capture(&command)
        .await
        .map_err(|e| failure(crate::error::one_line(&e, &e.hints())))?;
    if status != ExitStatus::Code(0) {
        let stderr = String::from_utf8_lossy(&stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        return Err(failure(format!(
            "the hub's Python `{python}` could not run ({status:?}): {last} (hint: set `hub_env` to the hub's environment prefix)"
        )));
    }
    serde_json::from_slice(&stdout).map_err(|e| {
        failure(format!(
            "the fact script printed something that is not its JSON: {e}"
        ))
    })
}
