//! `hubfleet upgrade --to VERSION`: JupyterHub's upgrade procedure on every selected hub, safely.
//!
//! Per host: facts → refuse if user servers run (unless allowed) → ready the target while the hub
//! serves (a venv: a copy of the env with the target installed; conda: downloads) and, at the
//! same time, a verified backup → rehearse `upgrade-db` on a copy of the database with the copied
//! env → notify → the cutover, run on the host by one detached process that finishes even if the
//! connection drops: stop (confirmed) → swap the envs (or install offline) → `upgrade-db`
//! (revision checked) → start → `/hub/api` reports the target version.
//! A host already at the target is left untouched. A failed step stops that host only and names
//! the step; before the stop, what was readied is removed again; the backup always stays, and a
//! swapped-out env is kept beside the new one (rollback from both comes with the roadmap's work).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{RunOptions, run_job};
use crate::archive;
use crate::cli::UpgradeArgs;
use crate::error::FatalError;
use crate::facts::HostFacts;
use crate::facts::alembic;
use crate::human_bytes::human_bytes;
use crate::inventory::{Host, Installer};
use crate::printer::Printer;
use crate::runner::{HostEvents, HostJob, RecapColumns, StepFailure};
use crate::ssh::{RemoteCommand, Session};
use crate::steps::{self, Cutover, SingleUser, Staged, Target};

/// Upgrades every selected host (or, with `--dry-run`, prints each host's plan).
pub fn run(args: &UpgradeArgs, printer: &Printer) -> Result<u8, FatalError> {
    let options = RunOptions {
        command: "upgrade",
        fleet: &args.fleet,
        json: args.json,
        logs: Some(&args.backups.dir),
    };
    let job = UpgradeJob {
        to: args.to.clone(),
        backup_dir: args.backups.dir.clone(),
        dry_run: args.dry_run,
        allow_active_servers: args.allow_active_servers,
        message: args.message.clone(),
        grace: Duration::from_secs(args.grace),
    };
    run_job(&options, Arc::new(job), printer)
}

struct UpgradeJob {
    to: String,
    backup_dir: PathBuf,
    dry_run: bool,
    allow_active_servers: bool,
    message: String,
    grace: Duration,
}

/// What happened on a host, for the recap and the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpgradeReport {
    /// JupyterHub before.
    pub version_before: Option<String>,
    /// The version the upgrade aims at (`--to latest` resolved on the host).
    pub version_target: Option<String>,
    /// JupyterHub after (the target, once healthy).
    pub version_after: Option<String>,
    /// Alembic revision before.
    pub revision_before: Option<String>,
    /// Alembic revision after upgrade-db.
    pub revision_after: Option<String>,
    /// The migrations upgrade-db applies, oldest first.
    pub migrations: Vec<String>,
    /// Packages the installer installs or upgrades.
    pub packages: Vec<String>,
    /// The verified archive taken before anything changed.
    #[serde(serialize_with = "crate::reporter::lossy_path")]
    pub archive: Option<PathBuf>,
    /// Its sha256.
    pub archive_sha256: Option<String>,
    /// From the stop command to `/hub/api` answering with the target version.
    pub downtime_seconds: Option<f64>,
    /// Already at the target: nothing was done.
    pub unchanged: bool,
    /// jupyterhub in the single-user env after the upgrade (with `singleuser_env`).
    pub singleuser_version_after: Option<String>,
    /// Where the env the upgrade replaced is kept (the package half of a rollback).
    pub previous_env: Option<String>,
    /// With `--dry-run`: every command, with its resolved values.
    pub plan: Vec<String>,
}

