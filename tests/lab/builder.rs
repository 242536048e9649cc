//! `Lab::builder()…start()`: what a lab should hold, and bringing it up.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use super::cache::Cache;
use super::handle::{Lab, LabDir};
use super::host::LabHost;
use super::hub::HubFiles;
use super::sshd::{self, Sshd};
use super::trace::Trace;
use super::{inventory, seed, subnet, teardown};

/// What runs on the lab's hosts besides sshd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hubs {
    /// sshd only: for connection, exec and fault tests.
    None,
    /// Each host has a hub directory with JupyterHub installed, a populated database and a
    /// running user server, but the hub is stopped.
    Installed,
    /// As `Installed`, and every hub is running and answering `/hub/api`.
    Running,
}

/// Settings of a lab to start; see [`Lab::builder`].
#[derive(Debug, Clone)]
pub struct LabBuilder {
    hosts: usize,
    hubs: Hubs,
    release: String,
    addresses_per_sshd: usize,
    subnet: Option<[u8; 3]>,
    dir: Option<PathBuf>,
}

impl Default for LabBuilder {
    fn default() -> Self {
        LabBuilder {
            hosts: 3,
            hubs: Hubs::None,
            release: "4.1.6".to_owned(),
            addresses_per_sshd: 1,
            subnet: None,
            dir: None,
        }
    }
}

impl LabBuilder {
    /// Number of hosts, 1..=254 (default 3).
    pub fn hosts(mut self, hosts: usize) -> Self {
        self.hosts = hosts;
        self
    }

    /// What runs on each host besides sshd (default [`Hubs::None`]).
    pub fn hubs(mut self, hubs: Hubs) -> Self {
        self.hubs = hubs;
        self
    }

    /// The JupyterHub release installed on every host (default 4.1.6).
    pub fn jupyterhub(mut self, release: &str) -> Self {
        self.release = release.to_owned();
        self
    }

    /// How many host addresses one sshd serves, 1..=16 (default 1, so that one host can be
    /// stopped or re-keyed alone). A 100-host lab wants 16: 7 sshds instead of 100.
    pub fn addresses_per_sshd(mut self, addresses: usize) -> Self {
        self.addresses_per_sshd = addresses;
        self
    }

    /// A fixed subnet `127.A.B` instead of a random free one (for the README demo).
    pub fn subnet(mut self, subnet: [u8; 3]) -> Self {
        self.subnet = Some(subnet);
        self
    }

