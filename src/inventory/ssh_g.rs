//! `ssh -G NAME`: the OpenSSH client prints the configuration it would use for `NAME`, with
//! `Include`, `Match`, `%` tokens, first-value-wins and `/etc/ssh/ssh_config` all applied, so
//! hubfleet never reads `~/.ssh/config` differently from `ssh` (issue 14, item 1).
//!
//! `ssh -G` prints every option, defaults included (`user` is the local user, `port 22`, the
//! list of default identity files, ...). A value the operator did not choose must not override
//! hubfleet's own defaults, so we learn OpenSSH's built-in defaults once, from
//! `ssh -F /dev/null -G`, and take a value only where it differs from them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use super::InventoryError;
use super::ssh_config::SshSettings;

/// At most this many `ssh -G` run at once: each is a few milliseconds of CPU, and the
/// controller may be small.
const POOL: usize = 8;

/// The `ssh` client and the answers it gave in this run.
#[derive(Debug, Clone)]
pub struct OpenSsh {
    program: PathBuf,
    /// `-F FILE`, when `$HOME` is not the home `ssh` takes its config from.
    config: Option<PathBuf>,
    home: PathBuf,
    /// What `ssh -G` prints with no configuration at all.
    defaults: Printed,
    /// One answer per distinct name, for the whole run.
    cache: Arc<Mutex<HashMap<String, SshSettings>>>,
}

impl OpenSsh {
    /// The `ssh` on `PATH`, or `None` without one.
    pub fn detect(home: &Path) -> Result<Option<Self>, InventoryError> {
        let Some(program) = on_path("ssh") else {
            return Ok(None);
        };
        let mut ssh = Self {
            program,
            config: Some(PathBuf::from("/dev/null")),
            home: home.to_path_buf(),
            defaults: Printed::default(),
            cache: Arc::default(),
        };
        ssh.defaults = ssh.run("hubfleet-defaults.invalid")?;
        // `ssh` reads `~/.ssh/config` from the passwd entry's home, not `$HOME` (OpenSSH
        // `ssh.c`); the default known_hosts path shows which. Where they differ (a test, `sudo
        // -E`), we name the operator's file with `-F`, which also skips `/etc/ssh/ssh_config`.
        let ssh_home = ssh
            .defaults
            .first("userknownhostsfile")
            .and_then(|file| Path::new(file).parent()?.parent())
            .map(Path::to_path_buf);
        ssh.config = if ssh_home.as_deref() == Some(home) {
            None
        } else {
            let file = home.join(".ssh").join("config");
            Some(if file.exists() {
                file
            } else {
                PathBuf::from("/dev/null")
            })
        };
        Ok(Some(ssh))
    }

