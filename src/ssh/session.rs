//! One authenticated SSH connection to a host (possibly through a jump host), and command
//! execution over it.

use super::{Credentials, RemoteCommand, SshError, SshTarget};

/// How a remote command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command exited with this code.
    Code(u32),
    /// The command was killed by this signal (e.g. `TERM`).
    Signal(&'static str),
}

impl ExitStatus {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

/// Receives a command's output as it arrives. Called synchronously from the reading loop, so a
/// slow sink slows the reading (backpressure through the SSH window), never buffers without bound.
pub trait OutputSink: Send {
    /// A chunk of standard output.
    fn stdout(&mut self, chunk: &[u8]);
    /// A chunk of standard error.
    fn stderr(&mut self, chunk: &[u8]);
}

/// An authenticated connection to one host.
pub struct Session {
    _private: (),
}

impl Session {
    /// Connects (through the jump host if any), checks the host key, authenticates.
    pub async fn connect(target: &SshTarget, credentials: &Credentials) -> Result<Self, SshError> {
        let _ = (target, credentials);
        todo!("ssh helper")
    }

    /// Runs one command on a new channel of this connection, streaming its output to `sink`.
    pub async fn exec(
        &self,
        command: &RemoteCommand,
        sink: &mut dyn OutputSink,
    ) -> Result<ExitStatus, SshError> {
        let _ = (command, sink);
        todo!("ssh helper")
    }

    /// Closes the connection politely.
    pub async fn close(self) {}
}
