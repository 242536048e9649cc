//! Where and how to reach one host: the resolved SSH settings of an inventory host.
//!
//! Built by the inventory resolver (which has already merged defaults, groups, the host's own
//! variables, the command line and `~/.ssh/config`), consumed by [`crate::ssh::Session::connect`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// How unknown and changed host keys are treated. There is deliberately no variant that accepts
/// any key: a changed key is always refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// Only keys already in a known_hosts file are accepted (OpenSSH `StrictHostKeyChecking yes`).
    #[default]
    Strict,
    /// Unknown hosts are recorded in the known_hosts file and accepted; changed keys are refused
    /// (OpenSSH `StrictHostKeyChecking accept-new`).
    AcceptNew,
}

/// The resolved SSH settings of one host. Every field is final: no defaults are applied later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshTarget {
    /// The name the operator knows the host by (the inventory name), used in messages.
    pub name: String,
    /// The address to connect to (DNS name or IP).
    pub address: String,
    /// The TCP port of the host's sshd.
    pub port: u16,
    /// The remote user to log in as.
    pub user: String,
    /// Private key files to try after the ssh-agent's keys, in order.
    pub identity_files: Vec<PathBuf>,
    /// The known_hosts file checked first and, under `accept-new`, written (OpenSSH's first
    /// `UserKnownHostsFile`).
    pub known_hosts: PathBuf,
    /// More known_hosts files, read and never written: the other user files, then the global
    /// ones (`/etc/ssh/ssh_known_hosts`), as OpenSSH reads them.
    pub more_known_hosts: Vec<PathBuf>,
    /// How unknown host keys are treated.
    pub host_key_policy: HostKeyPolicy,
    /// How long the TCP connect plus SSH handshake and authentication may take.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub connect_timeout: Duration,
    /// Interval of SSH keepalives; the connection is dropped after 3 unanswered ones.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub keepalive: Duration,
    /// A bastion to tunnel through (a direct-tcpip channel); its own key is checked too.
    pub jump: Option<Box<SshTarget>>,
}
