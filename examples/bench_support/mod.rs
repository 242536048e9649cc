//! What the benchmark examples share: the lab cache, running a command while timing it (wall
//! clock, peak RSS through GNU time, and when each of its stderr lines arrived), polling a hub,
//! and printing figures. Included with `#[path = "bench_support/mod.rs"] mod support;`.

// Each benchmark uses a different subset.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

mod big_db;
mod watcher;

// Each benchmark uses a different subset (as `dead_code` above).
#[allow(unused_imports)]
pub use big_db::big_db;
#[allow(unused_imports)]
pub use watcher::Watcher;

/// Runs `hubfleet upgrade --to TO --allow-active-servers` on the lab (only `limit` if given),
/// with its backups and `--report` in a fresh temporary directory; the timed run, checked, and
/// the report's JSON.
pub fn run_upgrade(
    lab: &crate::lab::Lab,
    hubfleet: &std::path::Path,
    to: &str,
    limit: Option<&str>,
) -> Result<(Run, serde_json::Value)> {
    let (run, json) = try_upgrade(lab, hubfleet, to, limit, &[])?;
    run.check("hubfleet upgrade")?;
    Ok((run, json))
}

/// [`run_upgrade`] with `extra` arguments, whatever its exit code (an upgrade a benchmark makes
/// fail), as long as it wrote its report.
pub fn try_upgrade(
    lab: &crate::lab::Lab,
    hubfleet: &std::path::Path,
    to: &str,
    limit: Option<&str>,
    extra: &[&str],
) -> Result<(Run, serde_json::Value)> {
    let dir = tempfile::Builder::new()
        .prefix("bench-upgrade-")
        .tempdir_in("/tmp")?;
    let report = dir.path().join("report.json");
    let mut command = lab.hubfleet_at(hubfleet);
    command.arg("upgrade").arg("-i").arg(lab.inventory());
    if let Some(limit) = limit {
        command.args(["--limit", limit]);
    }
    command
        .args(["--to", to, "--allow-active-servers"])
        .arg("--backup-dir")
        .arg(dir.path().join("backups"))
        .arg("--report")
        .arg(&report)
        .arg("--no-progress")
        .args(extra);
    let run = run_timed(&command)?;
    let Ok(bytes) = std::fs::read(&report) else {
        run.check("hubfleet upgrade")?;
        bail!("hubfleet upgrade wrote no report:\n{}", run.stderr_text());
    };
    Ok((run, serde_json::from_slice(&bytes)?))
}

/// Compiles every host's hub env to `.pyc` files, as pip does when it installs: the lab installs
/// with uv, which does not, and a hub that ran has compiled only what it imported. A real hub env
/// has them all, and without them every Python that imports JupyterHub, SQLAlchemy or alembic
/// (facts, a rehearsal, `upgrade-db`, Ansible's tasks alike) compiles them again, since neither
/// hubfleet's scripts nor a read-only env write them back. As pip, a module that does not
/// compile is left alone (compileall then exits 1, which is not checked).
pub fn compile_like_pip(lab: &crate::lab::Lab) -> Result<()> {
    for host in lab.hosts() {
        Command::new(host.hub_env.join("bin/python"))
            .args(["-m", "compileall", "-q", "-j", "0"])
            .arg(host.hub_env.join("lib"))
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("compiling {}", host.hub_env.display()))?;
    }
    Ok(())
}

/// Where the hubs' pip finds packages in a benchmark run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PackageSource {
    /// PyPI, as the issue's reference does (`pip install -U` from the index), each host with an
    /// empty pip cache of its own: a host that has never downloaded the target.
    Index,
    /// The lab's wheelhouse (offline, and faster than any index).
    Wheelhouse,
}

impl PackageSource {
    /// Points the pip of every host's hub env at this source (`ENV/pip.conf`, which the lab
    /// writes for the wheelhouse).
    pub fn apply(self, lab: &crate::lab::Lab) -> Result<()> {
        if self == Self::Wheelhouse {
            return Ok(());
        }
        for host in lab.hosts() {
            let cache = lab.dir().join("pip-cache").join(&host.name);
            std::fs::write(
                host.hub_env.join("pip.conf"),
                format!(
                    "[global]\nindex-url = https://pypi.org/simple\ncache-dir = {}\n",
                    cache.display()
                ),
            )?;
        }
        Ok(())
    }

