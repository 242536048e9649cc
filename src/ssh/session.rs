//! One authenticated SSH connection to a host (possibly through a jump host), and command
//! execution over it.
//!
//! The connection is russh's [`client::Handle`]; every command gets its own session channel on it
//! (RFC 4254 §6.5 `exec`), so one connection serves all of a host's steps and several commands can
//! run at once (up to sshd's `MaxSessions`, 10 by default). Nothing here prints.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, Sig, client};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::credentials::KeyFile;
use super::error::{ChangedHostKey, UnknownHostKey};
use super::known_hosts::{self, Verdict};
use super::{Credentials, HostKeyPolicy, RemoteCommand, SshError, SshTarget};

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
    handle: client::Handle<HostKeyCheck>,
    host: Host,
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
struct Host {
    name: String,
    addr: String,
}

impl Host {
    fn of(target: &SshTarget) -> Self {
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

    fn protocol(&self, doing: &'static str) -> impl FnOnce(russh::Error) -> SshError + '_ {
        move |source| SshError::Protocol {
            host: self.name.clone(),
            addr: self.addr.clone(),
            doing,
            source: Box::new(source),
        }
    }

    fn disconnected(&self) -> SshError {
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
        let mut capture = Capture::default();
        let status = self.exec(command, &mut capture).await?;
        Ok((status, capture.stdout, capture.stderr))
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

/// A chunk of a running command's output.
pub(super) enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// A command running on its own channel: its output as it comes, then its exit status.
pub(super) struct Running {
    pub(super) channel: russh::Channel<client::Msg>,
    status: Option<ExitStatus>,
    host: Host,
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
    chunks: mpsc::Receiver<Bytes>,
    pending: Bytes,
    /// `None` once [`RemoteStdout::finish`] took it.
    task: Option<tokio::task::JoinHandle<Finished>>,
    host: Host,
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

/// TCP (or tunnel), SSH handshake with host key check, then authentication.
async fn handshake(
    target: &SshTarget,
    host: &Host,
    credentials: &Credentials,
    jump: Option<&Session>,
) -> Result<client::Handle<HostKeyCheck>, SshError> {
    let (handler, verdict) = HostKeyCheck::new(target, host);
    let config = client_config(target);
    let connected = match jump {
        None => {
            let stream = tcp_connect(target, host).await?;
            client::connect_stream(config, stream, handler).await
        }
        Some(bastion) => {
            // OpenSSH `ProxyJump` asks the bastion for a direct-tcpip channel to the target
            // (RFC 4254 §7.2); the originator fields are informational for the bastion's log.
            let channel = bastion
                .handle
                .channel_open_direct_tcpip(
                    target.address.clone(),
                    u32::from(target.port),
                    "127.0.0.1",
                    0,
                )
                .await
                .map_err(|source| SshError::Tunnel {
                    host: host.name.clone(),
                    addr: host.addr.clone(),
                    jump: bastion.host.name.clone(),
                    source: Box::new(source),
                })?;
            client::connect_stream(config, channel.into_stream(), handler).await
        }
    };
    let mut handle = connected.map_err(|error| {
        // russh only reports `UnknownKey` when `check_server_key` says no; the precise verdict
        // was stashed by the handler.
        if let Some(verdict) = verdict.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return verdict;
        }
        match error {
            russh::Error::IO(source) => SshError::Connect {
                host: host.name.clone(),
                addr: host.addr.clone(),
                source,
            },
            other => host.protocol("negotiating the connection")(other),
        }
    })?;
    authenticate(&mut handle, target, host, credentials).await?;
    Ok(handle)
}

fn client_config(target: &SshTarget) -> Arc<client::Config> {
    // An unreadable file is reported by the host key check; here it just means no preference.
    let recorded: Vec<_> = known_hosts_files(target)
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .flat_map(|text| known_hosts::recorded_keys(&text, &target.address, target.port))
        .collect();
    let mut preferred = russh::Preferred::default();
    preferred.cipher = Cow::Borrowed(super::ciphers::preferred());
    preferred.key = Cow::Owned(known_hosts::preferred_host_key_algorithms(
        &recorded,
        &preferred.key,
    ));
    Arc::new(client::Config {
        // russh sends a keepalive after `keepalive_interval` without traffic from the server and
        // drops the connection once more than `keepalive_max` went unanswered (OpenSSH's
        // `ServerAliveInterval`/`ServerAliveCountMax`); a dead host then ends every waiting
        // channel instead of hanging the run.
        keepalive_interval: (!target.keepalive.is_zero()).then_some(target.keepalive),
        keepalive_max: 3,
        preferred,
        // Commands are small request/response exchanges: do not let Nagle delay them.
        nodelay: true,
        ..Default::default()
    })
}

async fn tcp_connect(target: &SshTarget, host: &Host) -> Result<TcpStream, SshError> {
    let addrs = tokio::net::lookup_host((target.address.as_str(), target.port))
        .await
        .map_err(|source| SshError::Resolve {
            host: host.name.clone(),
            addr: host.addr.clone(),
            source,
        })?;
    let addrs: Vec<_> = addrs.collect();
    // Like OpenSSH, try each resolved address in turn, each within its share of
    // `connect_timeout` (the whole handshake is bounded by it too): an address that swallows SYNs
    // (IPv6 routed into a black hole) must leave time for the next one. The last address is
    // bounded by the handshake's timeout alone.
    let share = target.connect_timeout / u32::try_from(addrs.len()).unwrap_or(u32::MAX).max(1);
    let mut last_error = None;
    for (index, addr) in addrs.iter().enumerate() {
        let attempt = TcpStream::connect(addr);
        let connected = if index + 1 < addrs.len() {
            tokio::time::timeout(share, attempt)
                .await
                .unwrap_or_else(|_| {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("{addr} did not answer within {}s", share.as_secs_f64()),
                    ))
                })
        } else {
            attempt.await
        };
        match connected {
            Ok(stream) => {
                // Only a latency optimisation; failing to set it is harmless.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(SshError::Connect {
        host: host.name.clone(),
        addr: host.addr.clone(),
        source: last_error.unwrap_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the name resolved to no address",
            )
        }),
    })
}

