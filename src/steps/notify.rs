//! Step `notify`: tell users an upgrade is coming (the inventory's `notify` command, with the
//! text in `$HUBFLEET_MESSAGE`), then give them a grace period before the hub stops.

use std::time::Duration;

use crate::host_scripts::{NotifyArgs, ScriptArgs};
use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;

/// Runs the host's `notify` command, if it has one, then waits `grace`.
pub async fn notify(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    message: &str,
    grace: Duration,
) -> Result<(), StepFailure> {
    let Some(notify) = &host.hub.notify else {
        return Ok(());
    };
    // The message travels inside the script's JSON argument and reaches the command as
    // `$HUBFLEET_MESSAGE`, never as shell code; `notify.py` stops the command's process group at
    // `notify_timeout`.
    let command = NotifyArgs {
        command: notify,
        message,
        timeout: host.hub.notify_timeout.as_secs(),
    }
    .command(super::hub_python(host))
    .env("PYTHONDONTWRITEBYTECODE", "1")
    .become_(host.hub.become_.clone());
    super::run_command("notify", "telling users", session, events, &command).await?;
    if !grace.is_zero() {
        events.step(
            "notify",
            format!("grace period of {}s before the stop", grace.as_secs()),
        );
        tokio::time::sleep(grace).await;
    }
    Ok(())
}
