//! One private OpenSSH `sshd`: its own config, host key, pid file and log, nothing from /etc/ssh.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::teardown::{self, Tracked};

/// The sshd port of every lab host.
pub const PORT: u16 = 22022;

/// OpenSSH compiles in MAX_LISTEN_SOCKS = 16: one sshd cannot listen on more addresses.
pub const MAX_ADDRESSES: usize = 16;

/// A private sshd serving one or more lab addresses on [`PORT`].
#[derive(Debug, Clone)]
pub struct Sshd {
    bin: PathBuf,
    config: PathBuf,
    key: PathBuf,
    pid_file: PathBuf,
    log: PathBuf,
    /// The network namespace sshd runs in (`ip netns exec NAME`), if not the machine's own.
    netns: Option<String>,
}

impl Sshd {
    /// Writes the config and a fresh host key under `dir`, for `addresses`.
    pub fn create(
        bin: &Path,
        dir: &Path,
        addresses: &[Ipv4Addr],
        authorized_keys: &Path,
    ) -> Result<Sshd> {
        assert!(
            addresses.len() <= MAX_ADDRESSES,
            "sshd: too many listen sockets"
        );
        fs::create_dir_all(dir)?;
        let sshd = Sshd {
            bin: bin.to_owned(),
            config: dir.join("sshd_config"),
            key: dir.join("ssh_host_ed25519_key"),
            pid_file: dir.join("sshd.pid"),
            log: dir.join("sshd.log"),
            netns: None,
        };
        let mut config = String::new();
        for address in addresses {
            config.push_str(&format!("ListenAddress {address}:{PORT}\n"));
        }
        config.push_str(&format!(
            "HostKey {key}\n\
             PidFile {pid}\n\
             AuthorizedKeysFile {keys}\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             UsePAM no\n\
             # Keys live under /tmp, which StrictModes would reject.\n\
             StrictModes no\n\
             UseDNS no\n\
             # The default 10:30:100 drops about 40 of 100 simultaneous clients.\n\
             MaxStartups 200:30:400\n\
             MaxSessions 64\n\
             Subsystem sftp internal-sftp\n",
            key = sshd.key.display(),
            pid = sshd.pid_file.display(),
            keys = authorized_keys.display(),
        ));
        fs::write(&sshd.config, config)?;
        keygen(&sshd.key, "hubfleet-lab host key")?;
        Ok(sshd)
    }

    /// Runs this sshd (on every start, restarts too) inside the network namespace `name`, which
    /// must hold its listen addresses.
    pub fn in_netns(mut self, name: &str) -> Sshd {
        self.netns = Some(name.to_owned());
        self
    }

    /// Appends `lines` to the config (before the first start); later settings do not override
    /// earlier ones in sshd_config, so this only adds keywords `create` did not set.
    pub fn add_config(&self, lines: &str) -> Result<()> {
        let mut config = fs::read_to_string(&self.config)?;
        config.push_str(lines);
        fs::write(&self.config, config)?;
        Ok(())
    }

    /// The pid file entry for teardown.
    pub fn tracked(&self) -> Tracked {
        Tracked::new(&self.pid_file, &[&self.config.display().to_string()])
    }

    /// The host key's public half, `ssh-ed25519 AAAA…` (without the comment).
    pub fn public_key(&self) -> Result<String> {
        let pub_path = self.key.with_extension("pub");
        let text = fs::read_to_string(&pub_path)?;
        let mut fields = text.split_whitespace();
        match (fields.next(), fields.next()) {
            (Some(kind), Some(key)) => Ok(format!("{kind} {key}")),
            _ => bail!("`{}` is not an OpenSSH public key", pub_path.display()),
        }
    }

    /// Launches sshd; it daemonizes. Pair with [`Sshd::wait_listening`].
    pub fn launch(&self) -> Result<()> {
        let _ = fs::remove_file(&self.pid_file);
        // `ip netns exec` execs sshd, which daemonizes as usual: the pid file and the command line
        // (the teardown needles) are the same as outside a namespace.
        let mut command = match &self.netns {
            Some(netns) => {
                let mut ip = Command::new("ip");
                ip.args(["netns", "exec", netns]).arg(&self.bin);
                ip
            }
            None => Command::new(&self.bin),
        };
        let status = command
            .arg("-f")
            .arg(&self.config)
            .arg("-E")
            .arg(&self.log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("running `{}`", self.bin.display()))?;
        if !status.success() {
            bail!(
                "`sshd -f {}` failed ({status}): {}",
                self.config.display(),
                self.log_tail()
            );
        }
        Ok(())
    }

    /// Waits until sshd has written its pid file, which OpenSSH does after binding every
    /// listen address.
    pub fn wait_listening(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.tracked().live_pid().is_none() {
            if Instant::now() > deadline {
                bail!(
                    "sshd `{}` did not start: {}",
                    self.config.display(),
                    self.log_tail()
                );
            }
            sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Starts sshd and waits until it listens.
    pub fn start(&self) -> Result<()> {
        self.launch()?;
        self.wait_listening()
    }

    /// Stops the listener (SIGTERM) and waits until it is gone. Open sessions go on, as with a
    /// real sshd.
    pub fn stop(&self) {
        if let Some(pid) = self.tracked().live_pid() {
            teardown::stop_pids(&[pid]);
        }
    }

    /// Cuts every client off at once, as a host that drops off the network: the listener and
    /// each of its per-connection processes are killed (SIGKILL), so open sessions end with no
    /// goodbye and their commands lose their channels.
    pub fn cut_off(&self) {
        let Some(listener) = self.tracked().live_pid() else {
            return;
        };
        let sessions = descendants(listener);
        teardown::signal("-KILL", &sessions);
        teardown::stop_pids(&[listener]);
        teardown::wait_gone(&sessions, Duration::from_secs(5));
    }

    /// Whether sshd is running.
    pub fn is_running(&self) -> bool {
        self.tracked().live_pid().is_some()
    }

    /// Replaces the host key; a running sshd is restarted to serve the new one.
    pub fn rekey(&self) -> Result<()> {
        let running = self.is_running();
        self.stop();
        keygen(&self.key, "hubfleet-lab host key")?;
        if running {
            self.start()?;
        }
        Ok(())
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        format!("{} (log `{}`)", tail.join(" / "), self.log.display())
    }
}

/// Writes a fresh ed25519 key pair without passphrase at `path` and `path.pub`.
pub fn keygen(path: &Path, comment: &str) -> Result<()> {
    let _ = fs::remove_file(path);
    let _ = fs::remove_file(path.with_extension("pub"));
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .context("running `ssh-keygen` (package openssh-client)")?;
    if !status.success() {
        bail!("`ssh-keygen -f {}` failed ({status})", path.display());
    }
    Ok(())
}

/// Every process below `pid` (children first found through `/proc/*/stat`'s parent field).
fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| {
                    let stat = fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                    // `pid (comm) state ppid …`: the comm may hold spaces, so after its `)`.
                    let ppid = stat
                        .rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse()
                        .ok()?;
                    Some((p, ppid))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}