/// Shown for the key during which sshd hung up (OpenSSH `MaxAuthTries`, 6 by default).
const CLOSED: &str = "the host closed the connection: too many keys offered? see `MaxAuthTries`";

/// Tries the agent's keys, then the identity files, in order, like OpenSSH's `publickey` method.
async fn authenticate(
    handle: &mut client::Handle<HostKeyCheck>,
    target: &SshTarget,
    host: &Host,
    credentials: &Credentials,
) -> Result<(), SshError> {
    let mut tried = Vec::new();
    // Asked once, and only if an RSA key comes up: it waits for the server's `server-sig-algs`
    // (RFC 8308), so RSA signs with SHA-512/256 rather than SHA-1, which OpenSSH ≥ 8.8 refuses.
    let mut rsa_hash: Option<Option<HashAlg>> = None;

    if let Some(socket) = credentials.agent_socket() {
        match AgentClient::connect_uds(socket).await {
            Ok(mut agent) => match agent.request_identities().await {
                Ok(identities) => {
                    for identity in identities {
                        // Certificates would need `authenticate_certificate_with`; plain keys
                        // cover the agentless fleet we serve.
                        let AgentIdentity::PublicKey { key, comment } = identity else {
                            continue;
                        };
                        let hash = hash_for(handle, &key, &mut rsa_hash, host).await?;
                        let mut label =
                            format!("agent key {} ({comment})", known_hosts::fingerprint(&key));
                        match handle
                            .authenticate_publickey_with(&target.user, key, hash, &mut agent)
                            .await
                        {
                            Ok(result) if result.success() => return Ok(()),
                            _ if handle.is_closed() => {
                                tried.push(format!("{label} ({CLOSED})"));
                                break;
                            }
                            Ok(_) => {}
                            Err(e) => label.push_str(&format!(" (agent could not sign: {e})")),
                        }
                        tried.push(label);
                    }
                }
                Err(e) => tried.push(format!("the ssh-agent (cannot list its keys: {e})")),
            },
            Err(e) => tried.push(format!(
                "the ssh-agent at `{}` (cannot connect: {e})",
                socket.display()
            )),
        }
    }

    for path in &target.identity_files {
        if handle.is_closed() {
            break;
        }
        match credentials.key_file(path).await {
            KeyFile::Skipped(why) => tried.push(format!("`{}` ({why})", path.display())),
            KeyFile::Loaded(key) => {
                let hash = hash_for(handle, key.public_key(), &mut rsa_hash, host).await?;
                let result = handle
                    .authenticate_publickey(
                        &target.user,
                        PrivateKeyWithHashAlg::new(Arc::clone(&key), hash),
                    )
                    .await;
                match result {
                    Ok(result) if result.success() => return Ok(()),
                    // sshd hangs up after `MaxAuthTries` (6) refused keys, and russh then answers
                    // every attempt with a failure; stop and say so.
                    _ if handle.is_closed() => {
                        tried.push(format!("`{}` ({CLOSED})", path.display()));
                        break;
                    }
                    Ok(_) => tried.push(format!("`{}`", path.display())),
                    Err(e) => return Err(host.protocol("authenticating")(e)),
                }
            }
        }
    }

    Err(SshError::Auth {
        host: host.name.clone(),
        addr: host.addr.clone(),
        user: target.user.clone(),
        tried,
    })
}

async fn hash_for(
    handle: &client::Handle<HostKeyCheck>,
    key: &PublicKey,
    cache: &mut Option<Option<HashAlg>>,
    host: &Host,
) -> Result<Option<HashAlg>, SshError> {
    if !key.algorithm().is_rsa() {
        return Ok(None);
    }
    if cache.is_none() {
        let best = handle
            .best_supported_rsa_hash()
            .await
            .map_err(host.protocol("negotiating the RSA signature"))?;
        // `None`: the server sent no `server-sig-algs`; fall back to what it must support.
        *cache = Some(best.flatten());
    }
    Ok(cache.flatten())
}

