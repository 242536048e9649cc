//! One hub directory: a uv-built venv with JupyterHub, its config, `start.sh`/`stop.sh`, and a
//! user-server stand-in.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::cache::Cache;
use super::http;
use super::teardown::{self, Tracked};

/// The password of every user of the lab's `DummyAuthenticator`.
pub const PASSWORD: &str = "hubfleet-lab-password";

/// The token of the lab's admin service `hubfleet-lab` (at most 64 characters for JupyterHub 6).
pub const SERVICE_TOKEN: &str = "hubfleet-lab-service-token-0123456789abcdef0123456789abcdef";

/// The user whose server the lab keeps running on every host.
pub const SERVER_USER: &str = "alice";

/// Where one hub lives.
#[derive(Debug, Clone)]
pub struct HubFiles {
    /// The hub's working directory (its SQLite database, cookie secret and proxy pid file are
    /// relative to it, as on a real hub).
    pub dir: PathBuf,
    /// The Python environment holding `jupyterhub`.
    pub env: PathBuf,
    /// `jupyterhub_config.py`.
    pub config: PathBuf,
    /// `start.sh`: starts the hub in the background and returns.
    pub start_script: PathBuf,
    /// `stop.sh`: stops the hub and waits until it is gone.
    pub stop_script: PathBuf,
    /// The host's address; the hub, proxy and user server listen on it.
    pub address: Ipv4Addr,
}

impl HubFiles {
    /// The layout of a hub in `dir` using the environment `env`.
    pub fn new(dir: &Path, env: &Path, address: Ipv4Addr) -> HubFiles {
        HubFiles {
            dir: dir.to_owned(),
            env: env.to_owned(),
            config: dir.join("jupyterhub_config.py"),
            start_script: dir.join("start.sh"),
            stop_script: dir.join("stop.sh"),
            address,
        }
    }

