//! Every SSH error reads as one line naming the host and what to do, and counts as the right
//! outcome.
use super::*;

fn addr() -> (String, String) {
    ("web1".to_owned(), "10.0.0.5:2222".to_owned())
}

#[test]
fn messages_and_hints() {
    let (host, addr) = addr();
    let cases: Vec<(SshError, SshFailure, &str, Vec<&str>)> = vec![
        (
            SshError::Connect {
                host: host.clone(),
                addr: addr.clone(),
                source: std::io::ErrorKind::ConnectionRefused.into(),
            },
            SshFailure::Unreachable,
            "cannot connect to `web1` (`10.0.0.5:2222`)",
            vec![
                "check that sshd is running on `web1` and listening on `10.0.0.5:2222`, and that no firewall is in the way",
            ],
        ),
        (
            SshError::Timeout {
                host: host.clone(),
                addr: addr.clone(),
                after: Duration::from_secs(10),
                via: None,
            },
            SshFailure::Unreachable,
            "connecting to `web1` (`10.0.0.5:2222`) timed out after 10s",
            vec![
                "check that the host is up and the address is right; raise `connect_timeout` for slow links",
            ],
        ),
        (
            SshError::Timeout {
                host: host.clone(),
                addr: addr.clone(),
                after: Duration::from_secs(10),
                via: Some("bastion".to_owned()),
            },
            SshFailure::Unreachable,
            "connecting to `web1` (`10.0.0.5:2222`) through jump host `bastion` timed out after 10s",
            vec![
                "check that the host is up and the address is right; raise `connect_timeout` for slow links",
            ],
        ),
        (
            SshError::HostKeyUnknown(Box::new(UnknownHostKey {
                host: host.clone(),
                addr: addr.clone(),
                known_hosts: "/home/op/.ssh/known_hosts".into(),
                key_type: "ED25519",
                fingerprint: "SHA256:T7SvZ2cslqpPj6nKzitCBHHlpVF3r3MvLwmFL0fk0IE".into(),
                keyscan: "ssh-keyscan -p 2222 -t ed25519 10.0.0.5".into(),
            })),
            SshFailure::HostKeyUnknown,
            "host key of `web1` (`10.0.0.5:2222`) is not in `/home/op/.ssh/known_hosts`: the host offered ED25519 key SHA256:T7SvZ2cslqpPj6nKzitCBHHlpVF3r3MvLwmFL0fk0IE",
            vec![
                "confirm that SHA256:T7SvZ2cslqpPj6nKzitCBHHlpVF3r3MvLwmFL0fk0IE is the host's key (`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the host), then run `ssh-keyscan -p 2222 -t ed25519 10.0.0.5 >> /home/op/.ssh/known_hosts`",
                "or rerun with `-e host_key_policy=accept-new` to record the keys of hosts seen for the first time",
            ],
        ),
        (
            SshError::HostKeyChanged(Box::new(ChangedHostKey {
                host: host.clone(),
                addr: addr.clone(),
                known_hosts: "/home/op/.ssh/known_hosts".into(),
                line: 7,
                recorded: "ED25519 SHA256:old".into(),
                key_type: "ED25519",
                offered: "SHA256:new".into(),
                recorded_as: "[10.0.0.5]:2222".into(),
            })),
            SshFailure::HostKeyChanged,
            "host key of `web1` (`10.0.0.5:2222`) does not match `/home/op/.ssh/known_hosts:7`: recorded ED25519 SHA256:old, offered ED25519 key SHA256:new",
            vec![
                "someone may be intercepting the connection, or the host was reinstalled: hubfleet will not connect",
                "if the host's administrator confirms the new key, remove the old one with `ssh-keygen -R '[10.0.0.5]:2222' -f /home/op/.ssh/known_hosts` and record the new one",
            ],
        ),
        (
            SshError::HostKeyRevoked {
                host: host.clone(),
                addr: addr.clone(),
                known_hosts: "/home/op/.ssh/known_hosts".into(),
                line: 9,
                key_type: "ED25519",
                offered: "SHA256:old".into(),
            },
            SshFailure::HostKeyRevoked,
            "host key of `web1` (`10.0.0.5:2222`) is revoked at `/home/op/.ssh/known_hosts:9`: the host offered ED25519 key SHA256:old",
            vec![
                "the host's key was revoked, so whoever holds it may not be the host: hubfleet will not connect; the host's administrator must give it a new host key",
            ],
        ),
        (
            SshError::Auth {
                host: host.clone(),
                addr: addr.clone(),
                user: "hubadmin".into(),
                tried: vec![
                    "agent key SHA256:abc (op@laptop)".into(),
                    "`/home/op/.ssh/id_ed25519`".into(),
                    "`/home/op/.ssh/id_rsa` (missing)".into(),
                ],
            },
            SshFailure::Auth,
            "no key was accepted for `hubadmin` on `web1` (`10.0.0.5:2222`); tried: agent key SHA256:abc (op@laptop), `/home/op/.ssh/id_ed25519`, `/home/op/.ssh/id_rsa` (missing)",
            vec![
                "check `identity_files`, the keys in the ssh-agent (`ssh-add -l`) and `~hubadmin/.ssh/authorized_keys` on the host",
            ],
        ),
        (
            SshError::Jump {
                host: host.clone(),
                addr: addr.clone(),
                jump: "bastion".into(),
                source: Box::new(SshError::Auth {
                    host: "bastion".into(),
                    addr: "192.0.2.1:22".into(),
                    user: "op".into(),
                    tried: vec![],
                }),
            },
            SshFailure::Auth,
            "cannot reach `web1` (`10.0.0.5:2222`) through jump host `bastion`",
            vec![
                "check `identity_files`, the keys in the ssh-agent (`ssh-add -l`) and `~op/.ssh/authorized_keys` on the host",
            ],
        ),
        (
            SshError::Disconnected {
                host: host.clone(),
                addr: addr.clone(),
            },
            SshFailure::Unreachable,
            "connection to `web1` (`10.0.0.5:2222`) was lost while a command was running",
            vec![
                "the command may or may not have finished on `web1`: check its state before retrying",
            ],
        ),
    ];
    for (error, failure, message, hints) in cases {
        assert_eq!(error.to_string(), message);
        assert_eq!(error.failure(), Some(failure), "{message}");
        assert_eq!(error.hints(), hints, "{message}");
    }
}

#[test]
fn stays_small_enough_for_clippy() {
    // `clippy::result_large_err` fires above 128 bytes, in every caller's signature.
    assert!(size_of::<SshError>() <= 128, "{}", size_of::<SshError>());
}

#[test]
fn jump_error_chain_names_the_bastion_cause() {
    let error = SshError::Jump {
        host: "web1".into(),
        addr: "10.0.0.5:22".into(),
        jump: "bastion".into(),
        source: Box::new(SshError::Auth {
            host: "bastion".into(),
            addr: "192.0.2.1:22".into(),
            user: "op".into(),
            tried: vec![],
        }),
    };
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert_eq!(
        cause,
        "no key was accepted for `op` on `bastion` (`192.0.2.1:22`); tried: no keys (no agent and no `identity_files`)"
    );
}
