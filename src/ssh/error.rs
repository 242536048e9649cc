//! Why a host could not be reached or a command could not run over SSH.

/// What an SSH error means for the host's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SshFailure {
    /// No connection: refused, timed out, name not resolved, connection lost.
    Unreachable,
    /// The host's key is not in known_hosts and the policy is strict.
    HostKeyUnknown,
    /// The host's key differs from the recorded one.
    HostKeyChanged,
    /// No key was accepted.
    Auth,
}

/// An SSH error, naming the host and the cause.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// Placeholder until the transport lands.
    #[error("cannot connect to `{host}`")]
    Connect {
        /// Host name.
        host: String,
    },
}

impl SshError {
    /// What this error means for the host's outcome.
    pub fn failure(&self) -> SshFailure {
        SshFailure::Unreachable
    }

    /// Lines telling the operator what to do, if there is something to do.
    pub fn hints(&self) -> Vec<String> {
        Vec::new()
    }
}
