//! Why a step failed on a host, and how it left the host: what every step returns and the plan's
//! policy refuses with. Below the runner (which turns it into an [`crate::runner::Outcome`]) so
//! that the plan and the steps name it without importing the runner.

/// Why a job failed on a host: the step and a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// The step that failed.
    pub step: &'static str,
    /// Why, and what to do.
    pub reason: String,
    /// How the host was left: most failures change nothing, a failure after the stop is rolled
    /// back or leaves the hub down.
    pub ended: Ended,
}

/// How a failed host was left, as its job says: the runner makes the
/// [`Outcome`](crate::runner::Outcome) from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// As the failure left it (before the stop: nothing changed, the hub serves).
    Failed,
    /// Rolled back on the host: the old release serves again.
    RolledBack,
    /// The hub is down and needs a hand.
    Down,
    /// The run was asked to stop before this host's stop: the hub is untouched.
    Interrupted,
}