    /// A fixed lab directory instead of a temporary one. A lab already there is taken down and
    /// the directory emptied; the directory is kept when the lab is dropped.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Brings the lab up. On error, whatever was started is stopped again.
    pub fn start(self) -> Result<Lab> {
        ensure!((1..=254).contains(&self.hosts), "a lab has 1..=254 hosts");
        ensure!(
            (1..=sshd::MAX_ADDRESSES).contains(&self.addresses_per_sshd),
            "one sshd listens on 1..={} addresses",
            sshd::MAX_ADDRESSES
        );
        let trace = Trace::start();
        let with_hubs = self.hubs != Hubs::None;
        let cache = Cache::locate(with_hubs.then_some(self.release.as_str()))?;
        let dir = match &self.dir {
            Some(dir) => {
                // Only a previous lab (or nothing) is ever emptied: a typo in `--dir` must not
                // wipe someone's files.
                let empty = fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());
                if !empty && !is_lab_dir(dir) {
                    bail!(
                        "`{}` exists and holds no lab: pick another directory",
                        dir.display()
                    );
                }
                teardown::stop_recorded(dir)?;
                if dir.exists() {
                    fs::remove_dir_all(dir)
                        .with_context(|| format!("emptying `{}`", dir.display()))?;
                }
                fs::create_dir_all(dir)?;
                LabDir::Fixed(fs::canonicalize(dir)?)
            }
            None => LabDir::temp()?,
        };
        let subnet = subnet::pick(self.subnet, self.hosts, with_hubs)?;
        trace.done("directory and subnet");
        // From here on `lab` owns the directory: an early return drops it, which stops every
        // process recorded so far.
        let mut lab = Lab::empty(
            dir,
            subnet,
            self.hubs,
            self.release.clone(),
            cache.wheels.clone(),
        );
        self.bring_up(&mut lab, &cache, &trace)?;
        Ok(lab)
    }

    fn bring_up(&self, lab: &mut Lab, cache: &Cache, trace: &Trace) -> Result<()> {
        let root = lab.dir().to_owned();
        let home_ssh = root.join("home/.ssh");
        fs::create_dir_all(&home_ssh)?;
        fs::create_dir_all(root.join("controller"))?;
        sshd::keygen(&lab.controller_key, "hubfleet-lab controller")?;
        let authorized_keys = lab.authorized_keys();
        fs::copy(lab.controller_key.with_extension("pub"), &authorized_keys)?;

        // sshd: one per `addresses_per_sshd` hosts, files in the dir of its first host.
        let addresses: Vec<_> = (1..=self.hosts)
            .map(|i| subnet::address(lab.subnet, i))
            .collect();
        for (n, chunk) in addresses.chunks(self.addresses_per_sshd).enumerate() {
            let first = n * self.addresses_per_sshd + 1;
            let dir = root.join(format!("h{first}/sshd"));
            let sshd = Sshd::create(&cache.sshd, &dir, chunk, &authorized_keys)?;
            teardown::record(&root, &[sshd.tracked()])?;
            sshd.launch()?;
            lab.sshds.push(sshd);
        }
        for sshd in &lab.sshds {
            sshd.wait_listening()?;
        }
        trace.done("sshds listening");

        for (i, &address) in addresses.iter().enumerate() {
            let name = format!("h{}", i + 1);
            let dir = root.join(&name);
            let sshd = i / self.addresses_per_sshd;
            let key = lab.sshds[sshd].public_key()?;
            lab.hosts.push(LabHost {
                known_hosts_line: format!("[{address}]:{} {key}", sshd::PORT),
                hub_dir: dir.join("hub"),
                hub_env: dir.join("hub/env"),
                port: sshd::PORT,
                name,
                address,
                dir,
                sshd,
            });
        }
        lab.write_known_hosts()?;

        if self.hubs != Hubs::None {
            self.bring_up_hubs(lab, cache, trace)?;
        }
        let text = inventory::render(
            &lab.hosts,
            &lab.controller_key,
            &lab.known_hosts,
            self.hubs != Hubs::None,
        );
        fs::write(&lab.inventory, text)?;
        Ok(())
    }

    fn bring_up_hubs(&self, lab: &mut Lab, cache: &Cache, trace: &Trace) -> Result<()> {
        let root = lab.dir().to_owned();
        lab.hubs = lab
            .hosts
            .iter()
            .map(|h| HubFiles::new(&h.hub_dir, &h.hub_env, h.address))
            .collect();
        // Two cores: a few uv runs at a time keep both busy without thrashing.
        for chunk in lab.hubs.chunks(4) {
            thread::scope(|scope| {
                let jobs: Vec<_> = chunk
                    .iter()
                    .map(|hub| scope.spawn(|| hub.install(cache, &self.release)))
                    .collect();
                jobs.into_iter()
                    .try_for_each(|job| job.join().expect("an install thread panicked"))
            })?;
        }
        for hub in &lab.hubs {
            hub.write(cache)?;
        }
        trace.done("hub envs installed");

        // The seed hub borrows host 1's address and venv before host 1's own hub exists.
        let first = &lab.hubs[0];
        let scratch = HubFiles::new(&root.join("seed"), &first.env, first.address);
        let (db, seed) = seed::ensure(cache, &self.release, &root, &scratch)?;
        lab.seed = Some(seed);
        trace.done("seed database ready");

        for hub in &lab.hubs {
            teardown::record(&root, &hub.tracked())?;
            let pid = hub.start_standin(&self.release)?;
            seed::install(&db, hub, pid)?;
        }
        trace.done("user servers running, databases copied");
        if self.hubs == Hubs::Running {
            for hub in &lab.hubs {
                hub.start()?;
            }
            trace.done("hubs started");
            for hub in &lab.hubs {
                let version = hub.wait_healthy(Duration::from_secs(90))?;
                if version != self.release {
                    bail!(
                        "hub `{}` runs {version}, not {}",
                        hub.dir.display(),
                        self.release
                    );
                }
            }
            trace.done("hubs healthy");
        }
        Ok(())
    }
}

/// A subnet `127.A.B` from text such as "127.0.10" (for command lines).
pub fn parse_subnet(text: &str) -> Result<[u8; 3]> {
    let parts: Vec<u8> = text
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("`{text}` is not a subnet like `127.0.10`"))?;
    match parts[..] {
        [127, a, b] => Ok([127, a, b]),
        _ => bail!("`{text}` is not a loopback subnet like `127.0.10`"),
    }
}

/// Whether `dir` holds a lab (its state file).
pub fn is_lab_dir(dir: &Path) -> bool {
    dir.join(teardown::STATE_FILE).exists()
}
