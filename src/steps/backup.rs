//! Step `backup`: a consistent snapshot of the hub's state, streamed to the controller and
//! checked there before it is put in place.
//!
//! The host runs `backup.py` with the hub's own Python (SQLite online backup API, then the
//! snapshot streams at once while integrity_check runs beside it; each member's sha256 is computed
//! in the same pass as it is sent) and streams an uncompressed tar that ends with the manifest;
//! the controller hashes every member as it arrives, compresses it into
//! `BACKUP_DIR/HOST/TIMESTAMP.tar.gz` under a temporary name, and renames it only when every sum
//! matched the manifest AND the remote command exited 0 (the script exits non-zero, without a
//! manifest, when integrity_check fails).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::io::AsyncReadExt;

use super::script::hub_python;
use super::step_work::{Done, OnHost, StepWork};
use crate::archive::{self, Progress, Stored};
use crate::facts::DbBackend;
use crate::facts::HostFacts;
use crate::host_scripts::{BackupArgs, HubEnvironmentArgs, ScriptArgs};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{ExitStatus, RemoteCommand, RemoteStdout, Session};
use crate::step::Step;

/// The backup as the plan holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    /// The database snapshotted.
    pub db_path: String,
    /// Where the archive goes (`DIR/HOST/TIMESTAMP.tar.gz`).
    pub backup_dir: PathBuf,
}

impl StepWork for Backup {
    fn name(&self) -> &'static str {
        Step::Backup.name()
    }

    fn action(&self, host: &Host) -> String {
        format!(
            "snapshot of {}, config, secrets, package list -> {}/{}/TIMESTAMP.tar.gz, verified on both ends",
            self.db_path,
            self.backup_dir.display(),
            host.name
        )
    }

    fn way_back(&self) -> String {
        "nothing to undo: archives are never deleted; this one holds the database as it was"
            .to_owned()
    }

    fn run<'a>(&'a self, on: OnHost<'a>) -> BoxFuture<'a, Result<Done, StepFailure>> {
        let stored = backup(on.host, on.facts, on.session, on.events, &self.backup_dir);
        stored
            .map(|done| done.map(|stored| Done::Archive(Box::new(stored))))
            .boxed()
    }
}

/// The remote command that streams `host`'s backup, from its facts. Refuses a hub whose backup
/// hubfleet cannot take yet: it will not stop a hub it cannot back up.
pub fn backup_command(host: &Host, facts: &HostFacts) -> Result<RemoteCommand, StepFailure> {
    let refuse = |reason: String| StepFailure {
        step: "backup",
        reason,
        ended: Ended::Failed,
    };
    // A database that may not be the one the hub uses (hub_environment.py): backing it up would
    // vouch for the wrong file.
    if let Some(reason) = facts.blocked() {
        return Err(refuse(reason));
    }
    let backend = facts
        .backend()
        .map_err(|reason| refuse(format!("{reason}: this hub is left untouched")))?;
    let db_path = match backend {
        DbBackend::Sqlite => match &facts.db_path {
            Some(path) => Some(path.as_str()),
            None => {
                return Err(refuse(format!(
                    "the hub's database could not be located ({}): run `hubfleet facts` for details",
                    facts.problems.join("; ")
                )));
            }
        },
        // A server: dumped on the host with its own tools, which must be there and not older
        // than the server; a database the facts could not read is not dumped blind.
        DbBackend::Postgresql | DbBackend::Mysql => {
            let problem = match &facts.server {
                Some(server) if facts.db_revision.is_some() => server
                    .driver_problem(backend)
                    .or_else(|| server.tools_problem(backend)),
                _ => Some(format!(
                    "the hub's database could not be read ({}): run `hubfleet facts` for details",
                    facts.problems.join("; ")
                )),
            };
            if let Some(problem) = problem {
                return Err(refuse(format!("{problem}; this hub is left untouched")));
            }
            None
        }
    };
    let args = BackupArgs {
        host: &host.name,
        db_backend: facts.db_backend.as_deref().unwrap_or_default(),
        db_path,
        db_url: facts.db_url.as_deref(),
        db_size: facts.db_size,
        hub: HubEnvironmentArgs::of(host),
        config: &host.hub.config,
        cookie_secret_file: facts.cookie_secret_file.as_deref(),
        extra: &host.hub.backup_extra,
        installer: host.hub.installer,
        conda: &host.hub.conda,
        uv: &host.hub.uv,
    };
    Ok(args
        .command(hub_python(host))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .become_(host.hub.become_.clone()))
}

