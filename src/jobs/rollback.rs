//! One host's rollback to an archive (`hubfleet rollback`): facts, the archive chosen and verified
//! on the controller, then sent to the host, which checks it and says what restoring it would lose;
//! the plan ([`RollbackPlan`]) built from that; a dry run stops there. Nothing stops before every
//! check has passed; then the restore runs detached on the host.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::RollbackReport;
use crate::host_scripts::{
    EnvBack, LockRef, RestoreArgs, RestoreCheckArgs, RestoreFile, RestoreMember,
};
use crate::inventory::Host;
use crate::plan::{EnvPlan, RollbackPlan, check_archive, live_path, policy};
use crate::runner::{HostEvents, HostJob, StepFailure};
use crate::ssh::Session;
use crate::steps::{self, HostLock, LockHolder, NotLocked, Restored};

/// Which archive a host is rolled back to.
#[derive(Debug, Clone)]
pub enum ArchiveChoice {
    /// `--archive PATH`.
    Path(PathBuf),
    /// `--latest`: the newest archive of the host in the backup directory.
    Latest,
}

/// `hubfleet rollback` on one host.
#[derive(Debug, Clone)]
pub struct RollbackJob {
    /// Which archive.
    pub archive: ArchiveChoice,
    /// `--backup-dir`: where `--latest` looks, `DIR/HOST/*.tar.gz`.
    pub backup_dir: PathBuf,
    /// `--dry-run`: stop at the plan.
    pub dry_run: bool,
    /// This run, as the host lock names it.
    pub holder: LockHolder,
}

impl HostJob for RollbackJob {
    type Report = RollbackReport;

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut RollbackReport,
    ) -> Result<(), StepFailure> {
        // As for an upgrade: from the facts to the end of the restore, no other run touches the
        // host; a dry run changes nothing and takes no lock.
        if self.dry_run {
            return self.run_locked(host, session, events, report, None).await;
        }
        let lock = match events
            .timed("lock", steps::lock(host, session, events, &self.holder))
            .await
        {
            Ok(lock) => lock,
            Err(NotLocked::Refused(refused) | NotLocked::Unusable(refused)) => return Err(refused),
        };
        let done = self
            .run_locked(host, session, events, report, Some(&lock))
            .await;
        lock.release().await;
        done
    }
}