    /// The hub's public address (through configurable-http-proxy).
    pub fn public_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, 8000))
    }

    /// The hub's pid file (written by `start.sh`).
    pub fn hub_process(&self) -> Tracked {
        Tracked::new(self.dir.join("hub.pid"), &[&self.dir.display().to_string()])
    }

    /// The proxy's pid file, which JupyterHub writes in its working directory.
    pub fn proxy_process(&self) -> Tracked {
        // The hub starts its proxy with `--api-ip ADDRESS`: only this host's proxy matches.
        let api_ip = format!("--api-ip {} ", self.address);
        Tracked::new(
            self.dir.join("jupyterhub-proxy.pid"),
            &["configurable-http-proxy", &api_ip],
        )
    }

    /// The stand-in user server's pid file (written by `standin.py` itself).
    pub fn standin_process(&self) -> Tracked {
        let script = self.dir.join("standin.py").display().to_string();
        Tracked::new(
            self.dir.join(format!("standin-{SERVER_USER}.pid")),
            &[&script],
        )
    }

    /// The pid files of the hub, its proxy and the stand-in user server, for teardown.
    pub fn tracked(&self) -> Vec<Tracked> {
        vec![
            self.hub_process(),
            self.proxy_process(),
            self.standin_process(),
        ]
    }

    /// Builds the venv: `uv venv --seed` (pip, for `installer = "pip"`) and JupyterHub, from
    /// the wheelhouse only. About 1 s with a warm uv cache.
    pub fn install(&self, cache: &Cache, release: &str) -> Result<()> {
        self.install_on(cache, release, &cache.real_python()?)
    }

    /// [`HubFiles::install`] on the interpreter `python` (one that other users can run, say:
    /// the cache's lives under root's home).
    pub fn install_on(&self, cache: &Cache, release: &str, python: &Path) -> Result<()> {
        let find_links = [
            "--no-index".into(),
            "--find-links".into(),
            cache.wheels.clone().into_os_string(),
        ];
        let mut venv = self.uv(cache);
        venv.args(["venv", "-q", "--seed", "--python"])
            .arg(python)
            .args(&find_links)
            .arg(&self.env);
        run(&mut venv)?;
        let mut install = self.uv(cache);
        install
            .args(["pip", "install", "-q", "--python"])
            .arg(self.env.join("bin/python"))
            .args(&find_links)
            .arg(format!("jupyterhub=={release}"));
        run(&mut install)?;
        // The env's own pip reads `PREFIX/pip.conf`: point it at the wheelhouse, the lab's
        // package index, so hubfleet's real `pip download`/`pip install` work offline here.
        std::fs::write(
            self.env.join("pip.conf"),
            format!(
                "[global]\nno-index = true\nfind-links = {}\n",
                cache.wheels.display()
            ),
        )?;
        Ok(())
    }

    /// Installs `packages` (a database driver, say) into the hub env, from the wheelhouse only.
    pub fn install_packages(&self, cache: &Cache, packages: &[&str]) -> Result<()> {
        let mut install = self.uv(cache);
        install
            .args(["pip", "install", "-q", "--python"])
            .arg(self.env.join("bin/python"))
            .args(["--no-index", "--find-links"])
            .arg(&cache.wheels)
            .args(packages);
        run(&mut install)
    }

    fn uv(&self, cache: &Cache) -> Command {
        let mut uv = Command::new(&cache.uv);
        uv.env("UV_CACHE_DIR", cache.root.join("uv"))
            .env("UV_NO_CONFIG", "1")
            .env_remove("VIRTUAL_ENV")
            .stdin(Stdio::null());
        uv
    }

    /// Writes the config, the start/stop scripts and the stand-in user server.
    pub fn write(&self, cache: &Cache) -> Result<()> {
        fs::create_dir_all(&self.dir)?;
        let py = |path: &Path| python_str(&path.display().to_string());
        let config = include_str!("assets/jupyterhub_config.py")
            .replace("@ADDRESS@", &self.address.to_string())
            .replace("@CHP@", &py(&cache.chp))
            .replace("@PASSWORD@", PASSWORD)
            .replace("@HUB_DIR@", &py(&self.dir))
            .replace("@SERVICE_TOKEN@", SERVICE_TOKEN);
        fs::write(&self.config, config)?;
        let sh = |template: &str| {
            template
                .replace("@HUB_DIR_Q@", &shell_quote(&self.dir))
                .replace("@HUB_ENV_Q@", &shell_quote(&self.env))
                .replace("@CONFIG_Q@", &shell_quote(&self.config))
        };
        fs::write(&self.start_script, sh(include_str!("assets/start.sh")))?;
        fs::write(&self.stop_script, sh(include_str!("assets/stop.sh")))?;
        fs::write(
            self.dir.join("standin.py"),
            include_str!("assets/standin.py"),
        )?;
        Ok(())
    }

    /// Runs `start.sh`: the hub starts in the background.
    pub fn start(&self) -> Result<()> {
        run(host_command("bash").arg(&self.start_script))
    }

    /// Runs `stop.sh`: the hub and its proxy are gone when it returns.
    pub fn stop(&self) -> Result<()> {
        run(host_command("bash").arg(&self.stop_script))
    }

    /// Polls `GET /hub/api` through the proxy until it answers; the hub's version.
    pub fn wait_healthy(&self, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let hub = self.hub_process();
        loop {
            match http::hub_version(self.public_addr()) {
                Ok(version) => return Ok(version),
                Err(e) if Instant::now() > deadline => {
                    bail!(
                        "hub `{}` not healthy after {timeout:?}: {e}; {}",
                        self.dir.display(),
                        self.log_tail()
                    )
                }
                // A hub that died while starting (a wrong schema version, a port in use) will
                // never answer: say why now.
                Err(_) if !hub.started_pid_alive() => {
                    bail!(
                        "hub `{}` exited while starting; {}",
                        self.dir.display(),
                        self.log_tail()
                    )
                }
                Err(_) => sleep(Duration::from_millis(250)),
            }
        }
    }

    /// Starts the stand-in user server of [`SERVER_USER`] at `ADDRESS:8888`, detached from us
    /// (`setsid -f`), and waits for its pid file; its pid.
    pub fn start_standin(&self, release: &str) -> Result<u32> {
        let tracked = self.standin_process();
        let _ = fs::remove_file(&tracked.pid_file);
        let log = fs::File::create(self.dir.join(format!("standin-{SERVER_USER}.log")))?;
        let status = host_command("setsid")
            .arg("-f")
            .arg(self.env.join("bin/python"))
            .arg(self.dir.join("standin.py"))
            .env(
                "JUPYTERHUB_SERVICE_URL",
                format!("http://{}:8888/user/{SERVER_USER}/", self.address),
            )
            .env("JUPYTERHUB_USER", SERVER_USER)
            .env("HUBFLEET_LAB_JUPYTERHUB", release)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()?;
        if !status.success() {
            bail!("starting the stand-in user server failed ({status})");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = tracked.live_pid() {
                return Ok(pid);
            }
            if Instant::now() > deadline {
                bail!(
                    "the stand-in user server in `{}` did not start",
                    self.dir.display()
                );
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// Stops the stand-in user server.
    pub fn stop_standin(&self) {
        if let Some(pid) = self.standin_process().live_pid() {
            teardown::stop_pids(&[pid]);
        }
    }

    /// The last lines of `hub.log`, for error messages.
    pub fn log_tail(&self) -> String {
        let path = self.dir.join("hub.log");
        let log = fs::read_to_string(&path).unwrap_or_default();
        let mut tail: Vec<&str> = log.lines().rev().take(8).collect();
        tail.reverse();
        format!("last lines of `{}`:\n{}", path.display(), tail.join("\n"))
    }
}

/// A command with the environment an SSH session as root gets from sshd, not the test's: hubs
/// started by the lab then behave as those hubfleet starts over SSH (this machine's
/// `PYTHONDONTWRITEBYTECODE` and `PIP_FIND_LINKS`, for one, stay out).
pub fn host_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env(
            "HOME",
            std::env::var_os("HOME").unwrap_or_else(|| "/root".into()),
        )
        .env("LANG", "C.UTF-8")
        .env("USER", "root")
        .env("SHELL", "/bin/bash");
    command
}

/// Runs `command`; its stderr in the error if it fails.
pub fn run(command: &mut Command) -> Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// `path` as one word for a POSIX shell: single-quoted, embedded quotes escaped.
pub fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The inside of a double-quoted Python string literal.
fn python_str(s: &str) -> String {
    s.replace('\\', r"\\").replace('"', "\\\"")
}
