//! The SSH transport: one in-process russh connection per host, reused for all its commands.

mod command;
mod credentials;
mod error;
mod known_hosts;
mod session;
mod target;

pub use command::{Become, RemoteCommand, UnquotableArgument};
pub use credentials::{Credentials, PassphrasePrompt};
pub use error::{ChangedHostKey, SshError, SshFailure, UnknownHostKey};
pub use session::{ExitStatus, OutputSink, RemoteStdout, Session};
pub use target::{HostKeyPolicy, SshTarget};