    /// How the figures' labels name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Index => "pip from PyPI, cold cache",
            Self::Wheelhouse => "pip from the lab's wheelhouse",
        }
    }
}

/// `${HUBFLEET_LAB_CACHE:-$HOME/.cache/hubfleet-lab}`, where `scripts/setup` keeps the lab's tools.
pub fn cache_dir() -> Result<PathBuf> {
    match std::env::var_os("HUBFLEET_LAB_CACHE") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(
            PathBuf::from(std::env::var_os("HOME").context("`HOME` is not set")?)
                .join(".cache/hubfleet-lab"),
        ),
    }
}

/// A finished command: how long it took, how much memory it peaked at, and its output.
#[derive(Debug)]
pub struct Run {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Peak resident set size of the command (GNU time's `%M`), in KiB.
    pub peak_rss_kib: Option<u64>,
    /// Exit status.
    pub status: ExitStatus,
    /// Everything on stdout.
    pub stdout: String,
    /// Each stderr line with when it arrived, counted from spawn.
    pub stderr: Vec<(Duration, String)>,
}

impl Run {
    /// The stderr lines, for error messages.
    pub fn stderr_text(&self) -> String {
        let lines: Vec<&str> = self.stderr.iter().map(|(_, l)| l.as_str()).collect();
        lines.join("\n")
    }

    /// When the first stderr line containing `needle` arrived, with the line.
    pub fn first_line(&self, needle: &str) -> Option<(Duration, &str)> {
        self.stderr
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, l)| (*t, l.as_str()))
    }

    /// The stderr lines from `since` on, each as `+SECONDS  LINE` counted from `since` and cut to
    /// `width` characters: where a run's time went.
    pub fn timeline(&self, since: Duration, width: usize) -> Vec<String> {
        self.stderr
            .iter()
            .filter_map(|(t, line)| {
                let after = t.checked_sub(since)?;
                let line: String = line.chars().take(width).collect();
                Some(format!("  +{:>5.2} s  {line}", secs(after)))
            })
            .collect()
    }

    /// Fails with the command's stderr unless it exited 0.
    pub fn check(&self, what: &str) -> Result<()> {
        if !self.status.success() {
            bail!("{what} failed ({}):\n{}", self.status, self.stderr_text());
        }
        Ok(())
    }
}

/// Runs `command` under `/usr/bin/time` (for the peak RSS), stdin closed, timing every stderr
/// line as it arrives (hubfleet writes one plain timestamped line per step when piped; its
/// own timestamps have one-second resolution, these have the reader thread's).
pub fn run_timed(command: &Command) -> Result<Run> {
    let rss_file = tempfile::NamedTempFile::new()?;
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-o")
        .arg(rss_file.path())
        .args(["-f", GNU_TIME_FORMAT])
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    let started = Instant::now();
    let mut child = timed
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {command:?} under /usr/bin/time"))?;
    let stderr = child.stderr.take().expect("piped");
    let lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .map(|line| (started.elapsed(), line))
            .collect::<Vec<_>>()
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)?;
    let status = child.wait()?;
    let wall = started.elapsed();
    let stderr = lines.join().expect("the stderr reader panicked");
    let peak_rss_kib = Usage::read(rss_file.path()).ok().map(|u| u.peak_rss_kib);
    Ok(Run {
        wall,
        peak_rss_kib,
        status,
        stdout,
        stderr,
    })
}

/// The format [`Usage::read`] parses, for `/usr/bin/time -f`: peak RSS in KiB, then user and
/// system CPU seconds.
pub const GNU_TIME_FORMAT: &str = "%M %U %S";

/// What GNU time measured of a command.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Peak resident set size (the child's `ru_maxrss`), in KiB.
    pub peak_rss_kib: u64,
    /// CPU time, user + system, in seconds.
    pub cpu_seconds: f64,
}

impl Usage {
    /// Reads the file GNU time wrote with `-o FILE -f` [`GNU_TIME_FORMAT`]: its last line is
    /// GNU time's own (a killed command's status line comes before it).
    pub fn read(path: &std::path::Path) -> Result<Usage> {
        let text = std::fs::read_to_string(path)?;
        let fields: Vec<&str> = text
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let (Some(kib), Some(user), Some(system)) = (
            fields.first().and_then(|f| f.parse::<u64>().ok()),
            fields.get(1).and_then(|f| f.parse::<f64>().ok()),
            fields.get(2).and_then(|f| f.parse::<f64>().ok()),
        ) else {
            bail!("GNU time wrote no usage: {text:?}");
        };
        Ok(Usage {
            peak_rss_kib: kib,
            cpu_seconds: user + system,
        })
    }
}