impl HostJob for UpgradeJob {
    type Report = UpgradeReport;

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut UpgradeReport,
    ) -> Result<(), StepFailure> {
        let facts = steps::gather_facts(host, session, events).await?;
        report.version_before = facts.jupyterhub_version.clone();
        report.revision_before = facts.db_revision.clone();
        if let Some(pid) = facts.cutover_running {
            return Err(refused(format!(
                "an earlier upgrade's cutover is still running on this host (pid {pid}): wait until it ends, then run again; nothing was changed"
            )));
        }
        // The database the config resolves may not be the hub's (its environment unknown, or
        // another database open in the running hub): nothing is readied, backed up or stopped.
        if let Some(reason) = facts.blocked() {
            return Err(refused(format!("{reason}; nothing was changed")));
        }
        let serving = |version: &str| {
            facts.jupyterhub_version.as_deref() == Some(version)
                && facts.running_version.as_deref() == Some(version)
        };
        let unchanged = |report: &mut UpgradeReport, version: &str| {
            report.unchanged = true;
            report.version_target = Some(version.to_owned());
            report.version_after = facts.jupyterhub_version.clone();
            report.revision_after = facts.db_revision.clone();
        };
        if serving(&self.to) {
            unchanged(report, &self.to);
            return self
                .match_singleuser(host, session, events, &facts, &self.to, report)
                .await;
        }
        // Refused before anything is readied, unless only staging tells whether `latest` is news.
        let latest = self.to == "latest";
        if !latest {
            self.check_active_servers(&facts)?;
        }
        let (target, stored) = if latest || self.dry_run {
            let stage = steps::stage(host, &facts, session, events, &self.to, !self.dry_run, None);
            (stage.await?, None)
        } else {
            // The snapshot needs the database's size beside it while the env is copied.
            let reserve = facts.db_path.as_deref().zip(facts.db_size);
            let stage = steps::stage(host, &facts, session, events, &self.to, true, reserve);
            // Both only read the serving hub's files and both can take long (pip and the index;
            // a large database): the database streams while pip works.
            let backup = steps::backup(host, &facts, session, events, &self.backup_dir);
            let (target, stored) = tokio::join!(stage, backup);
            if let Ok(stored) = &stored {
                record_backup(report, events, stored);
            }
            let target = target?;
            match stored {
                Ok(stored) => (target, Some(stored)),
                Err(failure) => {
                    discard(host, session, &target.staged).await;
                    return Err(failure);
                }
            }
        };
        report.packages = target.install.clone();
        report.version_target = Some(target.version.clone());
        if serving(&target.version) {
            unchanged(report, &target.version);
            return self
                .match_singleuser(host, session, events, &facts, &target.version, report)
                .await;
        }
        if latest && let Err(refusal) = self.check_active_servers(&facts) {
            discard(host, session, &target.staged).await;
            return Err(refusal);
        }
        if self.dry_run {
            report.migrations = self.checked_migrations(&facts, &target)?.migrations;
            report.plan = self.plan(host, &facts, &target, report);
            return Ok(());
        }
        // The revision upgrade-db must reach; `None` for conda, known only once installed.
        let head = alembic::head(&target.revisions);
        // Until the hub env changes, a failure leaves the host as it was: what `stage` readied
        // is removed again.
        let ready = async {
            let CheckedDatabase {
                path: db_path,
                record,
                migrations,
            } = self.checked_migrations(&facts, &target)?;
            report.migrations = migrations;
            if stored.is_none() {
                let stored = steps::backup(host, &facts, session, events, &self.backup_dir).await?;
                record_backup(report, events, &stored);
            }
            if let Staged::NextEnv { path, .. } = &target.staged {
                let head = head.unwrap_or_default();
                steps::rehearse(host, session, events, path, &db_path, head).await?;
            }
            if let Some(env) = singleuser_behind(host, &facts, &target.version) {
                steps::singleuser(
                    host,
                    session,
                    events,
                    env,
                    &target.version,
                    SingleUser::Check,
                )
                .await?;
            }
            let message = self.message.replace("{version}", &target.version);
            steps::notify(host, session, events, &message, self.grace).await?;
            Ok((db_path, record))
        };
        let (db_path, record) = match ready.await {
            Ok(ready) => ready,
            Err(failure) => {
                discard(host, session, &target.staged).await;
                return Err(failure);
            }
        };
        let cutover = Cutover {
            staged: &target.staged,
            db_path: &db_path,
            record: &record,
            version: &target.version,
            head,
            restart_version: facts.running_version.as_deref(),
            allow_active_servers: self.allow_active_servers,
        };
        let down = Instant::now();
        let done = steps::cutover(host, session, events, &cutover).await?;
        report.previous_env = done.previous_env;
        if let Some(installed) = &done.revisions {
            report.migrations = pending_migrations(
                installed,
                facts.db_revision.as_deref().unwrap_or_default(),
                &target.version,
            )
            .unwrap_or_default();
        }
        report.revision_after = Some(done.revision);
        report.downtime_seconds = Some(round(down.elapsed()));
        report.version_after = Some(target.version.clone());
        self.match_singleuser(host, session, events, &facts, &target.version, report)
            .await?;
        Ok(())
    }
}

/// The single-user env the inventory names, if its jupyterhub is not at `version` yet.
fn singleuser_behind<'h>(host: &'h Host, facts: &HostFacts, version: &str) -> Option<&'h str> {
    host.hub
        .singleuser_env
        .as_deref()
        .filter(|_| facts.singleuser_version.as_deref() != Some(version))
}

/// Puts a verified backup in the report, and says so.
fn record_backup(report: &mut UpgradeReport, events: &HostEvents, stored: &archive::Stored) {
    report.archive = Some(stored.path.clone());
    report.archive_sha256 = Some(stored.received.sha256.to_string());
    events.step(
        "backup",
        format!(
            "verified {} ({})",
            stored.path.display(),
            human_bytes(stored.received.archive_bytes)
        ),
    );
}