    /// Runs `ssh -G` for every name not yet asked, in a small pool of threads.
    pub fn prefetch(&self, names: &[&str]) -> Result<(), InventoryError> {
        let todo: Vec<&str> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let distinct: BTreeSet<&str> = names
                .iter()
                .copied()
                .filter(|n| !cache.contains_key(*n))
                .collect();
            distinct.into_iter().collect()
        };
        if todo.is_empty() {
            return Ok(());
        }
        let chunk = todo.len().div_ceil(POOL);
        let answers: Vec<(&str, Result<SshSettings, InventoryError>)> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = todo
                    .chunks(chunk)
                    .map(|names| {
                        scope.spawn(move || {
                            names
                                .iter()
                                .map(|name| (*name, self.ask(name)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|worker| match worker.join() {
                        Ok(answers) => answers,
                        Err(panic) => std::panic::resume_unwind(panic),
                    })
                    .collect()
            });
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for (name, answer) in answers {
            cache.insert(name.to_owned(), answer?);
        }
        Ok(())
    }

    /// The settings for `name`, from the cache or a new `ssh -G`.
    pub fn lookup(&self, name: &str) -> Result<SshSettings, InventoryError> {
        if let Some(settings) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(settings.clone());
        }
        let settings = self.ask(name)?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), settings.clone());
        Ok(settings)
    }

    fn ask(&self, name: &str) -> Result<SshSettings, InventoryError> {
        Ok(settings(name, &self.run(name)?, &self.defaults))
    }

    /// `ssh [-F FILE] -G -- NAME`, with the operator's `HOME`.
    fn run(&self, name: &str) -> Result<Printed, InventoryError> {
        let mut command = Command::new(&self.program);
        if let Some(config) = &self.config {
            command.arg("-F").arg(config);
        }
        let output = command
            .args(["-G", "--", name])
            .env("HOME", &self.home)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| InventoryError::SshGSpawn {
                program: self.program.clone(),
                source,
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(InventoryError::SshG {
                name: name.to_owned(),
                message: stderr
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        Ok(Printed::parse(&String::from_utf8_lossy(&output.stdout)))
    }
}

/// What `ssh -G` printed: lower-case keys, each with its values in order (`identityfile` and
/// a few others are printed once per value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Printed(HashMap<String, Vec<String>>);

impl Printed {
    fn parse(text: &str) -> Self {
        let mut printed: HashMap<String, Vec<String>> = HashMap::new();
        for line in text.lines() {
            if let Some((key, value)) = line.split_once(' ') {
                printed
                    .entry(key.to_ascii_lowercase())
                    .or_default()
                    .push(value.to_owned());
            }
        }
        Self(printed)
    }

    fn all(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    fn first(&self, key: &str) -> Option<&str> {
        self.all(key).first().map(String::as_str)
    }
}

/// The settings the operator chose for `name`: what differs from OpenSSH's defaults.
fn settings(name: &str, printed: &Printed, defaults: &Printed) -> SshSettings {
    let chosen = |key: &str| printed.all(key) != defaults.all(key);
    let first = |key: &str| printed.first(key).filter(|_| chosen(key));
    let files = |value: &str| value.split_ascii_whitespace().map(PathBuf::from).collect();
    let seconds = |key: &str| {
        printed
            .first(key)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|s| *s > 0)
    };
    SshSettings {
        // Without `HostName`, ssh prints the name itself (in lower case).
        hostname: printed
            .first("hostname")
            .filter(|h| !h.eq_ignore_ascii_case(name))
            .map(str::to_owned),
        user: first("user").map(str::to_owned),
        port: first("port").and_then(|p| p.parse().ok()),
        identity_files: chosen("identityfile").then(|| {
            printed
                .all("identityfile")
                .iter()
                .map(PathBuf::from)
                .collect()
        }),
        user_known_hosts: first("userknownhostsfile").map(files),
        // Always taken: hubfleet's default is OpenSSH's, and the system config may change it.
        global_known_hosts: printed.first("globalknownhostsfile").map(files),
        proxy_jump: printed
            .first("proxyjump")
            .filter(|j| !j.eq_ignore_ascii_case("none"))
            .map(str::to_owned),
        connect_timeout: seconds("connecttimeout"),
        server_alive_interval: seconds("serveraliveinterval"),
    }
}

/// The first executable `program` in `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = "user op\nhostname x\nport 22\nidentityfile ~/.ssh/id_rsa\nidentityfile ~/.ssh/id_ed25519\nuserknownhostsfile /home/op/.ssh/known_hosts /home/op/.ssh/known_hosts2\nglobalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2\nconnecttimeout none\nserveraliveinterval 0\n";

    #[test]
    fn only_what_differs_from_openssh_defaults_is_taken() {
        let defaults = Printed::parse(DEFAULTS);
        let same = settings(
            "Hub1",
            &Printed::parse(&DEFAULTS.replace(" x", " hub1")),
            &defaults,
        );
        assert_eq!(
            same,
            SshSettings {
                global_known_hosts: Some(vec![
                    "/etc/ssh/ssh_known_hosts".into(),
                    "/etc/ssh/ssh_known_hosts2".into()
                ]),
                ..SshSettings::default()
            }
        );
        let chosen = settings(
            "hub1",
            &Printed::parse(
                "user admin\nhostname 10.0.0.1\nport 2222\nidentityfile ~/.ssh/hub\nuserknownhostsfile /kh /kh2\nglobalknownhostsfile /etc/kh\nproxyjump gate\nconnecttimeout 7\nserveraliveinterval 30\n",
            ),
            &defaults,
        );
        assert_eq!(
            chosen,
            SshSettings {
                hostname: Some("10.0.0.1".into()),
                user: Some("admin".into()),
                port: Some(2222),
                identity_files: Some(vec!["~/.ssh/hub".into()]),
                user_known_hosts: Some(vec!["/kh".into(), "/kh2".into()]),
                global_known_hosts: Some(vec!["/etc/kh".into()]),
                proxy_jump: Some("gate".into()),
                connect_timeout: Some(7),
                server_alive_interval: Some(30),
            }
        );
    }
}
