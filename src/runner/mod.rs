//! The runner: runs a job on every selected host in parallel and turns what happens into events
//! and per-host outcomes.

mod board;
mod event;
mod failure_budget;
mod fleet;
mod host_events;
mod interrupt;
mod outcome;
mod rollout;
mod serial;

pub use board::Board;
pub use event::{Event, StepTiming, Stream, Transfer};
pub use failure_budget::{FailureBudget, FailureBudgetError};
pub use fleet::{FleetRun, HostJob, HostResult, RecapColumns, StepFailure, run_fleet};
pub use host_events::{HostEvents, LineSink};
pub use interrupt::Interrupt;
pub use outcome::{Ended, Outcome};
pub use rollout::{Rollout, StopReason};
pub use serial::{BatchSize, Serial, SerialError};
