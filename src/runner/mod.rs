//! The runner: runs a job on every selected host in parallel and turns what happens into events
//! and per-host outcomes.

mod counts;
mod event;
mod fleet;
mod host_events;
mod outcome;

pub use crate::step_failure::{Ended, StepFailure};
pub use counts::Counts;
pub use event::{Event, StepTiming, Stream, Summary, Transfer};
pub use fleet::{HostJob, HostResult, run_fleet};
pub use host_events::{HostEvents, LineSink};
pub use outcome::Outcome;
