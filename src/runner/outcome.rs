//! How a host's run ended: a value in the run's results, never an error that stops the fleet.

use serde::Serialize;

use crate::ssh::SshFailure;
use crate::step_failure::Ended;

/// The end of one host's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Outcome {
    /// Everything the command asked for was done.
    Ok,
    /// The host was reached but a step failed.
    Failed {
        /// The step that failed.
        step: String,
        /// One line: why, and what to do.
        reason: String,
    },
    /// A step failed after the stop, and the host undid the upgrade by itself: the old release
    /// serves again, on the database as it was at the stop.
    RolledBack {
        /// The step that failed.
        step: String,
        /// The original failure.
        reason: String,
    },
    /// The hub is left down: a rollback that could not complete, or `--no-rollback`. The reason
    /// says how the host is left; the commands that finish by hand are in the report.
    Down {
        /// The step that failed.
        step: String,
        /// The original failure, then the host's state.
        reason: String,
    },
    /// The run was asked to stop (Ctrl-C, SIGTERM, SIGHUP) before this host's stop: what it had
    /// readied was removed, and the hub was never touched.
    Interrupted {
        /// The step it would have run next, or the one that was abandoned.
        step: String,
        /// Which signal, and how the host is left.
        reason: String,
    },
    /// The host was never started: the run stopped first (its failure budget spent, or an
    /// interrupt). Nothing on it was touched.
    NotStarted {
        /// Why the run stopped, naming the host whose failure spent the budget.
        reason: String,
    },
    /// The host could not be reached safely: no connection, a refused host key, no accepted key.
    Unreachable {
        /// What kind of failure.
        failure: SshFailure,
        /// One line: why, and what to do.
        reason: String,
    },
}

impl Outcome {
    /// The word shown in the recap.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed { .. } => "failed",
            Self::RolledBack { .. } => "rolled back",
            Self::Down { .. } => "DOWN",
            Self::Interrupted { .. } => "interrupted",
            Self::NotStarted { .. } => "not started",
            Self::Unreachable { failure, .. } => match failure {
                SshFailure::Unreachable => "unreachable",
                SshFailure::HostKeyUnknown => "host key unknown",
                SshFailure::HostKeyChanged => "host key changed",
                SshFailure::HostKeyRevoked => "host key revoked",
                SshFailure::Auth => "auth failed",
            },
        }
    }

    /// Masks the secrets in the reason (see [`crate::secrets`]).
    pub fn mask_secrets(&mut self) {
        match self {
            Self::Ok => {}
            Self::Failed { reason, .. }
            | Self::RolledBack { reason, .. }
            | Self::Down { reason, .. }
            | Self::Interrupted { reason, .. }
            | Self::NotStarted { reason }
            | Self::Unreachable { reason, .. } => {
                crate::secrets::mask_in_place(reason);
            }
        }
    }

    /// The one-line reason, if the host did not end ok.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Ok => None,
            Self::Failed { reason, .. }
            | Self::RolledBack { reason, .. }
            | Self::Down { reason, .. }
            | Self::Interrupted { reason, .. }
            | Self::NotStarted { reason }
            | Self::Unreachable { reason, .. } => Some(reason),
        }
    }

    /// Whether this host counts against the failure budget (`--max-fail`) and goes to the retry
    /// file: its upgrade did not happen though it was tried. Rolled-back, down and unreachable
    /// hosts count; interrupted and never-started ones were not tried.
    pub fn counts_as_failed(&self) -> bool {
        match self {
            Self::Failed { .. }
            | Self::RolledBack { .. }
            | Self::Down { .. }
            | Self::Unreachable { .. } => true,
            Self::Ok | Self::Interrupted { .. } | Self::NotStarted { .. } => false,
        }
    }
}

/// [`Ended`] is a step's word on how it left the host; the runner turns it into an outcome.
impl Ended {
    /// The outcome of a failure at `step` that ended this way.
    pub fn outcome(self, step: String, reason: String) -> Outcome {
        match self {
            Self::Failed => Outcome::Failed { step, reason },
            Self::RolledBack => Outcome::RolledBack { step, reason },
            Self::Down => Outcome::Down { step, reason },
            Self::Interrupted => Outcome::Interrupted { step, reason },
        }
    }
}
