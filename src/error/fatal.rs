//! The error that stops a whole command before or outside the per-host work (a host's failure
//! is an outcome instead, `runner/outcome.rs`).

use crate::inventory::InventoryError;

/// An error that stops a whole command before or outside the per-host work.
#[derive(Debug, thiserror::Error)]
pub enum FatalError {
    /// The inventory, `--limit` or `-e` is not usable.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// `--to` is not a version hubfleet can aim at.
    #[error(transparent)]
    TargetVersion(#[from] crate::target_version::VersionError),
    /// The `--report` file could not be written, found before the run.
    #[error("cannot write the report `{}`", path.display())]
    ReportUnwritable {
        /// The report path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The `--report` file could not be written after the run; the run's own exit code stands.
    #[error("the report `{}` was not written", path.display())]
    Report {
        /// The report path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The backup directory cannot be created or written to, found before the run.
    #[error("cannot write to the backup directory `{}`", path.display())]
    BackupDir {
        /// The backup directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `hubfleet man --dir` could not write the pages.
    #[error("cannot write the man pages to `{}`", dir.display())]
    ManPages {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The operator did not answer `y` when asked before hubs stop.
    #[error("`{command}` was not confirmed: nothing was changed")]
    NotConfirmed {
        /// The subcommand.
        command: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// `rollback` would stop hubs, and nobody was there to say yes.
    #[error("`rollback` stops hubs: it needs a yes, and stdin is not a terminal")]
    NoConfirmation,
}

impl FatalError {
    /// Lines telling the operator what to do.
    pub fn hints(&self) -> Vec<String> {
        match self {
            Self::Inventory(e) => e.hints(),
            Self::TargetVersion(e) => e.hints(),
            Self::ReportUnwritable { .. } => vec![
                "nothing was run: give `--report` a file in an existing directory you can write to"
                    .to_owned(),
            ],
            Self::Report { .. } => vec![
                "the run itself finished: its results are above, and the exit code is the run's"
                    .to_owned(),
            ],
            Self::BackupDir { .. } => vec![
                "nothing was run: give `--backup-dir` a directory hubfleet can create and write to"
                    .to_owned(),
            ],
            Self::NotConfirmed { .. } => vec![
                "answer `y` to go ahead, or pass `--yes` (nobody is asked when stdin is not a terminal)"
                    .to_owned(),
            ],
            Self::ManPages { .. } | Self::Runtime(_) => Vec::new(),
            Self::NoConfirmation => {
                vec!["nothing was run: check with `--dry-run` first, then pass `--yes`".to_owned()]
            }
        }
    }
}