/// Runs `command` with its output discarded; its wall time. Fails if it fails.
pub fn time_quiet(command: &mut Command, what: &str) -> Result<Duration> {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting {what}"))?;
    let wall = started.elapsed();
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(wall)
}

/// The `version` that `GET /hub/api` reports at `addr`, if it answers.
pub fn hub_version(addr: SocketAddr) -> Option<String> {
    use std::io::Write;
    let timeout = Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    write!(
        stream,
        "GET /hub/api HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if head.split_whitespace().nth(1) != Some("200") {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// Polls `/hub/api` at `addr` every 100 ms until it reports `version`; when it first did.
pub fn wait_version(addr: SocketAddr, version: &str, timeout: Duration) -> Result<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        if hub_version(addr).as_deref() == Some(version) {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("the hub at {addr} did not report {version} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `text` (a path, a script) as one word for a POSIX shell.
pub fn quote(text: impl std::fmt::Display) -> String {
    format!("'{}'", text.to_string().replace('\'', r"'\''"))
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// Seconds of a duration.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Whether a ratio meets its target, for the tables: `ok` or `MISS`.
pub fn verdict(met: bool) -> &'static str {
    if met { "ok" } else { "MISS" }
}

/// The machine's load, printed with every result: these figures move with it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// CPU time the whole machine has spent busy (every process: the tool, sshd, the hubs' pip and
/// Python), in core-seconds, from `/proc/stat`; the difference across a run says whether the run
/// was bound by the cores or by waiting (the index, the disk).
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    // USER_HZ is 100 on every Linux the lab runs on.
    (ticks.iter().take(8).sum::<f64>() - idle) / 100.0
}

/// The machine's cores, for the busy figures above.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Seconds since the epoch: the hosts share this machine's clock, so remote `date` marks and
/// local polls compare directly.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Where a lab hub serves `/hub/api`.
pub fn public_addr(host: &crate::lab::LabHost) -> SocketAddr {
    SocketAddr::from((host.address, 8000))
}

/// The naive upgrade's figures.
pub struct Naive {
    /// stop → healthy, seconds.
    pub downtime: f64,
    /// stop, pip, upgrade-db, start.sh, start → healthy.
    pub steps: [f64; 5],
}

/// JupyterHub's documented order done naively on lab host `i`, over one `ssh`: stop, `pip install
/// -U jupyterhub==TO` (from wherever the env's pip is pointed), upgrade-db, start, each step marked
/// with the host's clock; then polls `/hub/api` until it reports `to`.
pub fn naive_upgrade(lab: &crate::lab::Lab, i: usize, to: &str) -> Result<Naive> {
    let host = &lab.hosts()[i];
    let (dir, env) = (&host.hub_dir, &host.hub_env);
    let config = dir.join("jupyterhub_config.py");
    let script = format!(
        "set -e; m() {{ echo \"@$1 $(date +%s.%N)\"; }}; \
         m stop; bash {stop}; \
         m pip; {env}/bin/pip install -q -U jupyterhub=={to}; \
         m upgrade-db; cd {dir} && PATH={env}/bin:$PATH jupyterhub upgrade-db -f {config}; \
         m start; bash {start}; m started",
        stop = quote(dir.join("stop.sh").display()),
        start = quote(dir.join("start.sh").display()),
        env = quote(env.display()),
        dir = quote(dir.display()),
        config = quote(config.display()),
    );
    let output = lab.ssh(i).arg(script).output()?;
    if !output.status.success() {
        bail!(
            "the naive upgrade failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let healthy = wait_version(public_addr(host), to, Duration::from_secs(180))?;
    let healthy = now() - healthy.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mark = |name: &str| -> Result<f64> {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("@{name} ")))
            .and_then(|t| t.trim().parse().ok())
            .with_context(|| format!("no mark `{name}` in: {stdout}"))
    };
    let (stop, pip, db, start, started) = (
        mark("stop")?,
        mark("pip")?,
        mark("upgrade-db")?,
        mark("start")?,
        mark("started")?,
    );
    Ok(Naive {
        downtime: healthy - stop,
        steps: [
            pip - stop,
            db - pip,
            start - db,
            started - start,
            healthy - started,
        ],
    })
}
