//! The host key check russh calls during the handshake: the offered key judged against the
//! target's known_hosts files under its policy, on the blocking pool.

use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{PublicKey, PublicKeyOrCertificate};

use super::error::{ChangedHostKey, UnknownHostKey};
use super::known_hosts::{self, Verdict};
use super::session::Host;
use super::{HostKeyPolicy, SshError, SshTarget};

/// russh's handler: checks the host key against known_hosts under the target's policy.
pub(super) struct HostKeyCheck {
    judge: Arc<HostKeyJudge>,
    /// Why the key was refused; read by [`handshake`], because russh itself only reports
    /// `Error::UnknownKey`.
    refusal: Arc<Mutex<Option<SshError>>>,
}

/// What the host key check needs to know about the target; shared with the blocking pool.
struct HostKeyJudge {
    pub(super) host: Host,
    pub(super) address: String,
    pub(super) port: u16,
    /// Every known_hosts file, the one learnt into first.
    pub(super) known_hosts: Vec<std::path::PathBuf>,
    policy: HostKeyPolicy,
}

/// The target's known_hosts files in the order OpenSSH reads them.
pub(super) fn known_hosts_files(target: &SshTarget) -> Vec<std::path::PathBuf> {
    std::iter::once(&target.known_hosts)
        .chain(&target.more_known_hosts)
        .cloned()
        .collect()
}

impl HostKeyCheck {
    pub(super) fn new(target: &SshTarget, host: &Host) -> (Self, Arc<Mutex<Option<SshError>>>) {
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
