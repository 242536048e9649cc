//! Step `notify`: tell users an upgrade is coming (the inventory's `notify` command, with the
//! text in `$HUBFLEET_MESSAGE`), then give them a grace period before the hub stops.

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::script::run_command;
use super::step_work::{Done, OnHost, StepWork};
use crate::host_scripts::{NotifyArgs, ScriptArgs};
use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;
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
    run_command("notify", "telling users", session, events, &command).await?;
    if !grace.is_zero() {
        events.step(
            "notify",
            format!("grace period of {}s before the stop", grace.as_secs()),
        );
        tokio::time::sleep(grace).await;
    }
    Ok(())
}