/// Takes and stores the backup; the archive is in place and verified when this returns Ok.
pub async fn backup(
    host: &Host,
    facts: &HostFacts,
    session: &Session,
    events: &HostEvents,
    backup_dir: &Path,
) -> Result<Stored, StepFailure> {
    let command = backup_command(host, facts)?;
    let failed = |reason: String| StepFailure {
        step: "backup",
        reason,
        ended: Ended::Failed,
    };
    check_controller_space(backup_dir, facts.db_size.unwrap_or(0)).map_err(failed)?;
    events.step("backup", "snapshot of the database");
    events.command(
        "backup",
        format!(
            "{} -c <backup.py> (snapshot of {})",
            hub_python(host),
            facts
                .db_path
                .as_deref()
                .or(facts.db_url.as_deref())
                .unwrap_or("-")
        ),
    );
    let stdout = session
        .exec_reader(&command)
        .await
        .map_err(|e| failed(crate::error::one_line(&e, &e.hints())))?;
    let (dir, name, stream_events) = (backup_dir.to_path_buf(), host.name.clone(), events.clone());
    let db_size = facts.db_size;
    let interrupt = events.interrupt().clone();
    let runtime = tokio::runtime::Handle::current();
    let started = Instant::now();
    let stored = tokio::task::spawn_blocking(move || {
        let progress = StreamProgress::new(&stream_events, db_size);
        let reader = RemoteReader {
            runtime,
            stdout: Some(stdout),
            interrupt,
        };
        let stored = archive::store(&dir, &name, reader, &progress);
        progress.done(started.elapsed());
        stored
    })
    .await
    .map_err(|e| failed(format!("the backup task stopped: {e}")))?
    .map_err(|e| failed(crate::error::one_line(&e, &e.hints())))?;
    events.step(
        "backup",
        format!(
            "verified {} ({})",
            stored.path.display(),
            crate::human_bytes::human_bytes(stored.received.archive_bytes)
        ),
    );
    Ok(stored)
}

/// Refuses to start a backup that cannot fit in the controller's backup directory: the archive
/// is compressed, but a database that barely compresses needs its own size (plus a margin).
fn check_controller_space(backup_dir: &Path, db_size: u64) -> Result<(), String> {
    std::fs::create_dir_all(backup_dir).map_err(|e| {
        format!(
            "cannot create the backup directory `{}`: {e}",
            backup_dir.display()
        )
    })?;
    let free = crate::backup_dir::free_space(backup_dir).map_err(|e| {
        format!(
            "cannot measure free space in `{}`: {e}",
            backup_dir.display()
        )
    })?;
    let need = db_size + db_size / 10 + (16 << 20);
    if free < need {
        return Err(format!(
            "the backup directory `{}` has {} free, the database is {}: free some space or use --backup-dir (the hub was not touched)",
            backup_dir.display(),
            crate::human_bytes::human_bytes(free),
            crate::human_bytes::human_bytes(db_size)
        ));
    }
    Ok(())
}

/// The remote stdout as a blocking reader for the archive code. At EOF it collects the remote
/// exit status and turns a failure into a read error, so the archive is never committed for a
/// backup command that failed (the receiver drains to EOF before it commits).
struct RemoteReader {
    runtime: tokio::runtime::Handle,
    stdout: Option<RemoteStdout>,
    /// Ctrl-C abandons the stream: the read fails, so the archive's temporary file is removed
    /// and no `.partial` is left.
    interrupt: crate::runner::Interrupt,
}

impl Read for RemoteReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(stdout) = self.stdout.as_mut() else {
            return Ok(0);
        };
        let n = self.runtime.block_on(async {
            tokio::select! {
                read = stdout.read(buf) => read,
                () = self.interrupt.wait() => Err(std::io::Error::other(format!(
                    "abandoned on {}: no archive kept",
                    self.interrupt.signal().unwrap_or("a signal")
                ))),
            }
        })?;
        if n > 0 {
            return Ok(n);
        }
        let Some(stdout) = self.stdout.take() else {
            return Ok(0);
        };
        let (status, stderr) = self
            .runtime
            .block_on(stdout.finish())
            .map_err(std::io::Error::other)?;
        if status == ExitStatus::Code(0) {
            return Ok(0);
        }
        let stderr = String::from_utf8_lossy(&stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        Err(std::io::Error::other(format!(
            "the backup command on the host failed ({status:?}): {last}"
        )))
    }
}

/// Bytes received, shown at most every two seconds (a bar redraws anyway; a log wants few lines).
struct StreamProgress<'a> {
    events: &'a HostEvents,
    /// The database's size (the stream carries a little more: config, secrets, the tar).
    total: Option<u64>,
    bytes: AtomicU64,
    /// When the first byte arrived (the snapshot on the host comes before it) and when the
    /// last line was shown.
    times: Mutex<Option<(Instant, Instant)>>,
}

impl<'a> StreamProgress<'a> {
    fn new(events: &'a HostEvents, total: Option<u64>) -> Self {
        Self {
            events,
            total,
            bytes: AtomicU64::new(0),
            times: Mutex::new(None),
        }
    }

    fn done(&self, elapsed: Duration) {
        let bytes = self.bytes.load(Ordering::Relaxed);
        self.events.step(
            "backup",
            format!(
                "received {} in {:.1}s",
                crate::human_bytes::human_bytes(bytes),
                elapsed.as_secs_f64()
            ),
        );
    }
}

impl Progress for StreamProgress<'_> {
    fn bytes(&self, n: u64) {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed) + n;
        let Ok(mut times) = self.times.try_lock() else {
            return;
        };
        let (first, last) = times.get_or_insert_with(|| (Instant::now(), Instant::now()));
        // A bar redraws anyway; plain lines and logs want few: one every two seconds.
        if last.elapsed() >= Duration::from_secs(2) {
            *last = Instant::now();
            let transfer = crate::runner::Transfer {
                bytes: total,
                total: self.total,
                elapsed: first.elapsed(),
            };
            self.events.progress("backup", transfer);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_backup_that_cannot_fit_on_the_controller_is_refused_before_it_starts() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(super::check_controller_space(dir.path(), 1 << 20), Ok(()));
        let refused = super::check_controller_space(dir.path(), 1 << 60).unwrap_err();
        assert!(
            refused.contains("the database is 1048576.0 TiB"),
            "{refused}"
        );
        assert!(refused.ends_with("(the hub was not touched)"), "{refused}");
    }
}
