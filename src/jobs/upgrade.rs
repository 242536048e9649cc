//! One host's upgrade: facts and the policy, the target staged beside a verified backup while
//! the hub serves, then the plan ([`UpgradePlan`]) built from them and executed step by step. A
//! dry run stops at the plan. A failure before the stop removes what was staged; the backup is
//! never deleted.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Pinned, UpgradeReport};
use crate::archive;
use crate::facts::HostFacts;
use crate::inventory::Host;
use crate::plan::{CutoverWork, Request, UpgradePlan, Work, policy};
use crate::runner::{Ended, HostEvents, HostJob, StepFailure, Summary};
use crate::ssh::{RemoteCommand, Session};
use crate::step::{Phase, Step};
use crate::steps::{self, Cutover, Done, HostLock, LockHolder, OnHost, Staged, WayBack};

/// `hubfleet upgrade` on one host.
#[derive(Debug, Clone)]
pub struct UpgradeJob {
    /// The release to reach: `--to`, with `latest` already resolved once for the run
    /// ([`Pinned`]), so every host aims at the same one.
    pub to: String,
    /// `--backup-dir`.
    pub backup_dir: PathBuf,
    /// `--dry-run`: stop at the plan.
    pub dry_run: bool,
    /// `--allow-active-servers`.
    pub allow_active_servers: bool,
    /// Not `--no-rollback`: a failure after the stop is rolled back on the host.
    pub rollback: bool,
    /// `--message`.
    pub message: String,
    /// `--grace`.
    pub grace: Duration,
    /// This run, as the host lock names it; its token also marks what it stages.
    pub holder: LockHolder,
    /// `--to latest`, resolved once for the run: `to` is its version.
    pub pinned: Option<Pinned>,
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
        // From the facts to the end of the cutover, no other run touches the host. A dry run
        // changes nothing and takes no lock (its facts show one that is held).
        if self.dry_run {
            return self.run_locked(host, session, events, report, None).await;
        }
        let lock = match events
            .timed("lock", steps::lock(host, session, events, &self.holder))
            .await
        {
            Ok(lock) => lock,
            Err(steps::NotLocked::Refused(refused)) => return Err(refused),
            // A login that cannot write beside the env: the facts, which only read, may know
            // the better reason (an environment out of reach, a database it cannot see).
            Err(steps::NotLocked::Unusable(unusable)) => {
                let facts = steps::gather_facts(host, session, events).await?;
                policy::may_touch(&facts)?;
                return Err(unusable);
            }
        };
        let done = self
            .run_locked(host, session, events, report, Some(&lock))
            .await;
        lock.release().await;
        done
    }
}

impl UpgradeJob {
    /// The upgrade of one host, under `lock` (`None`: a dry run).
    async fn run_locked(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut UpgradeReport,
        lock: Option<&HostLock>,
    ) -> Result<(), StepFailure> {
        let facts = events
            .timed("facts", steps::gather_facts(host, session, events))
            .await?;
        report.version_before = facts.jupyterhub_version.clone();
        report.latest_resolved_on = self.pinned.as_ref().map(|p| p.host.clone());
        report.revision_before = facts.db_revision.clone();
        policy::may_touch(&facts)?;
        if let Some(text) = &facts.cutover_left {
            earlier_cutover(host, session, events, &facts, text, report).await?;
        }
        before(events, "stage")?;
        if policy::serves(&facts, &self.to) {
            let plan = UpgradePlan::unchanged(host, &facts, &self.to);
            return self
                .execute_under(host, session, events, &facts, plan, report, lock)
                .await;
        }
        policy::database(&facts)?;
        // Refused before anything is readied (a dry run shows it in the plan).
        if !self.dry_run {
            policy::active_servers(&facts, self.allow_active_servers)?;
        }
        let (target, backed_up) = if self.dry_run {
            let stage = steps::stage(host, &facts, session, events, &self.to, None, None);
            (
                self.pinned_refusal(events.timed("stage", stage).await)?,
                false,
            )
        } else {
            // The snapshot needs the database's size beside it while the env is copied.
            let reserve = facts.db_path.as_deref().zip(facts.db_size);
            let stage = steps::stage(
                host,
                &facts,
                session,
                events,
                &self.to,
                Some(&self.holder.run),
                reserve,
            );
            // Both only read the serving hub's files and both can take long (pip and the index;
            // a large database): the database streams while pip works.
            let backup = steps::backup(host, &facts, session, events, &self.backup_dir);
            let (stage, backup) = (events.timed("stage", stage), events.timed("backup", backup));
            let (target, stored) = tokio::join!(stage, backup);
            if let Ok(stored) = &stored {
                record_backup(report, stored);
            }
            let target = self.pinned_refusal(target.map_err(|f| interrupted_at(events, f)))?;
            if let Err(failure) = stored {
                discard(host, session, &target.staged).await;
                return Err(interrupted_at(events, failure));
            }
            (target, true)
        };
        if let Err(failure) = before(events, "check") {
            discard(host, session, &target.staged).await;
            return Err(failure);
        }
        report.packages = target.install.clone();
        report.version_target = Some(target.version.clone());
        if policy::serves(&facts, &target.version) {
            let plan = UpgradePlan::unchanged(host, &facts, &target.version);
            return self
                .execute_under(host, session, events, &facts, plan, report, lock)
                .await;
        }
        let request = Request {
            backup_dir: &self.backup_dir,
            allow_active_servers: self.allow_active_servers,
            message: &self.message,
            grace: self.grace,
        };
        match UpgradePlan::build(host, &facts, &target, &request, backed_up) {
            Ok(plan) => {
                self.execute_under(host, session, events, &facts, plan, report, lock)
                    .await
            }
            Err(refusal) => {
                discard(host, session, &target.staged).await;
                Err(refusal)
            }
        }
    }

