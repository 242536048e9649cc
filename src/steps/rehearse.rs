//! Step `rehearse`: the staged release's `upgrade-db` on a private copy of the hub's database,
//! while the hub still serves (see `rehearse.py`). A config the new release cannot load or a
//! migration that fails on this database stops the upgrade before any downtime, with the staged
//! copy removed and the hub untouched, instead of after the stop.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Deserialize;

use super::script::{env_python, run_script_with};
use super::step_work::{Done, OnHost, StepWork};
use crate::host_scripts::{HubEnvironmentArgs, RehearseArgs};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::Session;
use crate::step::Step;

/// The rehearsal as the plan holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rehearse {
    /// The staged env.
    pub next_env: String,
    /// The database a copy is taken of.
    pub db_path: String,
    /// The revision the copy must reach.
    pub head: String,
}

impl StepWork for Rehearse {
    fn name(&self) -> &'static str {
        Step::Rehearse.name()
    }

    fn action(&self, host: &Host) -> String {
        rehearse_description(host, &self.next_env, &self.db_path)
    }

    fn way_back(&self) -> String {
        "nothing to undo: the copy is private and removed".to_owned()
    }

    fn run<'a>(&'a self, on: OnHost<'a>) -> BoxFuture<'a, Result<Done, StepFailure>> {
        let rehearsed = rehearse(
            on.host,
            on.session,
            on.events,
            &self.next_env,
            &self.db_path,
            &self.head,
        );
        rehearsed.map(|done| done.map(|()| Done::Nothing)).boxed()
    }
}

#[derive(Deserialize)]
struct Rehearsed {
    revision: String,
    seconds: f64,
}

/// What the plan shows for the rehearsal with the staged env at `next_env`.
pub fn rehearse_description(host: &Host, next_env: &str, db_path: &str) -> String {
    format!(
        "upgrade-db with {} on a copy of {db_path}, with the hub's config {} (while the hub serves)",
        env_python(next_env),
        host.hub.config
    )
}

/// Rehearses upgrade-db with the staged env at `next_env` on a copy of `db_path`; the copy must
/// reach `head`.
pub async fn rehearse(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    next_env: &str,
    db_path: &str,
    head: &str,
) -> Result<(), StepFailure> {
    events.step("rehearse", "upgrade-db on a copy of the database");
    events.command("rehearse", rehearse_description(host, next_env, db_path));
    let args = RehearseArgs {
        db_path,
        hub: HubEnvironmentArgs::of(host),
    };
    let rehearsed: Rehearsed = run_script_with(
        "rehearse",
        host,
        session,
        Some(events),
        &env_python(next_env),
        &args,
    )
    .await?;
    if rehearsed.revision != head {
        return Err(StepFailure {
            step: "rehearse",
            reason: format!(
                "upgrade-db with the new release left a copy of {db_path} at revision {}, not {head}: nothing was changed",
                rehearsed.revision
            ),
            ended: Ended::Failed,
        });
    }
    events.step(
        "rehearse",
        format!(
            "a copy of the database reached {head} in {:.1}s",
            rehearsed.seconds
        ),
    );
    Ok(())
}
