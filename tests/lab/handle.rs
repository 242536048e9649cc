//! A started lab: what tests read from it, the faults they inject, and stopping it on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use tempfile::TempDir;

use super::builder::{Hubs, LabBuilder};
use super::host::LabHost;
use super::hub::{self, HubFiles};
use super::seed::Seed;
use super::sshd::Sshd;
use super::{http, teardown};

/// Where a lab lives: a temporary directory (removed on drop unless `HUBFLEET_LAB_KEEP=1`) or a
/// fixed one (always kept).
#[derive(Debug)]
pub(crate) enum LabDir {
    Temp(TempDir),
    Fixed(PathBuf),
}

impl LabDir {
    pub(crate) fn temp() -> Result<LabDir> {
        let dir = tempfile::Builder::new()
            .prefix("hubfleet-lab-")
            .tempdir_in("/tmp")
            .context("creating the lab directory under /tmp")?;
        Ok(LabDir::Temp(dir))
    }

    fn path(&self) -> &Path {
        match self {
            LabDir::Temp(dir) => dir.path(),
            LabDir::Fixed(dir) => dir,
        }
    }
}

/// A running lab; dropping it stops every process it started.
#[derive(Debug)]
pub struct Lab {
    dir: Option<LabDir>,
    pub(crate) subnet: [u8; 3],
    pub(crate) hosts: Vec<LabHost>,
    pub(crate) sshds: Vec<Sshd>,
    pub(crate) hubs: Vec<HubFiles>,
    pub(crate) hubs_mode: Hubs,
    pub(crate) release: String,
    pub(crate) seed: Option<Seed>,
    pub(crate) controller_key: PathBuf,
    pub(crate) known_hosts: PathBuf,
    pub(crate) inventory: PathBuf,
    pub(crate) home: PathBuf,
    pub(crate) wheelhouse: PathBuf,
}

impl Lab {
    /// Settings for a new lab: `Lab::builder().hosts(5).hubs(Hubs::Running).start()?`.
    pub fn builder() -> LabBuilder {
        LabBuilder::default()
    }

    pub(crate) fn empty(
        dir: LabDir,
        subnet: [u8; 3],
        hubs_mode: Hubs,
        release: String,
        wheelhouse: PathBuf,
    ) -> Lab {
        let root = dir.path().to_owned();
        Lab {
            dir: Some(dir),
            subnet,
            hosts: Vec::new(),
            sshds: Vec::new(),
            hubs: Vec::new(),
            hubs_mode,
            release,
            seed: None,
            controller_key: root.join("controller/id_ed25519"),
            known_hosts: root.join("known_hosts"),
            inventory: root.join("inventory.toml"),
            home: root.join("home"),
            wheelhouse,
        }
    }

    /// Stops every process of the lab in `dir` (started by `examples/lab.rs up` or a kept lab).
    /// Idempotent.
    pub fn down(dir: &Path) -> Result<()> {
        teardown::stop_recorded(dir)
    }

