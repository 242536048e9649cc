//! Where `scripts/setup` put the lab's tools, and the errors that say to run it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// JupyterHub releases whose wheels `scripts/setup` downloads (keep in sync with it).
pub const JUPYTERHUB_RELEASES: &[&str] = &["4.1.6", "6.1.1"];

/// Database drivers whose wheels `scripts/setup` downloads (keep in sync with its DRIVERS).
pub const DRIVERS: &[&str] = &["psycopg2-binary", "psycopg[binary]", "PyMySQL"];

/// The lab's tool cache: `${HUBFLEET_LAB_CACHE:-$HOME/.cache/hubfleet-lab}`.
#[derive(Debug, Clone)]
pub struct Cache {
    /// The cache directory.
    pub root: PathBuf,
    /// OpenSSH's server binary.
    pub sshd: PathBuf,
    /// uv, linked by `scripts/setup` wherever pip installed it.
    pub uv: PathBuf,
    /// The interpreter the wheelhouse was downloaded for (symlinks resolved).
    pub python: PathBuf,
    /// Wheels of every release in [`JUPYTERHUB_RELEASES`] and their dependencies.
    pub wheels: PathBuf,
    /// configurable-http-proxy, installed with npm.
    pub chp: PathBuf,
}

const RUN_SETUP: &str = "run `scripts/setup` first (it installs only what is missing)";

impl Cache {
    /// Finds the tools for a lab; with `hubs`, also what a hub needs for `release`.
    pub fn locate(hubs: Option<&str>) -> Result<Cache> {
        let root = match std::env::var_os("HUBFLEET_LAB_CACHE") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(std::env::var_os("HOME").context("`HOME` is not set")?)
                .join(".cache/hubfleet-lab"),
        };
        let sshd = ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let Some(sshd) = sshd else {
            bail!("OpenSSH's `sshd` is not installed: {RUN_SETUP}");
        };
        if !Path::new("/run/sshd").is_dir() {
            bail!("`/run/sshd` is missing (sshd needs it): {RUN_SETUP}");
        }
        let cache = Cache {
            uv: root.join("bin/uv"),
            python: root.join("bin/python3"),
            wheels: root.join("wheels"),
            chp: root.join("chp/node_modules/.bin/configurable-http-proxy"),
            sshd,
            root,
        };
        if let Some(release) = hubs {
            if !JUPYTERHUB_RELEASES.contains(&release) {
                bail!(
                    "the lab has no wheels for jupyterhub `{release}`: add it to `scripts/setup` \
                     and JUPYTERHUB_RELEASES in `tests/lab/cache.rs`, then run `scripts/setup`"
                );
            }
            for (what, path) in [
                ("uv", &cache.uv),
                ("python3", &cache.python),
                ("configurable-http-proxy", &cache.chp),
            ] {
                if !path.exists() {
                    bail!("`{what}` not found at `{}`: {RUN_SETUP}", path.display());
                }
            }
            let marker = cache.wheels.join(format!(".complete-jupyterhub-{release}"));
            if !marker.exists() {
                bail!(
                    "the wheelhouse `{}` lacks jupyterhub `{release}`: {RUN_SETUP}",
                    cache.wheels.display()
                );
            }
        }
        Ok(cache)
    }

    /// Refuses a wheelhouse without the database drivers in [`DRIVERS`].
    pub fn has_drivers(&self) -> Result<()> {
        if !self.wheels.join(".complete-drivers").exists() {
            bail!(
                "the wheelhouse `{}` lacks the database drivers: {RUN_SETUP}",
                self.wheels.display()
            );
        }
        Ok(())
    }

    /// The interpreter with symlinks resolved, so a venv's `pyvenv.cfg` names the real one.
    pub fn real_python(&self) -> Result<PathBuf> {
        std::fs::canonicalize(&self.python)
            .with_context(|| format!("`{}` is broken: {RUN_SETUP}", self.python.display()))
    }
}
