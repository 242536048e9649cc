//! Steps `stop`, `start` and `health`: the hub's own stop/start commands from the inventory,
//! each confirmed by watching `/hub/api` from the host itself.

use std::time::Duration;

use serde::Deserialize;

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

const WAIT_SCRIPT: &str = include_str!("wait_hub.py");

/// How long a stopping hub may take to stop answering.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a starting hub may take to answer (a large database can take a while).
const START_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Deserialize)]
struct Waited {
    version: Option<String>,
}

/// Runs the hub's `stop` command and waits until `/hub/api` stops answering.
pub async fn stop_hub(
    host: &Host,
    session: &Session,
    events: &HostEvents,
) -> Result<(), StepFailure> {
    let stop = RemoteCommand::shell(&host.hub.stop).become_(host.hub.become_.clone());
    super::run_command("stop", session, events, &stop).await?;
    events.step(
        "stop",
        format!("waiting until {} stops answering", host.hub.health_url),
    );
    wait(host, session, "down", STOP_TIMEOUT).await.map_err(|_| StepFailure {
        step: "stop",
        reason: format!(
            "the hub still answers at {} {}s after `{}`: it was not stopped, nothing was changed",
            host.hub.health_url,
            STOP_TIMEOUT.as_secs(),
            host.hub.stop
        ),
    })?;
    Ok(())
}

/// Runs the hub's `start` command and waits until `/hub/api` reports `version`.
pub async fn start_hub(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    version: &str,
) -> Result<(), StepFailure> {
    let start = RemoteCommand::shell(&host.hub.start).become_(host.hub.become_.clone());
    super::run_command("start", session, events, &start).await?;
    events.step(
        "health",
        format!("waiting for {} to answer", host.hub.health_url),
    );
    let answered = wait(host, session, "up", START_TIMEOUT)
        .await
        .map_err(|_| StepFailure {
            step: "health",
            reason: format!(
                "the hub did not answer at {} within {}s of `{}`: see the hub's log",
                host.hub.health_url,
                START_TIMEOUT.as_secs(),
                host.hub.start
            ),
        })?;
    match answered.version {
        Some(v) if v == version => Ok(()),
        other => Err(StepFailure {
            step: "health",
            reason: format!(
                "the hub answers with version {} instead of {version}",
                other.unwrap_or_else(|| "none".to_owned())
            ),
        }),
    }
}

async fn wait(
    host: &Host,
    session: &Session,
    want: &str,
    timeout: Duration,
) -> Result<Waited, StepFailure> {
    let args = serde_json::json!({
        "url": host.hub.health_url,
        "want": want,
        "timeout": timeout.as_secs(),
    });
    super::run_script("health", host, session, WAIT_SCRIPT, &args).await
}
