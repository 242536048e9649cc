//! `hubfleet backup`: a verified archive of every selected hub, without stopping it.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{RunOptions, run_job};
use crate::cli::BackupArgs;
use crate::error::FatalError;
use crate::facts::HostFacts;
use crate::human_bytes::human_bytes;
use crate::inventory::Host;
use crate::printer::Printer;
use crate::reporter::RecapColumns;
use crate::runner::{HostEvents, HostJob, StepFailure};
use crate::ssh::Session;
use crate::steps;

/// Backs up every selected host (or, with `--dry-run`, says what it would do).
pub fn run(args: &BackupArgs, printer: &Printer) -> Result<u8, FatalError> {
    let options = RunOptions {
        command: "backup",
        targets: crate::inventory::Targets::Hubs,
        fleet: &args.fleet,
        logs: Some(&args.backups.dir),
        rollout: None,
    };
    let job = BackupJob {
        backup_dir: args.backups.dir.clone(),
        dry_run: args.dry_run,
    };
    run_job(&options, Arc::new(job), printer)
}

struct BackupJob {
    backup_dir: PathBuf,
    dry_run: bool,
}

/// What a backup learnt and made.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackupReport {
    /// The host's facts before the backup.
    pub facts: HostFacts,
    /// The archive, once in place and verified.
    #[serde(serialize_with = "crate::lossy_path::serialize")]
    pub archive: Option<PathBuf>,
    /// The archive file's sha256.
    pub sha256: Option<String>,
    /// The archive's size.
    pub archive_bytes: Option<u64>,
    /// With `--dry-run`: the commands the backup would run.
    pub plan: Vec<String>,
}

impl HostJob for BackupJob {
    type Report = BackupReport;

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut BackupReport,
    ) -> Result<(), StepFailure> {
        report.facts = events
            .timed("facts", steps::gather_facts(host, session, events))
            .await?;
        if self.dry_run {
            // The same checks as a real backup: a hub it could not back up is refused here too.
            steps::backup_command(host, &report.facts)?;
            let snapshot = match &report.facts.db_path {
                Some(path) => {
                    format!("snapshot of {path} with the SQLite backup API, integrity_check")
                }
                None => format!(
                    "dump of {} with its server's tools, credentials in a 0600 file, checked",
                    report.facts.db_url.as_deref().unwrap_or("-")
                ),
            };
            report.plan.push(format!(
                "on the host: {} -c <backup.py> '<args>' ({snapshot}, config, cookie secret, {} extra files, pip freeze)",
                steps::hub_python(host),
                host.hub.backup_extra.len()
            ));
            report.plan.push(format!(
                "on the controller: verify every member's sha256 and write {}/{}/TIMESTAMP.tar.gz",
                self.backup_dir.display(),
                host.name
            ));
            return Ok(());
        }
        let backup = steps::backup(host, &report.facts, session, events, &self.backup_dir);
        let stored = events.timed("backup", backup).await?;
        report.archive = Some(stored.path);
        report.sha256 = Some(stored.received.sha256.to_string());
        report.archive_bytes = Some(stored.received.archive_bytes);
        Ok(())
    }
}

impl RecapColumns for BackupReport {
    fn headers() -> Vec<&'static str> {
        vec!["VERSION", "REVISION", "ARCHIVE", "SHA256"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.facts
                .jupyterhub_version
                .clone()
                .unwrap_or_else(|| "-".to_owned()),
            self.facts.db_revision_label(),
            match (&self.archive, self.archive_bytes) {
                (Some(path), Some(bytes)) => format!("{} ({})", path.display(), human_bytes(bytes)),
                _ => String::new(),
            },
            self.sha256
                .as_deref()
                .map(|s| s[..16].to_owned())
                .unwrap_or_default(),
        ]
    }

    fn notes(&self) -> Vec<String> {
        self.plan.clone()
    }
}
