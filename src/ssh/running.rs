//! A command running on its own channel of a session: its output as it comes, then its exit
//! status; and its standard output as an [`AsyncRead`] for the streams that are read, not shown.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use russh::{ChannelMsg, Sig, client};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::SshError;
use super::session::{ExitStatus, Host};

/// A chunk of a running command's output.
pub(super) enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// A command running on its own channel: its output as it comes, then its exit status.
pub(super) struct Running {
    pub(super) channel: russh::Channel<client::Msg>,
    pub(super) status: Option<ExitStatus>,
    pub(super) host: Host,
}

impl Running {
    /// The next chunk of output, or `None` once the channel is closed.
    pub(super) async fn next(&mut self) -> Result<Option<Output>, SshError> {
        // russh delivers channel messages in order; OpenSSH sends output, EOF, `exit-status`
        // (or `exit-signal`), then Close. `None` from `wait` means the connection itself ended.
        while let Some(msg) = self.channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => return Ok(Some(Output::Stdout(data))),
                // SSH_EXTENDED_DATA_STDERR = 1 (RFC 4254 §5.2); no other type is defined.
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    return Ok(Some(Output::Stderr(data)));
                }
                ChannelMsg::ExitStatus { exit_status } => {
                    self.status = Some(ExitStatus::Code(exit_status));
                }
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    self.status = Some(ExitStatus::Signal(signal_label(&signal_name)));
                }
                ChannelMsg::Failure => {
                    return Err(SshError::ExecRefused {
                        host: self.host.name.clone(),
                        addr: self.host.addr.clone(),
                    });
                }
                ChannelMsg::Close => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// How the command ended; without an exit status, the connection was lost under it.
    pub(super) fn status(&self) -> Result<ExitStatus, SshError> {
        self.status.ok_or_else(|| self.host.disconnected())
    }
}

/// How a streamed command ended: its exit status and its stderr.
type Finished = Result<(ExitStatus, Vec<u8>), SshError>;

/// A remote command's standard output as an [`AsyncRead`]; see [`Session::exec_reader`].
pub struct RemoteStdout {
    pub(super) chunks: mpsc::Receiver<Bytes>,
    pub(super) pending: Bytes,
    /// `None` once [`RemoteStdout::finish`] took it.
    pub(super) task: Option<tokio::task::JoinHandle<Finished>>,
    pub(super) host: Host,
}

impl RemoteStdout {
    /// Waits for the command to end: its exit status and everything it wrote to stderr. Call it
    /// after reading stdout to EOF (unread stdout is discarded).
    pub async fn finish(mut self) -> Result<(ExitStatus, Vec<u8>), SshError> {
        // Closing our end lets the task drain whatever stdout is left without us.
        self.chunks.close();
        let Some(task) = self.task.take() else {
            return Err(self.host.disconnected());
        };
        match task.await {
            Ok(result) => result,
            // The reading task only ends by returning; a panic means we lost the channel.
            Err(_) => Err(self.host.disconnected()),
        }
    }
}

impl Drop for RemoteStdout {
    /// Dropped unfinished (the caller gave up): stop reading, so a command with endless output
    /// is not drained forever; the server's window closes and the session's end stops it.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl AsyncRead for RemoteStdout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        while self.pending.is_empty() {
            match self.chunks.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => self.pending = chunk,
                // The channel ended: EOF. Whether it ended well is `finish`'s answer.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = self.pending.len().min(buf.remaining());
        let chunk = self.pending.split_to(n);
        buf.put_slice(&chunk);
        Poll::Ready(Ok(()))
    }
}

/// `ExitStatus::Signal` holds a `&'static str`; the RFC 4254 §6.10 names russh knows map to
/// themselves, any other name to `"OTHER"`.
fn signal_label(signal: &Sig) -> &'static str {
    match signal {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(_) => "OTHER",
    }
}
