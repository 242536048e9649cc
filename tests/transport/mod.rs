//! The SSH transport tests' server: a private sshd of the lab harness (`tests/lab/sshd.rs`: its
//! own config, host key, pid file and log, on a free `127.A.B.1` of `tests/lab/subnet.rs`) with
//! client keys of every kind (ed25519, RSA, ECDSA, one locked by a passphrase, one the server does
//! not know), authorized keys and known_hosts in a temporary directory; nothing in `/etc/ssh` or
//! `~/.ssh` is used. Without `/usr/sbin/sshd` a test prints a note and passes (CI installs
//! openssh-server). Used by `ssh_transport.rs` and `ssh_host_keys.rs`, each of which declares
//! `mod lab` (as `crate::lab`) before `#[macro_use] mod transport`.

// Each test binary uses a different subset of these helpers (as in `tests/lab/mod.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use hubfleet::ssh::{Credentials, HostKeyPolicy, PassphrasePrompt, SshTarget};

use crate::lab;
use crate::lab::sshd::PORT;

pub const SSHD: &str = "/usr/sbin/sshd";
pub const PASSPHRASE: &str = "correct horse";

/// A private sshd of the lab harness and the client-side files to reach it.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub address: String,
    pub server: lab::sshd::Sshd,
}

impl Sshd {
    /// Starts sshd on a free 127.A.B.1:22022 with extra sshd_config lines, or `None` (with a
    /// note) when sshd is not installed.
    pub fn start_with(extra_config: &str) -> Result<Option<Sshd>> {
        if !Path::new(SSHD).exists() {
            #[expect(
                clippy::print_stderr,
                reason = "the one note that the test was skipped"
            )]
            {
                eprintln!("note: {SSHD} is missing; skipping the sshd integration test");
            }
            return Ok(None);
        }
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        keygen(&d.join("id_ed25519"), "ed25519", "")?;
        keygen(&d.join("id_rsa"), "rsa", "")?;
        keygen(&d.join("id_ecdsa"), "ecdsa", "")?;
        keygen(&d.join("id_locked"), "ed25519", PASSPHRASE)?;
        keygen(&d.join("id_stranger"), "ed25519", "")?;
        let mut authorized = String::new();
        for key in ["id_ed25519", "id_rsa", "id_ecdsa", "id_locked"] {
            authorized += &std::fs::read_to_string(d.join(format!("{key}.pub")))?;
        }
        std::fs::write(d.join("authorized_keys"), authorized)?;
        std::fs::create_dir_all("/run/sshd")?;

        let address = free_address()?;
        let server = lab::sshd::Sshd::create(
            Path::new(SSHD),
            &d.join("sshd"),
            &[address.parse()?],
            &d.join("authorized_keys"),
        )?;
        server.add_config(&format!("{extra_config}\n"))?;
        // Stopped on drop from here on, even if it does not come up.
        let sshd = Sshd {
            dir,
            address,
            server,
        };
        sshd.server.start()?;
        Ok(Some(sshd))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The host key's public file.
    pub fn host_key(&self) -> PathBuf {
        self.path("sshd/ssh_host_ed25519_key.pub")
    }

    /// The host key line as known_hosts wants it.
    pub fn known_hosts_line(&self) -> String {
        let key = self.server.public_key().unwrap();
        format!("[{}]:{PORT} {key}\n", self.address)
    }

    /// `SHA256:…` of the host key, as `ssh-keygen -lf` prints it.
    pub fn host_fingerprint(&self) -> String {
        fingerprint(&self.host_key())
    }

    /// A target with a known_hosts that already trusts the host and the plain ed25519 key.
    pub fn target(&self) -> SshTarget {
        let known_hosts = self.path("known_hosts");
        if !known_hosts.exists() {
            std::fs::write(&known_hosts, self.known_hosts_line()).unwrap();
        }
        SshTarget {
            name: "hub1".to_owned(),
            address: self.address.clone(),
            port: PORT,
            user: whoami(),
            identity_files: vec![self.path("id_ed25519")],
            known_hosts,
            more_known_hosts: vec![],
            host_key_policy: HostKeyPolicy::Strict,
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(5),
            jump: None,
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // By its pid file; per-connection sshd processes end with their connections.
        self.server.stop();
    }
}

pub fn keygen(path: &Path, kind: &str, passphrase: &str) -> Result<()> {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", passphrase, "-C", kind, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "ssh-keygen -t {kind} failed");
    Ok(())
}

pub fn fingerprint(public_key: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public_key)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

pub fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A loopback address where port 22022 is free, in a subnet of its own (the lab's pick).
pub fn free_address() -> Result<String> {
    let subnet = lab::subnet::pick(None, 1, false)?;
    Ok(lab::subnet::address(subnet, 1).to_string())
}

pub fn no_prompt() -> PassphrasePrompt {
    Arc::new(|_: &Path| None)
}

pub fn credentials() -> Credentials {
    // Never the operator's agent: the tests must authenticate with their own files only.
    Credentials::with_agent_socket(no_prompt(), None)
}

/// The sshd of a test started with extra sshd_config lines, or the test passes with a note when
/// sshd is not installed.
macro_rules! sshd_or_skip {
    ($extra:expr) => {
        match $crate::transport::Sshd::start_with($extra)? {
            Some(sshd) => sshd,
            None => return Ok(()),
        }
    };
    () => {
        sshd_or_skip!("")
    };
}
