//! The runner: runs a job on every selected host in parallel and turns what happens into events
//! and per-host outcomes.

mod board;
mod counts;
mod event;
mod failure_budget;
mod fleet;
mod host_events;
mod interrupt;
mod outcome;
mod rollout;
mod serial;

pub use crate::step_failure::{Ended, StepFailure};
pub use board::Board;
pub use counts::Counts;
pub use event::{Event, StepTiming, Stream, Summary, Transfer};
pub use failure_budget::{FailureBudget, FailureBudgetError};
pub use fleet::{FleetRun, HostJob, HostResult, run_fleet};
pub use host_events::{HostEvents, LineSink};
pub use interrupt::Interrupt;
pub use outcome::Outcome;
pub use rollout::{Rollout, StopReason};
pub use serial::{BatchSize, Serial, SerialError};
