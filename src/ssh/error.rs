//! Why a host could not be reached or a command could not run over SSH.
//!
//! Every message names the host twice over: the inventory name the operator knows (`host`) and the
//! `address:port` actually dialled (`addr`), because a wrong address is a common cause. Messages are
//! lowercase fragments; the cause sits in `#[source]`; [`SshError::hints`] says what to do.

use std::path::PathBuf;
use std::time::Duration;

use super::UnquotableArgument;

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
    /// The host's key is marked `@revoked` in known_hosts.
    HostKeyRevoked,
    /// No key was accepted.
    Auth,
}

/// An SSH error, naming the host and the cause.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The address did not resolve.
    #[error("cannot resolve the address of `{host}` (`{addr}`)")]
    Resolve {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },

    /// The TCP connection failed (refused, no route, reset during the handshake).
    #[error("cannot connect to `{host}` (`{addr}`)")]
    Connect {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },

    /// Connect, handshake and authentication did not finish within `connect_timeout`.
    #[error(
        "connecting to `{host}` (`{addr}`){} timed out after {}s",
        via.as_ref().map(|j| format!(" through jump host `{j}`")).unwrap_or_default(),
        after.as_secs_f64()
    )]
    Timeout {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// The timeout that elapsed.
        after: Duration,
        /// The jump host the connection went through, if any.
        via: Option<String>,
    },

    /// Strict policy and the host is not in known_hosts.
    #[error(transparent)]
    HostKeyUnknown(Box<UnknownHostKey>),

    /// The host offered a key other than the recorded one. Always refused.
    #[error(transparent)]
    HostKeyChanged(Box<ChangedHostKey>),

    /// The host offered a key that known_hosts marks `@revoked`. Always refused.
    #[error(
        "host key of `{host}` (`{addr}`) is revoked at `{}:{line}`: the host offered {key_type} key {offered}",
        known_hosts.display()
    )]
    HostKeyRevoked {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// The known_hosts file checked.
        known_hosts: PathBuf,
        /// 1-based line of the `@revoked` entry.
        line: usize,
        /// The offered key's type.
        key_type: &'static str,
        /// The offered key's fingerprint.
        offered: String,
    },

    /// The known_hosts file could not be read, or (under `accept-new`) written.
    #[error("cannot check the host key of `{host}` (`{addr}`) against `{}`", known_hosts.display())]
    KnownHosts {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// The known_hosts file.
        known_hosts: PathBuf,
        /// The file error.
        #[source]
        source: std::io::Error,
    },

    /// No key was accepted.
    #[error(
        "no key was accepted for `{user}` on `{host}` (`{addr}`); tried: {}",
        tried_list(tried)
    )]
    Auth {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// The remote user.
        user: String,
        /// Each key offered or skipped, with why (`` `~/.ssh/id_rsa` (missing) ``).
        tried: Vec<String>,
    },

    /// The bastion could not be reached; the source says why.
    #[error("cannot reach `{host}` (`{addr}`) through jump host `{jump}`")]
    Jump {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled through the bastion.
        addr: String,
        /// The bastion's name.
        jump: String,
        /// Why the bastion failed.
        #[source]
        source: Box<SshError>,
    },

    /// The bastion is up but would not open a tunnel to the host.
    #[error("jump host `{jump}` cannot open a tunnel to `{host}` (`{addr}`)")]
    Tunnel {
        /// Inventory name of the host.
        host: String,
        /// `address:port` the bastion was asked to reach.
        addr: String,
        /// The bastion's name.
        jump: String,
        /// russh's error (the bastion's refusal).
        #[source]
        source: Box<russh::Error>,
    },

    /// The SSH protocol failed (handshake, channel open, request).
    #[error("ssh error with `{host}` (`{addr}`) while {doing}")]
    Protocol {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
        /// What we were doing (`opening a channel`).
        doing: &'static str,
        /// russh's error.
        #[source]
        source: Box<russh::Error>,
    },

    /// sshd refused the exec request (e.g. `MaxSessions` reached, or a `ForceCommand` policy).
    #[error("`{host}` (`{addr}`) refused to run the command")]
    ExecRefused {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
    },

    /// The connection ended while a command was running; its outcome is unknown.
    #[error("connection to `{host}` (`{addr}`) was lost while a command was running")]
    Disconnected {
        /// Inventory name of the host.
        host: String,
        /// `address:port` dialled.
        addr: String,
    },

    /// A command argument cannot be quoted; nothing was sent.
    #[error("cannot send a command to `{host}`")]
    Unquotable {
        /// Inventory name of the host.
        host: String,
        /// The argument at fault.
        #[source]
        source: UnquotableArgument,
    },
}

/// A host whose key is not in known_hosts (boxed in [`SshError`] to keep results small).
#[derive(Debug, thiserror::Error)]
#[error(
    "host key of `{host}` (`{addr}`) is not in `{}`: the host offered {key_type} key {fingerprint}",
    known_hosts.display()
)]
pub struct UnknownHostKey {
    /// Inventory name of the host.
    pub host: String,
    /// `address:port` dialled.
    pub addr: String,
    /// The known_hosts file checked.
    pub known_hosts: PathBuf,
    /// `ED25519`, `ECDSA`, `RSA`.
    pub key_type: &'static str,
    /// The offered key's `SHA256:…` fingerprint.
    pub fingerprint: String,
    /// The `ssh-keyscan` command line that prints the key for known_hosts.
    pub keyscan: String,
}

