//! A step the upgrade job runs itself (every step but the cutover's), as the plan holds it: a
//! value that says which step it is, what it runs, how it is undone, and runs it. The plan builder
//! pushes one such value per step and the job executes every one the same way, so a new step is
//! its own file plus one line in the builder (`src/plan/upgrade_plan.rs`).

use std::fmt;

use futures::future::BoxFuture;

use crate::archive::Stored;
use crate::facts::HostFacts;
use crate::inventory::Host;
use crate::runner::{HostEvents, StepFailure};
use crate::ssh::Session;
use crate::step::Phase;

/// What a step needs to run on its host.
#[derive(Debug, Clone, Copy)]
pub struct OnHost<'a> {
    /// The host.
    pub host: &'a Host,
    /// Its facts, as the plan was made from them.
    pub facts: &'a HostFacts,
    /// Its one SSH session.
    pub session: &'a Session,
    /// Where the step reports.
    pub events: &'a HostEvents,
}

/// What a step leaves for the host's report.
#[derive(Debug)]
pub enum Done {
    /// Nothing to record.
    Nothing,
    /// A verified archive, in place.
    Archive(Box<Stored>),
    /// The single-user env now has this jupyterhub.
    Singleuser(String),
}

/// One step of a plan that the upgrade job runs itself.
pub trait StepWork: fmt::Debug + Send + Sync {
    /// The step's name in the plan, the progress lines, the log and a failure
    /// ([`crate::step::Step::name`] for the steps of the enum).
    fn name(&self) -> &'static str;

    /// Whether the hub serves, is down, or serves the new release meanwhile.
    fn phase(&self) -> Phase {
        Phase::Serving
    }

    /// What it runs on `host`, every value resolved (the dry run shows it).
    fn action(&self, host: &Host) -> String;

    /// What undoes it, or why nothing needs to.
    fn way_back(&self) -> String;

    /// Runs it.
    fn run<'a>(&'a self, on: OnHost<'a>) -> BoxFuture<'a, Result<Done, StepFailure>>;
}