/// Removes what `stage` readied on the host (the next env, or the downloaded packages), best
/// effort: it is hubfleet's own, and the next run replaces it anyway.
async fn discard(host: &Host, session: &Session, staged: &Staged) {
    let path = match staged {
        Staged::NextEnv { path, .. } => path.clone(),
        Staged::InPlace => steps::stage_dir(host),
        Staged::Nothing => return,
    };
    let clean = RemoteCommand::new("rm").args(["-rf", "--", &path]);
    let _ = session
        .exec_capture(&clean.become_(host.hub.become_.clone()))
        .await;
}

impl UpgradeJob {
    /// Every command a real run would send, in order, with its resolved values.
    fn plan(
        &self,
        host: &Host,
        facts: &HostFacts,
        target: &Target,
        report: &UpgradeReport,
    ) -> Vec<String> {
        let version = &target.version;
        let mut plan = vec![
            format!(
                "target: jupyterhub {version} (now {}); dry run: nothing was changed",
                report.version_before.as_deref().unwrap_or("-")
            ),
            format!(
                "pending migrations: {}",
                match (&report.migrations[..], host.hub.installer) {
                    (_, Installer::Conda) => {
                        "read from the installed package (conda resolves it)".to_owned()
                    }
                    ([], _) => "none".to_owned(),
                    (migrations, _) => migrations.join(" -> "),
                }
            ),
            format!("packages to install: {}", report.packages.join(" ")),
        ];
        plan.push(match &target.staged {
            Staged::NextEnv {
                env, path, command, ..
            } => format!(
                "stage: copy {env} to {path}, then {} (while the hub serves)",
                RemoteCommand::new(&command[0]).args(&command[1..])
            ),
            Staged::InPlace => format!(
                "stage: download jupyterhub=={version} and its dependencies into {} (while the hub serves)",
                steps::stage_dir(host)
            ),
            Staged::Nothing => "stage: nothing to install".to_owned(),
        });
        plan.push(format!(
            "backup: snapshot, config, secrets, package list → {}/{}/TIMESTAMP.tar.gz (verified)",
            self.backup_dir.display(),
            host.name
        ));
        if let (Staged::NextEnv { path, .. }, Some(db_path)) = (&target.staged, &facts.db_path) {
            plan.push(format!(
                "rehearse: {}",
                steps::rehearse_description(host, path, db_path)
            ));
        }
        if let Some(n) = facts.active_servers.filter(|n| *n > 0) {
            plan.push(format!(
                "check: {n} user server(s) running: {}",
                if self.allow_active_servers {
                    "allowed"
                } else {
                    "the upgrade will refuse"
                }
            ));
        }
        if let Some(env) = singleuser_behind(host, facts, version) {
            plan.push(format!(
                "singleuser: {} (while the hub serves: the env must take the release before the hub gets it)",
                steps::singleuser_install_command(host, env, version).arg("--dry-run")
            ));
        }
        if let Some(notify) = &host.hub.notify {
            plan.push(format!(
                "notify: {notify} (HUBFLEET_MESSAGE={:?}), then wait {}s",
                self.message.replace("{version}", version),
                self.grace.as_secs()
            ));
        }
        if let Some(record) = &facts.cutover_record {
            plan.push(format!(
                "cutover: the steps from stop to health run on the host in one detached process, which finishes even if the connection drops; its record: {record}"
            ));
        }
        plan.push(format!("stop: {}", host.hub.stop));
        match &target.staged {
            Staged::NextEnv {
                env,
                path,
                previous,
                replaces_previous,
                ..
            } => plan.push(format!(
                "swap: {}",
                steps::swap_description(env, path, previous, *replaces_previous)
            )),
            Staged::InPlace => plan.push(format!(
                "install: {}",
                steps::install_command(
                    host,
                    host.hub.installer,
                    &host.hub.env,
                    version,
                    steps::Source::Staged
                )
            )),
            Staged::Nothing => {}
        }
        plan.push(format!(
            "upgrade-db: {} (with the hub's environment, from {}, in {})",
            steps::upgrade_db_command(host),
            facts
                .hub_environment
                .as_ref()
                .map_or("the login", |e| e.source.as_str()),
            facts
                .hub_environment
                .as_ref()
                .map_or(host.hub.workdir.as_str(), |e| e.workdir.as_str()),
        ));
        plan.push(format!("start: {}", host.hub.start));
        plan.push(format!("health: {} reports {version}", host.hub.health_url));
        if let Some(env) = singleuser_behind(host, facts, version) {
            plan.push(format!(
                "singleuser: {} (running user servers keep the code they loaded)",
                steps::singleuser_install_command(host, env, version)
            ));
        }
        plan
    }

