//! One host of a lab, as a test sees it.

use std::net::Ipv4Addr;
use std::path::PathBuf;

/// A lab host: an address served by an sshd of the lab, and a hub directory.
#[derive(Debug, Clone)]
pub struct LabHost {
    /// Inventory name: `h1`, `h2`, ...
    pub name: String,
    /// Loopback address, `127.A.B.i`.
    pub address: Ipv4Addr,
    /// sshd port (22022).
    pub port: u16,
    /// The host's directory, `LAB/hN` (its hub lives in `hub_dir`).
    pub dir: PathBuf,
    /// The hub's working directory `LAB/hN/hub`: config, scripts, `jupyterhub.sqlite`, logs.
    pub hub_dir: PathBuf,
    /// The hub's Python environment, `LAB/hN/hub/env`.
    pub hub_env: PathBuf,
    /// This host's line in the lab's `known_hosts`: `[127.A.B.i]:22022 ssh-ed25519 AAAA…`.
    pub known_hosts_line: String,
    /// Index of the sshd that serves this host (hosts share one with `addresses_per_sshd`).
    pub(crate) sshd: usize,
}

impl LabHost {
    /// `root@ADDRESS`, for an `ssh` command line.
    pub fn destination(&self) -> String {
        format!("root@{}", self.address)
    }

    /// The hub's public URL through its proxy, `http://ADDRESS:8000`.
    pub fn hub_url(&self) -> String {
        format!("http://{}:8000", self.address)
    }

    /// The hub's SQLite database.
    pub fn hub_db(&self) -> PathBuf {
        self.hub_dir.join("jupyterhub.sqlite")
    }
}