    /// The lab's directory.
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("a lab has a directory until dropped")
            .path()
    }

    /// The generated hubfleet inventory (`LAB/inventory.toml`).
    pub fn inventory(&self) -> &Path {
        &self.inventory
    }

    /// The hosts `h1`, `h2`, …; indexes of this slice are the `i` of the other methods.
    pub fn hosts(&self) -> &[LabHost] {
        &self.hosts
    }

    /// The controller's private key, authorized for root on every host.
    pub fn controller_key(&self) -> &Path {
        &self.controller_key
    }

    /// The `authorized_keys` every host's sshd reads: the controller's public key.
    pub(crate) fn authorized_keys(&self) -> PathBuf {
        self.dir().join("authorized_keys")
    }

    /// The lab's `known_hosts`, with every host's key (no trust on first use).
    pub fn known_hosts(&self) -> &Path {
        &self.known_hosts
    }

    /// The `HOME` of commands from [`Lab::hubfleet_at`]; `~/.ssh` exists and is empty.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The subnet `127.A.B` of the hosts.
    pub fn subnet(&self) -> [u8; 3] {
        self.subnet
    }

    /// What the hosts' databases were populated with (`None` in a lab without hubs).
    pub fn seed(&self) -> Option<&Seed> {
        self.seed.as_ref()
    }

    /// The JupyterHub release installed on the hosts.
    pub fn release(&self) -> &str {
        &self.release
    }

    /// What runs on the hosts besides sshd.
    pub fn hubs(&self) -> Hubs {
        self.hubs_mode
    }

    /// The wheelhouse of `scripts/setup`: every JupyterHub release the lab knows, with its
    /// dependencies, for `pip install --no-index --find-links`.
    pub fn wheelhouse(&self) -> &Path {
        &self.wheelhouse
    }

    /// The token of the lab's admin service `hubfleet-lab`, valid on every hub.
    pub fn service_token(&self) -> &str {
        hub::SERVICE_TOKEN
    }

    /// A command for the hubfleet binary at `bin` (pass `env!("CARGO_BIN_EXE_hubfleet")`), run
    /// in the lab directory with `HOME` set to [`Lab::home`], `COLUMNS=160`, `NO_COLOR=1`, no
    /// ssh-agent and no stdin (so never asked to confirm). The inventory is not added: tests say
    /// `-i` themselves.
    pub fn hubfleet_at(&self, bin: impl AsRef<Path>) -> Command {
        let mut command = Command::new(bin.as_ref());
        command
            .current_dir(self.dir())
            .env("HOME", &self.home)
            .env("COLUMNS", "160")
            .env("NO_COLOR", "1")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSH_AGENT_PID")
            .stdin(std::process::Stdio::null());
        command
    }

    /// Runs the test binary's hubfleet (see [`Lab::hubfleet_at`]) with `args` to completion.
    /// Only in integration tests, where cargo names the binary.
    pub fn hubfleet(&self, args: &[&str]) -> std::process::Output {
        let Some(bin) = option_env!("CARGO_BIN_EXE_hubfleet") else {
            panic!("only integration tests, where cargo builds hubfleet, can run it");
        };
        self.hubfleet_at(bin)
            .args(args)
            .output()
            .expect("run hubfleet")
    }

    /// OpenSSH's `ssh` to host `i` with the lab's key and strict host key checking; add the
    /// remote command with `.arg(…)`.
    pub fn ssh(&self, i: usize) -> Command {
        let mut command = Command::new("ssh");
        command
            .arg("-F")
            .arg("/dev/null")
            .arg("-i")
            .arg(&self.controller_key)
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args(["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5"])
            .args(["-p", &self.hosts[i].port.to_string()])
            .arg(self.hosts[i].destination())
            .env_remove("SSH_AUTH_SOCK");
        command
    }

    /// Stops the sshd serving host `i` (with `addresses_per_sshd` > 1 also its neighbours):
    /// new connections are refused; open sessions go on.
    pub fn stop_sshd(&self, i: usize) {
        self.sshds[self.hosts[i].sshd].stop();
    }

    /// Cuts host `i` off mid-session: its sshd's listener and every open session killed at
    /// once (with `addresses_per_sshd` > 1 also its neighbours').
    pub fn cut_off(&self, i: usize) {
        self.sshds[self.hosts[i].sshd].cut_off();
    }

    /// Starts the sshd serving host `i` again.
    pub fn start_sshd(&self, i: usize) -> Result<()> {
        self.sshds[self.hosts[i].sshd].start()
    }

    /// Gives the sshd of host `i` a new host key (restarting it if it runs). The lab's
    /// `known_hosts` keeps the old key, so strict clients refuse the host.
    pub fn change_host_key(&self, i: usize) -> Result<()> {
        self.sshds[self.hosts[i].sshd].rekey()
    }

    /// Removes host `i`'s line from the lab's `known_hosts`, so the host is unknown (for
    /// `host_key_policy = "accept-new"` and first-contact tests).
    pub fn forget_host_key(&self, i: usize) -> Result<()> {
        let forgotten = &self.hosts[i].known_hosts_line;
        let text = fs::read_to_string(&self.known_hosts)?;
        let kept: String = text
            .lines()
            .filter(|line| line != forgotten)
            .map(|line| format!("{line}\n"))
            .collect();
        fs::write(&self.known_hosts, kept)?;
        Ok(())
    }

    /// Gives host `i`'s hub env a package index without JupyterHub `release`: a directory of
    /// links to every other wheel of the wheelhouse, which the env's `pip.conf` then points at
    /// (a host whose mirror lags behind).
    pub fn index_without(&self, i: usize, release: &str) -> Result<()> {
        let index = self
            .dir()
            .join(format!("index-without-{release}-h{}", i + 1));
        fs::create_dir_all(&index)?;
        let hidden = format!("jupyterhub-{release}-");
        for entry in fs::read_dir(&self.wheelhouse)? {
            let entry = entry?;
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with(&hidden) {
                std::os::unix::fs::symlink(entry.path(), index.join(&name))?;
            }
        }
        let conf = format!(
            "[global]\nno-index = true\nfind-links = {}\n",
            index.display()
        );
        fs::write(self.hubs[i].env.join("pip.conf"), conf)?;
        Ok(())
    }

    /// Starts host `i`'s hub (its `start.sh`) and waits until `/hub/api` answers; its version.
    pub fn start_hub(&self, i: usize) -> Result<String> {
        self.hubs[i].start()?;
        self.hubs[i].wait_healthy(std::time::Duration::from_secs(90))
    }

    /// Waits until host `i`'s hub answers `/hub/api` (after hubfleet started it); its version.
    pub fn wait_hub(&self, i: usize) -> Result<String> {
        self.hubs[i].wait_healthy(std::time::Duration::from_secs(90))
    }

    /// Stops host `i`'s hub with its `stop.sh`.
    pub fn stop_hub(&self, i: usize) -> Result<()> {
        self.hubs[i].stop()
    }

    /// The version host `i`'s hub reports at `GET http://ADDRESS:8000/hub/api`.
    pub fn hub_version(&self, i: usize) -> Result<String> {
        http::hub_version(self.hubs[i].public_addr())
    }

    /// Leaves every process running and the directory in place (for `examples/lab.rs up`);
    /// [`Lab::down`] stops them later. Returns the directory.
    pub fn detach(mut self) -> PathBuf {
        match self
            .dir
            .take()
            .expect("a lab has a directory until dropped")
        {
            LabDir::Temp(dir) => dir.keep(),
            LabDir::Fixed(dir) => dir,
        }
    }

    pub(crate) fn write_known_hosts(&self) -> Result<()> {
        let lines: Vec<&str> = self
            .hosts
            .iter()
            .map(|h| h.known_hosts_line.as_str())
            .collect();
        fs::write(&self.known_hosts, lines.join("\n") + "\n")?;
        Ok(())
    }
}

impl Drop for Lab {
    #[expect(
        clippy::print_stderr,
        reason = "a kept lab's path is for the human at the test"
    )]
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        // Errors cannot leave `drop`; a lab we fail to read back is left for `examples/lab.rs down`.
        let _ = teardown::stop_recorded(dir.path());
        if let LabDir::Temp(temp) = dir
            && std::env::var_os("HUBFLEET_LAB_KEEP").is_some_and(|v| v == "1")
        {
            eprintln!("lab kept in {}", temp.keep().display());
        }
    }
}
