//! Stopping what a lab started, by pid, never by name.
//!
//! Every process a lab starts writes a pid file (sshd's `PidFile`, the hub's `hub.pid`, the
//! proxy's `jupyterhub-proxy.pid`, a user server's `standin-USER.pid`). The lab records each pid
//! file in `LAB/lab-state` *before* starting the process, with needles that the process's command
//! line must contain. Teardown reads the pid files at the end, so a hub that hubfleet restarted
//! under a new pid is still found, and a recycled pid (whose command line lacks the needles) is
//! never signalled.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// File in the lab directory listing `PIDFILE\tNEEDLE\t…` lines.
pub const STATE_FILE: &str = "lab-state";

/// A pid file and the needles its process's `/proc/PID/cmdline` must contain.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Where the process writes its pid.
    pub pid_file: PathBuf,
    /// Substrings of the command line that prove the pid is still ours.
    pub needles: Vec<String>,
}

impl Tracked {
    /// A pid file whose process's command line contains every one of `needles`.
    pub fn new(pid_file: impl Into<PathBuf>, needles: &[&str]) -> Tracked {
        let needles = needles.iter().map(|n| (*n).to_owned()).collect();
        Tracked {
            pid_file: pid_file.into(),
            needles,
        }
    }

    /// The pid in the pid file.
    fn recorded_pid(&self) -> Option<u32> {
        fs::read_to_string(&self.pid_file).ok()?.trim().parse().ok()
    }

    /// Whether the pid file's process is still there, whatever its command line says: a process
    /// in the middle of `execve` (a hub's Python loading, slow on a loaded machine) shows an
    /// empty one for a moment. For a process just started, whose pid cannot have been reused.
    pub fn started_pid_alive(&self) -> bool {
        self.recorded_pid().is_some_and(alive)
    }

    /// The live process this entry names, if any.
    pub fn live_pid(&self) -> Option<u32> {
        let pid = self.recorded_pid()?;
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let ours = self.needles.iter().all(|n| cmdline.contains(n.as_str()));
        (ours && alive(pid)).then_some(pid)
    }
}

/// Appends `entries` to the lab's state file (before their processes start).
pub fn record(lab_dir: &Path, entries: &[Tracked]) -> Result<()> {
    let path = lab_dir.join(STATE_FILE);
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    for entry in entries {
        let mut line = entry.pid_file.display().to_string();
        for needle in &entry.needles {
            line.push('\t');
            line.push_str(needle);
        }
        writeln!(file, "{line}").with_context(|| format!("writing `{}`", path.display()))?;
    }
    Ok(())
}

/// Stops every live process recorded in `lab_dir`'s state file. Idempotent: a lab already down,
/// or a directory without a state file, is fine.
pub fn stop_recorded(lab_dir: &Path) -> Result<()> {
    let path = lab_dir.join(STATE_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", path.display())),
    };
    let pids: Vec<u32> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let pid_file = fields.next()?;
            let needles: Vec<&str> = fields.collect();
            Tracked::new(pid_file, &needles).live_pid()
        })
        .collect();
    stop_pids(&pids);
    Ok(())
}

/// SIGTERM to all of `pids` at once, up to 10 s for them to exit (a hub takes 1.5–3 s), then
/// SIGKILL for the rest.
pub fn stop_pids(pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    signal("-TERM", pids);
    if wait_gone(pids, Duration::from_secs(10)) {
        return;
    }
    signal("-KILL", pids);
    wait_gone(pids, Duration::from_secs(2));
}

/// Waits until none of `pids` is alive; false on timeout.
pub fn wait_gone(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while pids.iter().any(|&pid| alive(pid)) {
        if Instant::now() > deadline {
            return false;
        }
        sleep(Duration::from_millis(50));
    }
    true
}

/// Whether `pid` exists and is not a zombie (a zombie has exited; only its parent's `wait` is due).
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

pub fn signal(signal: &str, pids: &[u32]) {
    let live: Vec<String> = pids
        .iter()
        .filter(|&&p| alive(p))
        .map(u32::to_string)
        .collect();
    if !live.is_empty() {
        // `kill` fails for a pid that exited meanwhile; the others are still signalled.
        let _ = Command::new("kill").arg(signal).args(&live).status();
    }
}