    /// Brings the single-user env's jupyterhub to `version` if the inventory names one and it is
    /// not there yet (in a dry run, the plan says so instead).
    async fn match_singleuser(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        facts: &HostFacts,
        version: &str,
        report: &mut UpgradeReport,
    ) -> Result<(), StepFailure> {
        if host.hub.singleuser_env.is_none() {
            return Ok(());
        }
        if let Some(env) = singleuser_behind(host, facts, version) {
            if self.dry_run {
                report.plan.push(format!(
                    "singleuser: {}",
                    steps::singleuser_install_command(host, env, version)
                ));
                return Ok(());
            }
            steps::singleuser(host, session, events, env, version, SingleUser::Upgrade).await?;
        }
        report.singleuser_version_after = Some(version.to_owned());
        Ok(())
    }

    /// Refuses to stop a hub whose users have servers running, unless told to (or in a dry run).
    fn check_active_servers(&self, facts: &HostFacts) -> Result<(), StepFailure> {
        match facts.active_servers {
            Some(servers) if servers > 0 && !self.allow_active_servers && !self.dry_run => {
                Err(refused(format!(
                    "{servers} user server(s) are running: stopping the hub interrupts them; rerun with `--allow-active-servers` after notifying users"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The database, and the migrations to the target's head; refuses a database the target does
    /// not know. With conda the migrations are known only once installed (empty).
    fn checked_migrations(
        &self,
        facts: &HostFacts,
        target: &Target,
    ) -> Result<CheckedDatabase, StepFailure> {
        let (Some(db_path), Some(record), Some(revision)) =
            (&facts.db_path, &facts.cutover_record, &facts.db_revision)
        else {
            return Err(refused(format!(
                "the hub's SQLite database or its revision could not be read ({}): nothing was changed",
                facts.problems.join("; ")
            )));
        };
        let migrations = if target.revisions.is_empty() {
            Vec::new()
        } else {
            pending_migrations(&target.revisions, revision, &target.version)?
        };
        Ok(CheckedDatabase {
            path: db_path.clone(),
            record: record.clone(),
            migrations,
        })
    }
}

/// The hub's database, found and known to the target.
struct CheckedDatabase {
    /// Its path.
    path: String,
    /// Its cutover record's path, as the facts give it.
    record: String,
    /// The migrations to the target's head.
    migrations: Vec<String>,
}

/// The migrations from `revision` to the head of `revisions`; refuses a database the target does
/// not know (newer than the target, or not JupyterHub's).
fn pending_migrations(
    revisions: &alembic::Revisions,
    revision: &str,
    version: &str,
) -> Result<Vec<String>, StepFailure> {
    alembic::pending(revisions, revision).ok_or_else(|| {
        refused(format!(
            "the database is at revision {revision}, which jupyterhub {version} does not know (a database newer than the target?): nothing was changed"
        ))
    })
}

fn refused(reason: String) -> StepFailure {
    StepFailure {
        step: "check",
        reason,
    }
}

fn round(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

impl RecapColumns for UpgradeReport {
    fn headers() -> Vec<&'static str> {
        vec!["VERSION", "REVISION", "DOWNTIME", "ARCHIVE"]
    }

    fn cells(&self) -> Vec<String> {
        let arrow = |before: &Option<String>, after: &Option<String>| match (before, after) {
            (Some(b), Some(a)) if b == a => b.clone(),
            (b, a) => format!(
                "{} → {}",
                b.as_deref().unwrap_or("-"),
                a.as_deref().unwrap_or("-")
            ),
        };
        let mut version = arrow(&self.version_before, &self.version_after);
        if self.unchanged {
            version.push_str(" (unchanged)");
        } else if !self.plan.is_empty() {
            version = format!(
                "{} (planned)",
                arrow(&self.version_before, &self.version_target)
            );
        }
        let short = |r: &Option<String>| r.as_ref().map(|r| r.chars().take(12).collect::<String>());
        let mut revision = arrow(&short(&self.revision_before), &short(&self.revision_after));
        if !self.migrations.is_empty() {
            revision.push_str(&format!(" ({} migrations)", self.migrations.len()));
        }
        vec![
            version,
            revision,
            self.downtime_seconds
                .map(|s| format!("{s:.1}s"))
                .unwrap_or_default(),
            match (&self.archive, &self.archive_sha256) {
                (Some(path), Some(sum)) => format!("{}\nsha256 {}", path.display(), &sum[..16]),
                _ => String::new(),
            },
        ]
    }

    fn notes(&self) -> Vec<String> {
        self.plan.clone()
    }
}
