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
            | Self::Unreachable { reason, .. } => Some(reason),
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
        }
    }
}
