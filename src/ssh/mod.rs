//! The SSH transport: one in-process russh connection per host, reused for all its commands.
//!
//! [`SshTarget`] says where to go, [`Credentials`] what to show, [`Session::connect`] checks the
//! host key (`known_hosts`) and logs in, and every [`RemoteCommand`] runs on its own channel of
//! that session. Failures are [`SshError`]s whose [`SshFailure`] is the host's outcome. Nothing in
//! this module prints.

mod attached;
mod ciphers;
mod command;
mod credentials;
mod error;
mod handshake;
mod host_key_check;
mod known_hosts;
mod running;
mod session;
mod target;

pub use attached::Attached;
pub use command::{Become, RemoteCommand, UnquotableArgument};
pub use credentials::{Credentials, PassphrasePrompt};
pub use error::{ChangedHostKey, SshError, SshFailure, UnknownHostKey};
pub use running::RemoteStdout;
pub use session::{ExitStatus, OutputSink, Session};
pub use target::{HostKeyPolicy, SshTarget};
