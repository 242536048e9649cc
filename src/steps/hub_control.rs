//! Steps `stop`, `start` and `health`: the hub's own stop/start commands from the inventory,
//! each confirmed on the host itself: by watching `/hub/api`, and for the stop, its database.

use std::time::Duration;

use serde::Deserialize;

use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::{RemoteCommand, Session};

const WAIT_SCRIPT: &str = include_str!("wait_hub.py");

#[derive(Deserialize)]
struct Waited {
    version: Option<String>,
    /// Processes that still had the database open when the wait ended.
    holders: Vec<Holder>,
    timed_out: bool,
}

#[derive(Deserialize)]
struct Holder {
    pid: u32,
    command: String,
}

/// Why a hub was not confirmed stopped.
pub struct NotStopped {
    /// What was seen, as the step's failure.
    pub failure: StepFailure,
    /// Its API no longer answers: users are without a hub, and it is started again.
    pub down: bool,
}

impl From<StepFailure> for NotStopped {
    fn from(failure: StepFailure) -> Self {
        NotStopped {
            failure,
            down: false,
        }
    }
}

/// Runs the hub's `stop` command and waits until the hub is stopped: `/hub/api` no longer
/// answers and no process has its SQLite database `db` open (a stop command may return while
/// the hub still shuts down and writes; nothing may touch the database under `upgrade-db`).
pub async fn stop_hub(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    db: &str,
) -> Result<(), NotStopped> {
    let stop = RemoteCommand::shell(&host.hub.stop).become_(host.hub.become_.clone());
    super::run_command("stop", session, events, &stop).await?;
    events.step(
        "stop",
        format!(
            "waiting until {} stops answering and no process has {db} open",
            host.hub.health_url
        ),
    );
    let timeout = host.hub.stop_timeout;
    let waited = wait("stop", host, session, Some(db), timeout).await?;
    let after = format!("{}s after `{}`", timeout.as_secs(), host.hub.stop);
    let reason = match (waited.timed_out, &waited.version, waited.holders.first()) {
        (false, ..) => return Ok(()),
        (true, Some(_), _) => format!(
            "the hub still answers at {} {after}: it was not stopped, nothing was changed",
            host.hub.health_url
        ),
        (true, None, Some(holder)) => format!(
            "{db} is still open in pid {} (`{}`) {after}, though {} no longer answers: nothing was changed",
            holder.pid, holder.command, host.hub.health_url
        ),
        (true, None, None) => format!("the hub did not stop {after}"),
    };
    Err(NotStopped {
        failure: StepFailure {
            step: "stop",
            reason,
        },
        down: waited.version.is_none(),
    })
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
    let timeout = host.hub.start_timeout;
    let answered = wait("health", host, session, None, timeout).await?;
    match answered.version {
        Some(v) if v == version => Ok(()),
        None => Err(StepFailure {
            step: "health",
            reason: format!(
                "the hub did not answer at {} within {}s of `{}`: see the hub's log",
                host.hub.health_url,
                timeout.as_secs(),
                host.hub.start
            ),
        }),
        Some(other) => Err(StepFailure {
            step: "health",
            reason: format!("the hub answers with version {other} instead of {version}"),
        }),
    }
}

/// Waits on the host until the hub is down (`stop`, with its database `db`) or up (`health`).
async fn wait(
    step: &'static str,
    host: &Host,
    session: &Session,
    db: Option<&str>,
    timeout: Duration,
) -> Result<Waited, StepFailure> {
    let args = serde_json::json!({
        "url": host.hub.health_url,
        "want": if step == "stop" { "down" } else { "up" },
        "db": db,
        "timeout": timeout.as_secs(),
    });
    super::run_script(step, host, session, WAIT_SCRIPT, &args).await
}