/// A host that offered a key other than the recorded one (boxed in [`SshError`]).
#[derive(Debug, thiserror::Error)]
#[error(
    "host key of `{host}` (`{addr}`) does not match `{}:{line}`: recorded {recorded}, offered {key_type} key {offered}",
    known_hosts.display()
)]
pub struct ChangedHostKey {
    /// Inventory name of the host.
    pub host: String,
    /// `address:port` dialled.
    pub addr: String,
    /// The known_hosts file checked.
    pub known_hosts: PathBuf,
    /// 1-based line of the recorded entry.
    pub line: usize,
    /// The recorded key, `TYPE SHA256:…`.
    pub recorded: String,
    /// The offered key's type.
    pub key_type: &'static str,
    /// The offered key's fingerprint.
    pub offered: String,
    /// The name the host is recorded under (`[addr]:port` or `addr`), for `ssh-keygen -R`.
    pub recorded_as: String,
}

fn tried_list(tried: &[String]) -> String {
    if tried.is_empty() {
        "no keys (no agent and no `identity_files`)".to_owned()
    } else {
        tried.join(", ")
    }
}

impl SshError {
    /// Which failure to reach the host this is; `None` for a command that could not be sent
    /// (an argument that cannot be quoted), which says nothing of the host.
    pub fn failure(&self) -> Option<SshFailure> {
        Some(match self {
            SshError::Resolve { .. }
            | SshError::Connect { .. }
            | SshError::Timeout { .. }
            | SshError::Tunnel { .. }
            | SshError::Protocol { .. }
            | SshError::ExecRefused { .. }
            | SshError::Disconnected { .. } => SshFailure::Unreachable,
            // Not being able to read or write known_hosts means the key was not accepted.
            SshError::HostKeyUnknown(_) | SshError::KnownHosts { .. } => SshFailure::HostKeyUnknown,
            SshError::HostKeyChanged(_) => SshFailure::HostKeyChanged,
            SshError::HostKeyRevoked { .. } => SshFailure::HostKeyRevoked,
            SshError::Auth { .. } => SshFailure::Auth,
            SshError::Jump { source, .. } => return source.failure(),
            SshError::Unquotable { .. } => return None,
        })
    }

    /// Lines telling the operator what to do, if there is something to do.
    pub fn hints(&self) -> Vec<String> {
        match self {
            SshError::Resolve { host, .. } => vec![format!(
                "check the `address` of `{host}` in the inventory (or its `HostName` in `~/.ssh/config`)"
            )],
            SshError::Connect { host, addr, .. } => vec![format!(
                "check that sshd is running on `{host}` and listening on `{addr}`, and that no firewall is in the way"
            )],
            SshError::Timeout { .. } => vec![
                "check that the host is up and the address is right; raise `connect_timeout` for slow links".to_owned(),
            ],
            SshError::HostKeyUnknown(unknown) => vec![
                format!(
                    "confirm that {} is the host's key (`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the host), then run `{} >> {}`",
                    unknown.fingerprint,
                    unknown.keyscan,
                    unknown.known_hosts.display()
                ),
                "or rerun with `-e host_key_policy=accept-new` to record the keys of hosts seen for the first time".to_owned(),
            ],
            SshError::HostKeyChanged(changed) => vec![
                "someone may be intercepting the connection, or the host was reinstalled: hubfleet will not connect".to_owned(),
                format!(
                    "if the host's administrator confirms the new key, remove the old one with `ssh-keygen -R '{}' -f {}` and record the new one",
                    changed.recorded_as,
                    changed.known_hosts.display()
                ),
            ],
            SshError::HostKeyRevoked { .. } => vec![
                "the host's key was revoked, so whoever holds it may not be the host: hubfleet will not connect; the host's administrator must give it a new host key".to_owned(),
            ],
            SshError::KnownHosts { known_hosts, .. } => vec![format!(
                "check that `{}` is readable (and writable under `accept-new`)",
                known_hosts.display()
            )],
            SshError::Auth { user, .. } => vec![
                format!(
                    "check `identity_files`, the keys in the ssh-agent (`ssh-add -l`) and `~{user}/.ssh/authorized_keys` on the host"
                ),
            ],
            SshError::Jump { source, .. } => source.hints(),
            SshError::Tunnel { jump, addr, .. } => vec![format!(
                "check that `{jump}` allows TCP forwarding (`AllowTcpForwarding` in its sshd_config) and can reach `{addr}`"
            )],
            SshError::Protocol { .. } | SshError::ExecRefused { .. } => vec![
                "check the host's sshd log; `MaxSessions` limits how many commands run at once on one connection".to_owned(),
            ],
            SshError::Disconnected { host, .. } => vec![format!(
                "the command may or may not have finished on `{host}`: check its state before retrying"
            )],
            SshError::Unquotable { .. } => vec![
                "remove the NUL byte (or the invalid environment variable name) from the inventory value".to_owned(),
            ],
        }
    }
}

#[cfg(test)]
mod tests;