    /// A stage that failed on the release pinned from another host says so.
    fn pinned_refusal<T>(&self, staged: Result<T, StepFailure>) -> Result<T, StepFailure> {
        match &self.pinned {
            Some(pinned) => staged.map_err(|failure| pinned.refusal(failure)),
            None => staged,
        }
    }

    /// Walks `plan` (a dry run only records it), each step in its order. Until the stop, a
    /// failure removes what was staged; from the stop on, the cutover on the host owns it. Holds
    /// no host lock, so a cutover in `plan` is refused: [`HostJob::run`] walks a plan under it.
    pub async fn execute(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        facts: &HostFacts,
        plan: UpgradePlan,
        report: &mut UpgradeReport,
    ) -> Result<(), StepFailure> {
        self.execute_under(host, session, events, facts, plan, report, None)
            .await
    }

    /// [`UpgradeJob::execute`] under the run's host `lock` (`None`: a dry run, or no cutover).
    #[expect(
        clippy::too_many_arguments,
        reason = "the host's context, its facts, the plan, the report and the lock it runs under"
    )]
    async fn execute_under(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        facts: &HostFacts,
        plan: UpgradePlan,
        report: &mut UpgradeReport,
        lock: Option<&HostLock>,
    ) -> Result<(), StepFailure> {
        report.migrations = plan.migrations.clone().unwrap_or_default();
        report.unchanged = plan.steps.iter().all(|s| s.phase != Phase::Downtime);
        if report.unchanged {
            report.version_after = report.version_before.clone();
            report.revision_after = report.revision_before.clone();
            report.version_target = Some(plan.target.clone());
        }
        if self.dry_run {
            report.plan = Some(plan);
            return Ok(());
        }
        if let Some(summary) = upgrade_db_summary(facts, &plan) {
            events.summary(Step::UpgradeDb.name(), summary);
        }
        let mut staged = plan.steps.iter().find_map(|s| match &s.work {
            Work::Cutover(cutover) => Some(cutover.staged.clone()),
            _ => None,
        });
        for planned in &plan.steps {
            // Until the stop, an interrupted run starts no new step: the hub is left untouched.
            if staged.is_some()
                && let Err(failure) = before(events, planned.step)
            {
                if let Some(staged) = &staged {
                    discard(host, session, staged).await;
                }
                return Err(failure);
            }
            if matches!(planned.work, Work::Cutover(_)) {
                staged = None;
            }
            let done = match &planned.work {
                Work::Done | Work::InCutover => Ok(()),
                Work::Run(work) => {
                    let on = OnHost {
                        host,
                        facts,
                        session,
                        events,
                    };
                    // The cutover times its own steps, from its record; the job times the others.
                    let began = Instant::now();
                    let done = work.run(on).await;
                    events.timing(planned.step, began, done.is_ok());
                    done.map(|done| record(report, done))
                }
                Work::Cutover(cutover) => {
                    self.cutover(host, session, events, cutover, report, lock)
                        .await
                }
            };
            if let Err(failure) = done {
                if let Some(staged) = &staged {
                    discard(host, session, staged).await;
                    return Err(interrupted_at(events, failure));
                }
                return Err(failure);
            }
        }
        Ok(())
    }

    /// The downtime: the cutover on the host, followed to its end.
    async fn cutover(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        work: &CutoverWork,
        report: &mut UpgradeReport,
        lock: Option<&HostLock>,
    ) -> Result<(), StepFailure> {
        let Some(lock) = lock else {
            return Err(StepFailure {
                step: "stop",
                reason: "no host lock is held for this cutover: nothing was changed".to_owned(),
                ended: crate::runner::Ended::Failed,
            });
        };
        let cutover = Cutover {
            staged: &work.staged,
            db_path: &work.db_path,
            record: &work.record,
            version: &work.version,
            head: work.head.as_deref(),
            restart_version: work.restart_version.as_deref(),
            allow_active_servers: work.allow_active_servers,
            rollback: self.rollback,
            lock: crate::host_scripts::LockRef {
                path: &lock.path,
                run: &self.holder.run,
            },
        };
        let down = Instant::now();
        let mut way_back = WayBack::default();
        let done = steps::cutover(host, session, events, &cutover, &mut way_back).await;
        report.kept_db = way_back.kept_db;
        report.kept_db_sha256 = way_back.kept_sha256;
        report.by_hand = way_back.by_hand;
        let done = done?;
        report.downtime_seconds = Some(round(down.elapsed()));
        report.previous_env = done.previous_env;
        if let (Some(installed), Some(before)) = (&done.revisions, &report.revision_before) {
            report.migrations =
                policy::pending(installed, before, &work.version).unwrap_or_default();
        }
        report.revision_after = Some(done.revision);
        report.version_after = Some(work.version.clone());
        Ok(())
    }
}

