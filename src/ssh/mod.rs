//! The SSH transport: one in-process russh connection per host, reused for all its commands.

mod command;
mod credentials;
mod error;
mod known_hosts;
mod session;
mod target;

pub use command::{Become, RemoteCommand, UnquotableArgument};
pub use credentials::{Credentials, PassphrasePrompt};
pub use error::{SshError, SshFailure};
pub use session::{ExitStatus, OutputSink, Session};
pub use target::{HostKeyPolicy, SshTarget};
