//! One authenticated SSH connection to a host (possibly through a jump host), and command
//! execution over it.
//!
//! The connection is russh's [`client::Handle`]; every command gets its own session channel on it
//! (RFC 4254 §6.5 `exec`), so one connection serves all of a host's steps and several commands can
//! run at once (up to sshd's `MaxSessions`, 10 by default). Nothing here prints.

use bytes::Bytes;
use russh::client;
use tokio::sync::mpsc;

use super::handshake::handshake;
use super::host_key_check::HostKeyCheck;
use super::running::{Output, RemoteStdout, Running};
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
    // Declared before `_jump` so it is dropped first: the tunnel closes before its bastion.
    pub(super) handle: client::Handle<HostKeyCheck>,
    pub(super) host: Host,
    /// The bastion's connection, kept alive for as long as the tunnel through it is used.
    _jump: Option<Box<Session>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.host.name)
            .field("addr", &self.host.addr)
            .field("jump", &self._jump.as_ref().map(|j| &j.host.name))
            .finish_non_exhaustive()
    }
}

/// The names every error carries.
#[derive(Debug, Clone)]
pub(super) struct Host {
    pub(super) name: String,
    pub(super) addr: String,
}

impl Host {
    pub(super) fn of(target: &SshTarget) -> Self {
        let addr = if target.address.contains(':') {
            format!("[{}]:{}", target.address, target.port)
        } else {
            format!("{}:{}", target.address, target.port)
        };
        Host {
            name: target.name.clone(),
            addr,
        }
    }

    pub(super) fn protocol(
        &self,
        doing: &'static str,
    ) -> impl FnOnce(russh::Error) -> SshError + '_ {
        move |source| SshError::Protocol {
            host: self.name.clone(),
            addr: self.addr.clone(),
            doing,
            source: Box::new(source),
        }
    }

    pub(super) fn disconnected(&self) -> SshError {
        SshError::Disconnected {
            host: self.name.clone(),
            addr: self.addr.clone(),
        }
    }
}

impl Session {
    /// Connects (through the jump host if any), checks the host key, authenticates.
    ///
    /// `target.connect_timeout` bounds this host's TCP connect, handshake and authentication; a
    /// jump host is connected first, within its own timeout.
    pub async fn connect(target: &SshTarget, credentials: &Credentials) -> Result<Self, SshError> {
        let host = Host::of(target);
        // Boxed: a jump host is connected by the same function (async recursion).
        let jump = match &target.jump {
            Some(bastion) => Some(Box::new(
                Box::pin(Session::connect(bastion, credentials))
                    .await
                    .map_err(|e| SshError::Jump {
                        host: host.name.clone(),
                        addr: host.addr.clone(),
                        jump: bastion.name.clone(),
                        source: Box::new(e),
                    })?,
            )),
            None => None,
        };
        // Key files are read (and their passphrases asked) before the clock starts: a hundred
        // hosts wait on the one prompt, and the operator's typing must not time them all out.
        // The cost: an encrypted file is unlocked even if an agent key would have been accepted.
        for path in &target.identity_files {
            credentials.key_file(path).await;
        }
        let handshake = handshake(target, &host, credentials, jump.as_deref());
        let handle = tokio::time::timeout(target.connect_timeout, handshake)
            .await
            .map_err(|_| SshError::Timeout {
                host: host.name.clone(),
                addr: host.addr.clone(),
                after: target.connect_timeout,
                // Behind a bastion the silence may be on its side of the tunnel: say so.
                via: target.jump.as_ref().map(|j| j.name.clone()),
            })??;
        Ok(Session {
            handle,
            host,
            _jump: jump,
        })
    }

    /// Runs one command on a new channel of this connection, streaming its output to `sink`.
    pub async fn exec(
        &self,
        command: &RemoteCommand,
        sink: &mut dyn OutputSink,
    ) -> Result<ExitStatus, SshError> {
        let mut running = self.start(command).await?;
        while let Some(output) = running.next().await? {
            match output {
                Output::Stdout(chunk) => sink.stdout(&chunk),
                Output::Stderr(chunk) => sink.stderr(&chunk),
            }
        }
        running.status()
    }

