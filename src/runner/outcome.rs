//! How a host's run ended: a value in the run's results, never an error that stops the fleet.

use serde::Serialize;

use crate::ssh::SshFailure;

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
            Self::Failed { reason, .. } | Self::Unreachable { reason, .. } => {
                crate::secrets::mask_in_place(reason);
            }
        }
    }

    /// The one-line reason, if the host did not end ok.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Ok => None,
            Self::Failed { reason, .. } | Self::Unreachable { reason, .. } => Some(reason),
        }
    }
}
