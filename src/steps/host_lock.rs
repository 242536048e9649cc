//! Step `lock`: the run's lock on a host, from the facts to the end of the cutover. A second run
//! against the host, from this controller or another, is refused, naming the holder.
//!
//! A flock on a file beside the hub env, held by a small process (`lock.py`) that lives as long
//! as this run's SSH channel: whatever ends the controller (a clean end, SIGKILL, a dropped
//! connection, or silence past [`SILENCE`]) ends the process and so the flock; a dead controller
//! cannot leave a lock that blocks. The holder's identity is written in the file, so a refusal
//! names it, and a lock left by a holder that vanished is taken over with a line saying whose it
//! was. The detached cutover outlives the channel: `launch.py` writes its pid into the lock, and
//! the lock counts as held while that process runs (`host_lock.py`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::host_scripts::{LockArgs, ScriptArgs};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{Attached, ExitStatus, Session};

/// How long `lock.py` waits for a heartbeat before it takes the controller for gone: many
/// heartbeats ([`crate::ssh::Attached`] sends one every 5 s), so a busy controller never loses
/// its lock, while a vanished one holds the host at most this long.
pub const SILENCE: Duration = Duration::from_secs(60);

/// Who holds a host lock: written into the lock file, named by a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// A random token of this run; the staged env carries it too.
    pub run: String,
    /// The controller's host name.
    pub controller: String,
    /// The controller's user.
    pub user: String,
    /// The controller's pid.
    pub pid: u32,
    /// When the run started (UTC, RFC 3339).
    pub started: String,
    /// The subcommand (`upgrade`).
    pub command: String,
}

impl LockHolder {
    /// This process, running `command`.
    pub fn this_run(command: &str) -> Self {
        Self {
            run: run_token(),
            controller: controller_name(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .ok()
                .or_else(login_name)
                .unwrap_or_else(|| "?".to_owned()),
            pid: std::process::id(),
            started: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
            command: command.to_owned(),
        }
    }
}

/// 128 random bits from the kernel, in hex; the pid and the clock where it has none.
fn run_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if random.is_err() {
        let now = jiff::Timestamp::now().as_nanosecond();
        bytes = (now ^ (i128::from(std::process::id()) << 64)).to_le_bytes();
    }
    hex::encode(bytes)
}

/// This process's user name from its uid, where the environment names none (cron, a service).
fn login_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let fields: Vec<&str> = l.split(':').collect();
        (fields.get(2) == Some(&uid.as_str())).then(|| fields[0].to_owned())
    })
}

/// The controller's host name, as the kernel knows it.
fn controller_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|n| n.trim().to_owned())
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "?".to_owned())
}

/// A host lock this run holds; [`HostLock::release`] ends it.
#[derive(Debug)]
pub struct HostLock {
    /// The lock file on the host.
    pub path: String,
    holder: Attached,
}

/// What `lock.py` says once it holds the lock.
#[derive(Deserialize)]
struct Locked {
    locked: String,
    /// What a holder that vanished left in the lock, said in words.
    said: Option<String>,
}

/// Why a run does not hold a host's lock.
#[derive(Debug)]
pub enum NotLocked {
    /// Another run holds it (the failure names the holder), or the host could not be asked.
    Refused(StepFailure),
    /// This login cannot create or open the lock file (no write access beside the env): a
    /// problem of the inventory, which the facts may explain better.
    Unusable(StepFailure),
}

/// Takes the host lock of `host` for this run (`holder`). Refused, naming the holder, while
/// another run holds it; a stale lock is taken over with a line saying whose it was.
pub async fn lock(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    holder: &LockHolder,
) -> Result<HostLock, NotLocked> {
    events.step("lock", "this run's lock on the host");
    let args = LockArgs {
        env: &host.hub.env,
        holder,
        silence: SILENCE.as_secs(),
    };
    let command = args
        .command(super::hub_python(host))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .become_(host.hub.become_.clone());
    events.command("lock", format!("{} -c <lock.py>", super::hub_python(host)));
    let failure = |reason: String| StepFailure {
        step: "lock",
        reason,
        ended: Ended::Failed,
    };
    let mut attached = session
        .attach(&command)
        .await
        .map_err(|e| NotLocked::Refused(failure(crate::error::one_line(&e, &e.hints()))))?;
    let first = attached.line().await;
    let locked = first
        .as_deref()
        .and_then(|l| serde_json::from_slice::<Locked>(l).ok());
    let Some(locked) = locked else {
        // Refused (exit 3, the holder in its last line), or the script could not run.
        let (status, stderr) = attached
            .finish(b"")
            .await
            .map_err(|e| NotLocked::Refused(failure(crate::error::one_line(&e, &e.hints()))))?;
        let said = String::from_utf8_lossy(&stderr);
        let last = said.lines().rev().find(|l| !l.trim().is_empty());
        return Err(match (status, last) {
            (ExitStatus::Code(3), Some(last)) => {
                NotLocked::Refused(failure(last.trim().to_owned()))
            }
            (ExitStatus::Code(5), Some(last)) => {
                NotLocked::Unusable(failure(last.trim().to_owned()))
            }
            (status, last) => NotLocked::Refused(failure(format!(
                "cannot take the host lock: {} ({})",
                last.unwrap_or("no output").trim(),
                super::describe(status)
            ))),
        });
    };
    if let Some(stale) = locked.said {
        events.step(
            "lock",
            format!(
                "took over a stale lock ({}): it was held by {stale}, which ended without releasing it",
                locked.locked
            ),
        );
    }
    Ok(HostLock {
        path: locked.locked,
        holder: attached,
    })
}

impl HostLock {
    /// Ends the lock: emptied on the host (unless the run's cutover holds it now, which empties
    /// it as it ends). Best effort: a lock that could not be emptied is taken over by the next
    /// run.
    pub async fn release(self) {
        // Bounded: a connection that went dead under the lock must not hold the run's end (the
        // lock then ends with the connection, or at the heartbeat's silence).
        let release = self.holder.finish(b"release\n");
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), release).await;
    }
}