    /// Runs one command and collects its whole output; for small outputs such as facts.
    pub async fn exec_capture(
        &self,
        command: &RemoteCommand,
    ) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), SshError> {
        let mut capture = Capture::default();
        let status = self.exec(command, &mut capture).await?;
        Ok((status, capture.stdout, capture.stderr))
    }

    /// Runs one command with `input` as its standard input (then EOF) and collects its whole
    /// output: for an upload with a small answer, such as an archive sent back to its host.
    pub async fn exec_with_input(
        &self,
        command: &RemoteCommand,
        input: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    ) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), SshError> {
        let mut capture = Capture::default();
        let status = self.send_input(command, input, &mut capture).await?;
        Ok((status, capture.stdout, capture.stderr))
    }

    /// [`Session::exec_with_input`], the output streamed to `sink`.
    async fn send_input(
        &self,
        command: &RemoteCommand,
        mut input: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        sink: &mut dyn OutputSink,
    ) -> Result<ExitStatus, SshError> {
        use tokio::io::AsyncWriteExt;
        let mut running = self.start(command).await?;
        let mut writer = running.channel.make_writer();
        // Sent beside the reading below: a command that writes while it reads must not block
        // on a window nobody drains. Shutting the writer down sends EOF.
        let send = tokio::spawn(async move {
            tokio::io::copy(&mut input, &mut writer).await?;
            writer.shutdown().await
        });
        while let Some(output) = running.next().await? {
            match output {
                Output::Stdout(chunk) => sink.stdout(&chunk),
                Output::Stderr(chunk) => sink.stderr(&chunk),
            }
        }
        // A command that exits before reading all of its input ends the upload: its exit status
        // says why, so a failed send is not the error reported.
        send.abort();
        running.status()
    }

    /// Runs one command and hands back its standard output as a stream, for large downloads.
    /// Read it to EOF, then call [`RemoteStdout::finish`] for the exit status and stderr.
    pub async fn exec_reader(&self, command: &RemoteCommand) -> Result<RemoteStdout, SshError> {
        let mut running = self.start(command).await?;
        // A few chunks in flight (each at most one SSH packet, 32 KiB): when the reader stops,
        // this task stops, russh's channel buffer fills and the server's window closes.
        let (tx, rx) = mpsc::channel::<Bytes>(8);
        let task = tokio::spawn(async move {
            let mut stderr = Vec::new();
            while let Some(output) = running.next().await? {
                match output {
                    // A reader that went away early (`finish` before EOF) just loses the rest;
                    // we keep draining so the exit status still arrives.
                    Output::Stdout(chunk) => drop(tx.send(chunk).await),
                    Output::Stderr(chunk) => stderr.extend_from_slice(&chunk),
                }
            }
            Ok((running.status()?, stderr))
        });
        Ok(RemoteStdout {
            chunks: rx,
            pending: Bytes::new(),
            task: Some(task),
            host: self.host.clone(),
        })
    }

    /// Starts `command` and keeps its channel open for as long as the returned value lives: a
    /// remote process that holds something (the host lock) for the life of its channel.
    pub async fn attach(&self, command: &RemoteCommand) -> Result<super::Attached, SshError> {
        Ok(super::Attached::new(self.start(command).await?))
    }

    /// Closes the connection politely (and then the jump host's, if any).
    pub async fn close(self) {
        // Best effort: the peer may already be gone, and there is nothing to report either way.
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        if let Some(jump) = self._jump {
            Box::pin(jump.close()).await;
        }
    }

    /// Opens a session channel and sends the exec request (with `want_reply`, so a refusal comes
    /// back as `ChannelMsg::Failure` instead of a silent hang).
    async fn start(&self, command: &RemoteCommand) -> Result<Running, SshError> {
        let line = command
            .to_command_line()
            .map_err(|source| SshError::Unquotable {
                host: self.host.name.clone(),
                source,
            })?;
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.channel_error(e, "opening a channel"))?;
        channel
            .exec(true, line)
            .await
            .map_err(|e| self.channel_error(e, "sending the command"))?;
        Ok(Running {
            channel,
            status: None,
            host: self.host.clone(),
        })
    }

    /// A closed connection is `Disconnected` (unreachable), anything else a protocol error.
    fn channel_error(&self, error: russh::Error, doing: &'static str) -> SshError {
        if self.handle.is_closed() {
            self.host.disconnected()
        } else {
            self.host.protocol(doing)(error)
        }
    }
}

/// A command's whole output, for the small ones.
#[derive(Default)]
struct Capture {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl OutputSink for Capture {
    fn stdout(&mut self, chunk: &[u8]) {
        self.stdout.extend_from_slice(chunk);
    }
    fn stderr(&mut self, chunk: &[u8]) {
        self.stderr.extend_from_slice(chunk);
    }
}