/// Reports the cutover an earlier run left on the host unread (its controller was killed, or
/// exited at a second Ctrl-C), from its record: a cutover that ended upgraded lets this run carry
/// on (the facts show the target serving); one that rolled back, failed or left the hub down is
/// this run's outcome for the host, so a second downtime is never started before the operator
/// has seen why the first one failed. The record is removed once read; one without a result
/// (the cutover died) is kept, for the operator.
async fn earlier_cutover(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    facts: &HostFacts,
    text: &str,
    report: &mut UpgradeReport,
) -> Result<(), StepFailure> {
    let record = facts.cutover_record.as_deref().unwrap_or("its record");
    events.step(
        "record",
        format!("an earlier run's cutover left its record unread: {record}"),
    );
    let mut way_back = WayBack::default();
    let ended = steps::earlier_cutover(events, text, &mut way_back);
    // Only a cutover that did not end upgraded leaves its kept database for the report.
    if !matches!(ended, Some(Ok(_))) {
        report.kept_db = way_back.kept_db;
        report.kept_db_sha256 = way_back.kept_sha256;
        report.by_hand = way_back.by_hand;
    }
    let Some(ended) = ended else {
        return Err(policy::refused(format!(
            "an earlier run's cutover ended without a result (its record {record} is kept): the hub may be down; check it and read the record, remove the record, then run again"
        )));
    };
    steps::remove_record(host, session, record).await;
    ended.map(|_| ()).map_err(|failure| StepFailure {
        reason: format!(
            "in an earlier run whose controller went away (from the cutover's record): {}",
            failure.reason
        ),
        ..failure
    })
}

/// Refuses to begin `step` once the run was interrupted (Ctrl-C): used before every step up to
/// the stop, so an interrupted host ends with its hub untouched.
fn before(events: &HostEvents, step: &'static str) -> Result<(), StepFailure> {
    match events.interrupted() {
        Some(signal) => Err(StepFailure {
            step,
            reason: format!(
                "interrupted by {signal} before the stop: hub untouched, what was staged removed; run again to upgrade it"
            ),
            ended: Ended::Interrupted,
        }),
        None => Ok(()),
    }
}

/// A step before the stop that failed while the run was interrupted was most likely abandoned
/// for it (a backup stream): the host ended interrupted, the step's own words kept.
fn interrupted_at(events: &HostEvents, failure: StepFailure) -> StepFailure {
    match events.interrupted() {
        Some(signal) if failure.ended == Ended::Failed => StepFailure {
            reason: format!(
                "interrupted by {signal} before the stop ({}): hub untouched, what was staged removed; run again to upgrade it",
                failure.reason
            ),
            ended: Ended::Interrupted,
            ..failure
        },
        _ => failure,
    }
}

/// What `upgrade-db` will do, in the plan's numbers (`None` where the migrations are known only
/// once installed: conda).
fn upgrade_db_summary(facts: &HostFacts, plan: &UpgradePlan) -> Option<Summary> {
    plan.steps.iter().find(|s| s.is(Step::UpgradeDb))?;
    let migrations = plan.migrations.as_ref()?;
    let from = facts.db_revision.clone()?;
    Some(Summary::Migrations {
        to: migrations.last().cloned().unwrap_or_else(|| from.clone()),
        from,
        count: migrations.len(),
    })
}

/// Puts what a step leaves for the report in it.
fn record(report: &mut UpgradeReport, done: Done) {
    match done {
        Done::Nothing => {}
        Done::Archive(stored) => record_backup(report, &stored),
        Done::Singleuser(version) => report.singleuser_version_after = Some(version),
    }
}

/// Puts a verified backup in the report (the step said so as it ended).
fn record_backup(report: &mut UpgradeReport, stored: &archive::Stored) {
    report.archive = Some(stored.path.clone());
    report.archive_sha256 = Some(stored.received.sha256.to_string());
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

fn round(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}
