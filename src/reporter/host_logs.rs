//! Per-host log files: every remote command's output of a run, beside the host's backups
//! (`DIR/HOST/COMMAND-TIMESTAMP.log`), so the screen shows steps and the log keeps everything.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::runner::{Event, Stream};

/// Writes events to one log file per host, created when the host first has something to log.
#[derive(Debug)]
pub struct HostLogs {
    dir: PathBuf,
    name: String,
    files: HashMap<String, Option<BufWriter<File>>>,
}

impl HostLogs {
    /// Logs named `COMMAND-TIMESTAMP.log` under `dir/HOST/`.
    pub fn new(dir: &Path, command: &str) -> Self {
        let stamp = crate::backup_dir::stamp(jiff::Timestamp::now());
        Self {
            dir: dir.to_path_buf(),
            name: format!("{command}-{stamp}"),
            files: HashMap::new(),
        }
    }

    /// The log file of `host` (unless another run took that name: see [`create_new`]).
    pub fn path(&self, host: &str) -> PathBuf {
        crate::backup_dir::host_dir(&self.dir, host).join(format!("{}.log", self.name))
    }

    /// Records one event. A log that cannot be written is dropped for that host: losing a log
    /// must not stop an upgrade half-way.
    pub fn handle(&mut self, event: &Event) {
        let (host, line) = match event {
            Event::Step { host, step, detail } => (host, format!("{} [{step}] {detail}", now())),
            Event::Output { host, stream, line } => {
                let mark = if *stream == Stream::Stderr { "!" } else { "|" };
                (host, format!("{mark} {line}"))
            }
            Event::HostFinished { host, outcome, .. } => {
                let reason = outcome
                    .reason()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                (host, format!("{} [end] {}{reason}", now(), outcome.label()))
            }
            Event::Command {
                host,
                step,
                command,
            } => (host, format!("{} [{step}] $ {command}", now())),
            Event::Progress {
                host,
                step,
                transfer,
            } => (host, format!("{} [{step}] {transfer}", now())),
            Event::Summary {
                host,
                step,
                summary,
            } => (host, format!("{} [{step}] {summary}", now())),
            Event::StepTimed { host, timing } => (
                host,
                format!(
                    "{} [{}] {} in {:.1}s (began {:.1}s after the host's start)",
                    now(),
                    timing.step,
                    if timing.ok { "done" } else { "failed" },
                    timing.took.as_secs_f64(),
                    timing.started.as_secs_f64()
                ),
            ),
            Event::RunStarted { .. } | Event::RunStopping { .. } | Event::HostStarted { .. } => {
                return;
            }
        };
        let dir = crate::backup_dir::host_dir(&self.dir, host);
        let file = self
            .files
            .entry(host.clone())
            .or_insert_with(|| create_new(&dir, &self.name).map(BufWriter::new));
        if let Some(writer) = file
            && writeln!(writer, "{line}").is_err()
        {
            *file = None;
        }
    }

    /// Flushes every log to disk: the log of a run is what an operator reads after it.
    pub fn finish(&mut self) {
        for writer in self.files.values_mut().flatten() {
            if writer.flush().is_ok() {
                let _ = writer.get_ref().sync_all();
            }
        }
    }
}

/// Creates `path`, or `STEM-N.log` beside it when another run (say, a backup and an upgrade
/// started in the same second) has that name: a log never overwrites another. A log is written
/// as the run goes, not renamed into place at its end, so a run that crashes leaves the log of
/// what it did.
fn create_new(dir: &Path, stem: &str) -> Option<File> {
    std::fs::create_dir_all(dir).ok()?;
    for name in crate::backup_dir::candidates(dir, stem, "log", 99) {
        match File::options().write(true).create_new(true).open(&name) {
            Ok(file) => return Some(file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => return None,
        }
    }
    None
}

fn now() -> String {
    jiff::ZonedDateTime::now().strftime("%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_in_the_same_second_keep_both_logs() {
        let dir = tempfile::tempdir().unwrap();
        let line = |host: &str, detail: &str| Event::Step {
            host: host.to_owned(),
            step: "facts",
            detail: detail.to_owned(),
        };
        let mut first = HostLogs::new(dir.path(), "upgrade");
        let mut second = HostLogs {
            dir: first.dir.clone(),
            name: first.name.clone(),
            files: HashMap::new(),
        };
        first.handle(&line("h1", "first run"));
        second.handle(&line("h1", "second run"));
        first.finish();
        second.finish();
        let mut logs: Vec<String> = std::fs::read_dir(dir.path().join("h1"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        logs.sort_by_key(|l| l.contains("second"));
        assert_eq!(logs.len(), 2, "{logs:?}");
        assert!(logs[0].ends_with("[facts] first run\n"), "{logs:?}");
        assert!(logs[1].ends_with("[facts] second run\n"), "{logs:?}");
    }
}
