//! What the runner tells the reporters. Steps and the runner never print: they send these.

use std::time::Duration;

use super::Outcome;

/// Which output stream a line of remote output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The run begins on `hosts` hosts.
    RunStarted {
        /// How many hosts are selected.
        hosts: usize,
    },
    /// A host's task started (it got a slot under `--forks`).
    HostStarted {
        /// The host.
        host: String,
    },
    /// A host moved to a new step; `detail` says in a few words what it is doing (no command
    /// line: those are [`Event::Command`]s).
    Step {
        /// The host.
        host: String,
        /// Short name of the step (`connect`, `exec`, `backup`…).
        step: &'static str,
        /// What it does, for the display.
        detail: String,
    },
    /// A step runs a command on the host: the per-host log and `-v` show it, bars never do.
    Command {
        /// The host.
        host: String,
        /// The step running it.
        step: &'static str,
        /// The command line (or the cutover's own account of what it runs).
        command: String,
    },
    /// Bytes a step has moved so far (the backup's stream), for a byte count and a rate.
    Progress {
        /// The host.
        host: String,
        /// The step.
        step: &'static str,
        /// How far it got.
        transfer: Transfer,
    },
    /// What a step does, in numbers from typed data (the plan's migrations, the stage's
    /// packages): the bars show it beside the step instead of its words.
    Summary {
        /// The host.
        host: String,
        /// The step.
        step: &'static str,
        /// What it does.
        summary: Summary,
    },
    /// A step ended on a host (its log and the report keep the timings).
    StepTimed {
        /// The host.
        host: String,
        /// The step, when it began and how long it took.
        timing: StepTiming,
    },
    /// A complete line of a remote command's output.
    Output {
        /// The host.
        host: String,
        /// Which stream.
        stream: Stream,
        /// The line, without its newline, lossily decoded as UTF-8.
        line: String,
    },
    /// The run stops starting hosts (its failure budget spent, or a signal): hosts running
    /// finish, those in their cutover are followed to their end.
    RunStopping {
        /// Why, in words.
        reason: String,
    },
    /// A host finished, one way or another.
    HostFinished {
        /// The host.
        host: String,
        /// How it ended.
        outcome: Outcome,
        /// How long it took from its start.
        elapsed: Duration,
    },
}

impl Event {
    /// Masks the secrets in the remote text this event carries (see [`crate::secrets`]). A
    /// `HostFinished`'s outcome is masked where it is made (`run_host`), since the recap and
    /// the report show it too.
    pub fn mask_secrets(&mut self) {
        match self {
            Self::Step { detail, .. } => crate::secrets::mask_in_place(detail),
            Self::Command { command, .. } => crate::secrets::mask_in_place(command),
            Self::Output { line, .. } => crate::secrets::mask_in_place(line),
            Self::HostFinished { .. }
            | Self::RunStarted { .. }
            | Self::RunStopping { .. }
            | Self::HostStarted { .. }
            | Self::StepTimed { .. }
            | Self::Summary { .. }
            | Self::Progress { .. } => {}
        }
    }
}

/// What a step does, as numbers: `27 packages`, `0eee8c → f460b0 (6 migrations)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    /// The installer installs or upgrades this many packages.
    Packages(usize),
    /// `upgrade-db` takes the database from one alembic revision to another.
    Migrations {
        /// The database's revision now.
        from: String,
        /// The revision it reaches.
        to: String,
        /// How many migrations lie between.
        count: usize,
    },
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        match self {
            Summary::Packages(n) => write!(f, "{}", plural(*n, "package")),
            Summary::Migrations { from, to, count } => {
                // Six characters tell revisions apart on a line (alembic's are 12 hex digits).
                let short = |r: &str| r.chars().take(6).collect::<String>();
                write!(
                    f,
                    "{} → {} ({})",
                    short(from),
                    short(to),
                    plural(*count, "migration")
                )
            }
        }
    }
}

/// When a step of a host began, from the host's start, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StepTiming {
    /// The step's name.
    pub step: &'static str,
    /// From the host's start (its slot under `--forks`) to the step's.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub started: Duration,
    /// How long it ran.
    #[serde(serialize_with = "crate::seconds::serialize")]
    pub took: Duration,
    /// Whether it ended well.
    pub ok: bool,
}

/// How far a transfer got: shown as `412.0 MiB/1.0 GiB 206.0 MiB/s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Bytes so far.
    pub bytes: u64,
    /// The expected size, when known.
    pub total: Option<u64>,
    /// Since the first byte.
    pub elapsed: Duration,
}

impl std::fmt::Display for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::human_bytes::human_bytes;
        let rate = self.bytes as f64 / self.elapsed.as_secs_f64().max(0.001);
        write!(f, "{}", human_bytes(self.bytes))?;
        if let Some(total) = self.total {
            write!(f, "/{}", human_bytes(total))?;
        }
        write!(f, " {}/s", human_bytes(rate as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reads_as_the_bars_show_it() {
        let migrations = |count| Summary::Migrations {
            from: "0eee8c825d24".into(),
            to: "f460b0348206".into(),
            count,
        };
        assert_eq!(migrations(6).to_string(), "0eee8c → f460b0 (6 migrations)");
        assert_eq!(migrations(1).to_string(), "0eee8c → f460b0 (1 migration)");
        assert_eq!(Summary::Packages(27).to_string(), "27 packages");
        assert_eq!(Summary::Packages(1).to_string(), "1 package");
    }
}
