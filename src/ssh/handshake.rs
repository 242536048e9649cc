//! Opening a session: TCP (or a tunnel through the jump host), the SSH handshake with its host
//! key check, then public-key authentication as OpenSSH does it (the agent's keys, then the
//! identity files, in order).

use std::borrow::Cow;
use std::sync::Arc;

use russh::client;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};
use tokio::net::TcpStream;

use super::credentials::KeyFile;
use super::host_key_check::{HostKeyCheck, known_hosts_files};
use super::known_hosts::{self};
use super::session::{Host, Session};
use super::{Credentials, SshError, SshTarget};

/// TCP (or tunnel), SSH handshake with host key check, then authentication.
pub(super) async fn handshake(
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
