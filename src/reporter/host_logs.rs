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
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
        Self {
            dir: dir.to_path_buf(),
            name: format!("{command}-{stamp}.log"),
            files: HashMap::new(),
        }
    }

    /// The log file of `host`.
    pub fn path(&self, host: &str) -> PathBuf {
        self.dir.join(host).join(&self.name)
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
            Event::RunStarted { .. } | Event::HostStarted { .. } => return,
        };
        let path = self.path(host);
        let file = self.files.entry(host.clone()).or_insert_with(|| {
            std::fs::create_dir_all(path.parent()?).ok()?;
            File::create(&path).ok().map(BufWriter::new)
        });
        if let Some(writer) = file
            && writeln!(writer, "{line}").is_err()
        {
            *file = None;
        }
    }

    /// Flushes every log.
    pub fn finish(&mut self) {
        for writer in self.files.values_mut().flatten() {
            let _ = writer.flush();
        }
    }
}

fn now() -> String {
    jiff::ZonedDateTime::now().strftime("%H:%M:%S").to_string()
}