/// russh's handler: checks the host key against known_hosts under the target's policy.
struct HostKeyCheck {
    judge: Arc<HostKeyJudge>,
    /// Why the key was refused; read by [`handshake`], because russh itself only reports
    /// `Error::UnknownKey`.
    refusal: Arc<Mutex<Option<SshError>>>,
}

/// What the host key check needs to know about the target; shared with the blocking pool.
struct HostKeyJudge {
    host: Host,
    address: String,
    port: u16,
    /// Every known_hosts file, the one learnt into first.
    known_hosts: Vec<std::path::PathBuf>,
    policy: HostKeyPolicy,
}

/// The target's known_hosts files in the order OpenSSH reads them.
fn known_hosts_files(target: &SshTarget) -> Vec<std::path::PathBuf> {
    std::iter::once(&target.known_hosts)
        .chain(&target.more_known_hosts)
        .cloned()
        .collect()
}

impl HostKeyCheck {
    fn new(target: &SshTarget, host: &Host) -> (Self, Arc<Mutex<Option<SshError>>>) {
        let refusal = Arc::new(Mutex::new(None));
        let check = HostKeyCheck {
            judge: Arc::new(HostKeyJudge {
                host: host.clone(),
                address: target.address.clone(),
                port: target.port,
                known_hosts: known_hosts_files(target),
                policy: target.host_key_policy,
            }),
            refusal: Arc::clone(&refusal),
        };
        (check, refusal)
    }
}

impl HostKeyJudge {
    /// `Ok(())` to accept the key, or the error that explains the refusal.
    fn judge(&self, offered: &PublicKey) -> Result<(), SshError> {
        let files = &self.known_hosts;
        let checked = match self.policy {
            HostKeyPolicy::Strict => {
                known_hosts::check_files(files, &self.address, self.port, offered)
            }
            HostKeyPolicy::AcceptNew => {
                known_hosts::check_or_learn(files, &self.address, self.port, offered)
            }
        };
        let (verdict, path) = checked.map_err(|(source, path)| SshError::KnownHosts {
            host: self.host.name.clone(),
            addr: self.host.addr.clone(),
            known_hosts: path.to_path_buf(),
            source,
        })?;
        let path = &path.to_path_buf();
        match (verdict, self.policy) {
            (Verdict::Known, _) => Ok(()),
            // `check_or_learn` has just recorded it.
            (Verdict::Unknown, HostKeyPolicy::AcceptNew) => Ok(()),
            (Verdict::Unknown, HostKeyPolicy::Strict) => {
                let scan_port = if self.port == 22 {
                    String::new()
                } else {
                    format!("-p {} ", self.port)
                };
                Err(SshError::HostKeyUnknown(Box::new(UnknownHostKey {
                    host: self.host.name.clone(),
                    addr: self.host.addr.clone(),
                    known_hosts: path.clone(),
                    key_type: known_hosts::key_type_label(offered),
                    fingerprint: known_hosts::fingerprint(offered),
                    keyscan: format!(
                        "ssh-keyscan {scan_port}-t {} {}",
                        known_hosts::keyscan_type(offered),
                        self.address
                    ),
                })))
            }
            (Verdict::Revoked(revoked), _) => Err(SshError::HostKeyRevoked {
                host: self.host.name.clone(),
                addr: self.host.addr.clone(),
                known_hosts: path.clone(),
                line: revoked.line,
                key_type: known_hosts::key_type_label(offered),
                offered: known_hosts::fingerprint(offered),
            }),
            (Verdict::Changed(recorded), _) => {
                Err(SshError::HostKeyChanged(Box::new(ChangedHostKey {
                    host: self.host.name.clone(),
                    addr: self.host.addr.clone(),
                    known_hosts: path.clone(),
                    line: recorded.line,
                    recorded: format!(
                        "{} {}",
                        known_hosts::key_type_label(&recorded.key),
                        known_hosts::fingerprint(&recorded.key)
                    ),
                    key_type: known_hosts::key_type_label(offered),
                    offered: known_hosts::fingerprint(offered),
                    recorded_as: known_hosts::host_pattern_name(&self.address, self.port),
                })))
            }
        }
    }
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // We never advertise host certificate algorithms (`Preferred::host_key_certificates` is
        // empty by default), so a certificate is unexpected; its key still proves who signed the
        // exchange, so it is judged like a plain key, never accepted on the CA's word.
        let offered = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::from(cert.public_key().clone()),
        };
        // File reads, the process-wide append lock and fsync block: run them on the blocking pool.
        let judge = Arc::clone(&self.judge);
        let judged = tokio::task::spawn_blocking(move || judge.judge(&offered))
            .await
            .map_err(|e| russh::Error::IO(std::io::Error::other(e)))?;
        match judged {
            Ok(()) => Ok(true),
            Err(refusal) => {
                *self.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(refusal);
                Ok(false)
            }
        }
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
