//! How errors reach the operator: `error: …`, one `Caused by:` per source, then `hint:` lines
//! (the shape uv uses), or all of it on one line for a host's row in the recap.

use std::error::Error;

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
            Self::ManPages { .. } | Self::Runtime(_) => Vec::new(),
            Self::NoConfirmation => {
                vec!["nothing was run: check with `--dry-run` first, then pass `--yes`".to_owned()]
            }
        }
    }
}

/// The error, its causes and hints, for stderr.
pub fn render(error: &(dyn Error + 'static), hints: &[String]) -> String {
    let mut out = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(&format!("\n  Caused by: {cause}"));
        source = cause.source();
    }
    if !hints.is_empty() {
        out.push('\n');
        for hint in hints {
            out.push_str(&format!("\nhint: {hint}"));
        }
    }
    out
}

/// The error, its causes (each once) and hints on one line.
pub fn one_line(error: &(dyn Error + 'static), hints: &[String]) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    for hint in hints {
        line.push_str(&format!(" (hint: {hint})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot connect to `h1`")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn render_shows_causes_then_hints() {
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            render(&e, &["is sshd running?".to_owned()]),
            "error: cannot connect to `h1`\n  Caused by: connection refused\n\nhint: is sshd running?"
        );
        assert_eq!(
            one_line(&e, &["is sshd running?".to_owned()]),
            "cannot connect to `h1`: connection refused (hint: is sshd running?)"
        );
    }
}