impl RollbackJob {
    /// The rollback of one host, under `lock` (`None`: a dry run).
    async fn run_locked(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut RollbackReport,
        lock: Option<&HostLock>,
    ) -> Result<(), StepFailure> {
        let facts = events
            .timed("facts", steps::gather_facts(host, session, events))
            .await?;
        report.version_before = facts.jupyterhub_version.clone();
        report.revision_before = facts.db_revision.clone();
        policy::may_touch(&facts)?;
        let record = policy::cutover_record(&facts)?;
        let db = facts.db_path.clone().ok_or_else(|| {
            policy::refused(format!(
                "the hub's SQLite database could not be found ({}): nothing was stopped",
                facts.problems.join("; ")
            ))
        })?;
        let archive = self.archive_of(host)?;
        report.archive = Some(archive.clone());
        events.step("check", format!("verify {}", archive.display()));
        let verifying = archive.clone();
        let verification = tokio::task::spawn_blocking(move || crate::archive::verify(&verifying))
            .await
            .map_err(|e| policy::refused(format!("verifying the archive failed: {e}")))?;
        let sha256 = verification
            .sha256
            .map(|s| s.to_string())
            .unwrap_or_default();
        let manifest = check_archive(host, &archive, verification)?;
        report.archive_sha256 = Some(sha256.clone());
        report.version_target = Some(manifest.jupyterhub_version.clone());
        let members = manifest
            .members
            .iter()
            .map(|m| RestoreMember {
                path: &m.path,
                sha256: m.sha256.to_string(),
                role: m.role.as_str(),
                live: live_path(host, &facts, m.role, &m.path),
            })
            .collect();
        let check = RestoreCheckArgs {
            db: &db,
            archive_sha256: &sha256,
            members,
            revision: &manifest.alembic_revision,
            previous: format!("{}.hubfleet-previous", host.hub.env.trim_end_matches('/')),
            keep: !self.dry_run,
            bytes_needed: std::fs::metadata(&archive).map_or(0, |m| m.len())
                + manifest.members.iter().map(|m| m.size).sum::<u64>(),
        };
        let inspection = events
            .timed(
                "check",
                steps::restore_check(host, session, events, &archive, &check),
            )
            .await?;
        let suffix = format!(
            ".hubfleet-before-rollback-{}",
            crate::backup_dir::stamp(jiff::Timestamp::now())
        );
        let kept_db = format!("{db}{suffix}");
        let plan = RollbackPlan::build(
            host,
            &facts,
            (&archive, &sha256, &manifest),
            &inspection,
            kept_db,
        );
        report.losses = Some(plan.losses.clone());
        report.files = plan.files.clone();
        if self.dry_run {
            report.plan = Some(plan);
            return Ok(());
        }
        let stage = inspection.stage.as_deref().unwrap_or_default();
        let snapshot = manifest
            .members
            .iter()
            .find(|m| m.role == crate::archive::Role::Database)
            .map(|m| (format!("{stage}/{}", m.path), m.sha256.to_string()))
            .unwrap_or_default();
        let args = RestoreArgs {
            record: &record,
            stop: &host.hub.stop,
            stop_timeout: host.hub.stop_timeout.as_secs(),
            start: &host.hub.start,
            start_timeout: host.hub.start_timeout.as_secs(),
            url: &host.hub.health_url,
            db: &db,
            hub: crate::host_scripts::HubEnvironmentArgs::of(host),
            env: &host.hub.env,
            version: &manifest.jupyterhub_version,
            revision: &manifest.alembic_revision,
            restart_version: facts.running_version.as_deref(),
            stage,
            kept_db: &plan.kept_db,
            aside_suffix: &suffix,
            files: inspection
                .differing
                .iter()
                .map(|d| RestoreFile {
                    archived: &d.archived,
                    sha256: &d.sha256,
                    live: &d.live,
                })
                .collect(),
            database: RestoreFile {
                archived: &snapshot.0,
                sha256: &snapshot.1,
                live: &db,
            },
            change: match &plan.env {
                EnvPlan::Keep => EnvBack::Keep,
                EnvPlan::Previous { path } => EnvBack::Previous { previous: path },
                EnvPlan::Install { command } => EnvBack::Install {
                    command: command.clone(),
                },
            },
        };
        let down = Instant::now();
        let mut restored = Restored::default();
        let lock = lock.map(|lock| LockRef {
            path: &lock.path,
            run: &self.holder.run,
        });
        let done = steps::restore(host, session, events, args, lock, &mut restored).await;
        if let Some((path, sha256)) = restored.kept {
            report.kept_db = Some(path);
            report.kept_db_sha256 = Some(sha256);
        }
        report.by_hand = restored.by_hand;
        done?;
        report.downtime_seconds = Some((down.elapsed().as_secs_f64() * 10.0).round() / 10.0);
        report.version_after = Some(manifest.jupyterhub_version.clone());
        report.revision_after = restored.revision;
        Ok(())
    }

    /// The archive `host` is rolled back to.
    fn archive_of(&self, host: &Host) -> Result<PathBuf, StepFailure> {
        match &self.archive {
            ArchiveChoice::Path(path) => Ok(path.clone()),
            ArchiveChoice::Latest => {
                let dir = crate::backup_dir::host_dir(&self.backup_dir, &host.name);
                newest_archive(&dir).ok_or_else(|| {
                    policy::refused(format!(
                        "no archive of `{}` in `{}`: name one with `--archive`; nothing was stopped",
                        host.name,
                        dir.display()
                    ))
                })
            }
        }
    }
}

/// The newest `*.tar.gz` in `dir`: the last written, names (UTC stamps) breaking ties.
fn newest_archive(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tar.gz"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_archive_is_the_newest_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(newest_archive(dir.path()), None);
        let old = dir.path().join("20261207T100000Z.tar.gz");
        let new = dir.path().join("20261207T110000Z.tar.gz");
        std::fs::write(&old, b"old").unwrap();
        std::fs::write(dir.path().join("20261207T120000Z.tar.gz.partial"), b"").unwrap();
        std::fs::write(&new, b"new").unwrap();
        let earlier = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(earlier)
            .unwrap();
        assert_eq!(newest_archive(dir.path()), Some(new));
    }
}
