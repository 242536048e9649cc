//! Step `notify`: tell users an upgrade is coming (the inventory's `notify` command, with the
//! text in `$HUBFLEET_MESSAGE`), then give them a grace period before the hub stops.

use std::time::Duration;

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

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
    // The message travels as a quoted environment value, never as shell code.
    let command = RemoteCommand::shell(notify)
        .env("HUBFLEET_MESSAGE", message)
        .become_(host.hub.become_.clone());
    super::run_command("notify", "telling users", session, events, &command).await?;
    if !grace.is_zero() {
        events.step(
            "notify",
            format!("grace period of {}s before the stop", grace.as_secs()),
        );
        // Ctrl-C ends the wait: the job then stops before the stop, the hub untouched.
        tokio::select! {
            () = tokio::time::sleep(grace) => {}
            () = events.interrupt().wait() => {}
        }
    }
    Ok(())
}
