//! Host keys against a real OpenSSH sshd (`tests/transport/`): an unknown key refused with its
//! fingerprint, `accept-new` learning it, a changed key refused with both, a revoked one never
//! learned.

#[path = "lab/mod.rs"]
mod lab;
#[path = "transport/mod.rs"]
#[macro_use]
mod transport;

use anyhow::{Context, Result};
use hubfleet::ssh::{HostKeyPolicy, Session, SshFailure};
use lab::sshd::PORT;
use transport::{credentials, fingerprint, keygen};

#[tokio::test]
async fn strict_refuses_unknown_host_with_its_fingerprint() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.known_hosts = sshd.path("empty_known_hosts");
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("an unknown host must be refused")?;
    assert_eq!(error.failure(), Some(SshFailure::HostKeyUnknown));
    assert_eq!(
        error.to_string(),
        format!(
            "host key of `hub1` (`{addr}:{PORT}`) is not in `{kh}`: the host offered ED25519 key {fp}",
            addr = sshd.address,
            kh = target.known_hosts.display(),
            fp = sshd.host_fingerprint()
        )
    );
    assert!(
        error.hints()[0].contains(&format!(
            "`ssh-keyscan -p {PORT} -t ed25519 {} >> {}`",
            sshd.address,
            target.known_hosts.display()
        )),
        "{:?}",
        error.hints()
    );
    assert!(!target.known_hosts.exists(), "strict must not write");
    Ok(())
}

#[tokio::test]
async fn accept_new_records_the_key_then_accepts_it() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.known_hosts = sshd.path("new/dir/known_hosts");
    target.host_key_policy = HostKeyPolicy::AcceptNew;
    Session::connect(&target, &credentials())
        .await?
        .close()
        .await;
    assert_eq!(
        std::fs::read_to_string(&target.known_hosts)?,
        sshd.known_hosts_line()
    );
    // Now recorded: even the strict policy accepts it, and nothing more is written.
    target.host_key_policy = HostKeyPolicy::Strict;
    Session::connect(&target, &credentials())
        .await?
        .close()
        .await;
    target.host_key_policy = HostKeyPolicy::AcceptNew;
    Session::connect(&target, &credentials())
        .await?
        .close()
        .await;
    assert_eq!(
        std::fs::read_to_string(&target.known_hosts)?,
        sshd.known_hosts_line()
    );
    Ok(())
}

#[tokio::test]
async fn changed_key_is_refused_with_both_fingerprints() -> Result<()> {
    let sshd = sshd_or_skip!();
    keygen(&sshd.path("impostor"), "ed25519", "")?;
    let impostor = std::fs::read_to_string(sshd.path("impostor.pub"))?;
    let mut fields = impostor.split_whitespace();
    let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
    let mut target = sshd.target();
    target.known_hosts = sshd.path("changed_known_hosts");
    let contents = format!(
        "# recorded last year\n[{}]:{PORT} {kind} {key}\n",
        sshd.address
    );
    std::fs::write(&target.known_hosts, &contents)?;
    // Even accept-new refuses a changed key.
    target.host_key_policy = HostKeyPolicy::AcceptNew;
    let error = Session::connect(&target, &credentials())
        .await
        .err()
        .context("a changed key must be refused")?;
    assert_eq!(error.failure(), Some(SshFailure::HostKeyChanged));
    assert_eq!(
        error.to_string(),
        format!(
            "host key of `hub1` (`{addr}:{PORT}`) does not match `{kh}:2`: recorded ED25519 {old}, offered ED25519 key {new}",
            addr = sshd.address,
            kh = target.known_hosts.display(),
            old = fingerprint(&sshd.path("impostor.pub")),
            new = sshd.host_fingerprint(),
        )
    );
    assert_eq!(std::fs::read_to_string(&target.known_hosts)?, contents);
    Ok(())
}

#[tokio::test]
async fn a_revoked_key_is_refused_though_also_recorded_and_never_learned() -> Result<()> {
    let sshd = sshd_or_skip!();
    let mut target = sshd.target();
    target.known_hosts = sshd.path("revoked_known_hosts");
    let line = sshd.known_hosts_line();
    let line = line.trim_end();
    let key = line
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let contents = format!("{line}\n@revoked * {key}\n");
    std::fs::write(&target.known_hosts, &contents)?;
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        target.host_key_policy = policy;
        let error = Session::connect(&target, &credentials())
            .await
            .err()
            .context("a revoked key must be refused")?;
        assert_eq!(error.failure(), Some(SshFailure::HostKeyRevoked));
        assert_eq!(
            error.to_string(),
            format!(
                "host key of `hub1` (`{addr}:{PORT}`) is revoked at `{kh}:2`: the host offered ED25519 key {fp}",
                addr = sshd.address,
                kh = target.known_hosts.display(),
                fp = sshd.host_fingerprint(),
            )
        );
    }
    assert_eq!(std::fs::read_to_string(&target.known_hosts)?, contents);
    Ok(())
}
