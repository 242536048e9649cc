//! Step `notify`: tell users an upgrade is coming (the inventory's `notify` command, with the
//! text in `$HUBFLEET_MESSAGE`), then give them a grace period before the hub stops.

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::script::run_command;
use super::step_work::{Done, OnHost, StepWork};
use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};
use crate::step::Step;

/// The notification as the plan holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notify {
    /// `$HUBFLEET_MESSAGE`, `{version}` replaced.
    pub message: String,
    /// How long users get.
    pub grace: Duration,
}

impl StepWork for Notify {
    fn name(&self) -> &'static str {
        Step::Notify.name()
    }

    fn action(&self, host: &Host) -> String {
        format!(
            "{} (HUBFLEET_MESSAGE={:?}), then wait {}s",
            host.hub.notify.as_deref().unwrap_or("no notify command"),
            self.message,
            self.grace.as_secs()
        )
    }

    fn way_back(&self) -> String {
        "none: users were told; the hub serves on if the upgrade stops before the stop".to_owned()
    }

    fn run<'a>(&'a self, on: OnHost<'a>) -> BoxFuture<'a, Result<Done, StepFailure>> {
        let told = notify(on.host, on.session, on.events, &self.message, self.grace);
        told.map(|done| done.map(|()| Done::Nothing)).boxed()
    }
}

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
    // The message travels as a quoted environment value, never as shell code. coreutils'
    // `timeout` puts the command in a process group of its own and, past `notify_timeout`,
    // signals the whole group (SIGTERM, then SIGKILL 5 s later): a hung notify never holds the
    // upgrade, nor leaves children behind.
    let limit = host.hub.notify_timeout.as_secs();
    let command = RemoteCommand::new("timeout")
        .args(["-k", "5", &limit.to_string(), "sh", "-c", notify])
        .env("HUBFLEET_MESSAGE", message)
        .become_(host.hub.become_.clone());
    run_command("notify", "telling users", session, events, &command)
        .await
        .map_err(|failure| timed_out(failure, notify, limit))?;
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

/// A notify that `timeout` stopped (it exits 124, or 137 once it had to SIGKILL) says so, and
/// which key to raise.
fn timed_out(failure: StepFailure, notify: &str, limit: u64) -> StepFailure {
    if failure.reason.ends_with("(exit code 124)") || failure.reason.ends_with("(exit code 137)") {
        StepFailure {
            reason: format!(
                "`{notify}` did not finish within {limit}s and was stopped with its process group; raise `notify_timeout` in the inventory if it needs longer; the hub was not stopped"
            ),
            ..failure
        }
    } else {
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Ended;

    #[test]
    fn a_notify_stopped_by_timeout_says_which_key_to_raise_and_another_failure_is_kept() {
        let failed = |reason: &str| StepFailure {
            step: "notify",
            reason: reason.to_owned(),
            ended: Ended::Failed,
        };
        for code in [124, 137] {
            let said = timed_out(
                failed(&format!("no output (exit code {code})")),
                "wall x",
                3,
            );
            assert_eq!(
                said.reason,
                "`wall x` did not finish within 3s and was stopped with its process group; raise `notify_timeout` in the inventory if it needs longer; the hub was not stopped"
            );
        }
        let other = failed("wall: cannot open /dev/pts/1 (exit code 1)");
        assert_eq!(timed_out(other.clone(), "wall x", 3), other);
    }
}
