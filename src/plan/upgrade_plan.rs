//! A host's upgrade as data: built once from the host, its facts and the staged target, then
//! executed by the upgrade job step by step, rendered by `--dry-run`, and carried whole by the
//! JSON report. What is shown is what runs: no decision is taken while executing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::policy;
use crate::facts::HostFacts;
use crate::facts::alembic;
use crate::inventory::Host;
use crate::ssh::RemoteCommand;
use crate::step::{Phase, Step};
use crate::step_failure::StepFailure;
use crate::steps::{self, SingleUser, Staged, StepWork, Target};

/// What the operator asked for, besides the target.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Where the archive goes (`DIR/HOST/TIMESTAMP.tar.gz`).
    pub backup_dir: &'a Path,
    /// `--allow-active-servers`.
    pub allow_active_servers: bool,
    /// `--message`, `{version}` not yet replaced.
    pub message: &'a str,
    /// `--grace`.
    pub grace: Duration,
}

/// A host's upgrade: where it starts, where it goes, and every step in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpgradePlan {
    /// JupyterHub installed now.
    pub version_before: Option<String>,
    /// The release the hub reaches (`--to latest` resolved).
    pub target: String,
    /// The migrations `upgrade-db` applies, oldest first; `None` where they are known only once
    /// the target is installed (conda).
    pub migrations: Option<Vec<String>>,
    /// Every package the installer installs or upgrades, `name==version`.
    pub packages: Vec<String>,
    /// The steps, in the order they run.
    pub steps: Vec<PlannedStep>,
}

/// One step of a plan: what it runs, when, and how it is undone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    /// Which step ([`Step::name`] for the steps of the enum).
    pub step: &'static str,
    /// Whether the hub serves, is down, or serves the new release meanwhile.
    pub phase: Phase,
    /// What it runs, every value resolved.
    pub action: String,
    /// What undoes it, or why nothing needs to.
    pub way_back: String,
    /// What the upgrade job executes for it.
    #[serde(skip)]
    pub work: Work,
}

impl PlannedStep {
    /// The step `work` on `host`, which the upgrade job runs.
    pub fn runs(host: &Host, work: impl StepWork + 'static) -> PlannedStep {
        PlannedStep {
            step: work.name(),
            phase: work.phase(),
            action: work.action(host),
            way_back: work.way_back(),
            work: Work::Run(Arc::new(work)),
        }
    }

    /// Whether this is `step` of the enum.
    pub fn is(&self, step: Step) -> bool {
        self.step == step.name() && self.phase == step.phase()
    }
}

/// What the upgrade job executes for a step.
#[derive(Debug, Clone)]
pub enum Work {
    /// Done already: its result is what the plan was made from (facts, check, stage, and a
    /// backup taken beside the stage).
    Done,
    /// A step the job runs itself, in the plan's order.
    Run(Arc<dyn StepWork>),
    /// The cutover, from the stop to the health check, run on the host by one process.
    Cutover(Box<CutoverWork>),
    /// Run by the cutover started at [`Step::Stop`].
    InCutover,
}

/// Two plans are equal when they would do the same: a step's work is compared by what it holds
/// (its `Debug`, every field of it), as a trait object has no `PartialEq`.
impl PartialEq for Work {
    fn eq(&self, other: &Work) -> bool {
        match (self, other) {
            (Work::Run(a), Work::Run(b)) => format!("{a:?}") == format!("{b:?}"),
            (Work::Cutover(a), Work::Cutover(b)) => a == b,
            (Work::Done, Work::Done) | (Work::InCutover, Work::InCutover) => true,
            _ => false,
        }
    }
}

/// What the cutover needs, decided when the plan is made.
#[derive(Debug, Clone, PartialEq)]
pub struct CutoverWork {
    /// The swap or offline install.
    pub staged: Staged,
    /// The hub's SQLite database.
    pub db_path: String,
    /// The cutover's record on the host, as the facts found its path.
    pub record: String,
    /// The release `/hub/api` must report at the end.
    pub version: String,
    /// The revision upgrade-db must reach; `None` where known only once installed (conda).
    pub head: Option<String>,
    /// The release the hub serves now, started again if the cutover stops it but changes nothing.
    pub restart_version: Option<String>,
    /// `--allow-active-servers`, checked again right before the stop.
    pub allow_active_servers: bool,
}

impl UpgradePlan {
    /// The plan of `host` to reach `target`, from its facts. `backed_up`: the verified backup was
    /// taken beside the stage. Refuses a database it cannot read or that the target does not
    /// know.
    pub fn build(
        host: &Host,
        facts: &HostFacts,
        target: &Target,
        request: &Request<'_>,
        backed_up: bool,
    ) -> Result<UpgradePlan, StepFailure> {
        let version = target.version.as_str();
        let (db_path, migrations) = policy::migrations(facts, &target.revisions, version)?;
        let record = policy::cutover_record(facts)?;
        let head = alembic::head(&target.revisions).map(str::to_owned);
        let mut plan = UpgradePlan::begin(
            facts,
            version,
            check_action(facts, request.allow_active_servers),
        );
        plan.migrations = (!target.revisions.is_empty()).then_some(migrations);
        plan.packages = target.install.clone();
        plan.push(
            Step::Stage,
            stage_action(host, target),
            "what was readied is removed if the upgrade stops before the stop",
            Work::Done,
        );
        let backup = steps::Backup {
            db_path: db_path.clone(),
            backup_dir: request.backup_dir.to_owned(),
        };
        let mut backup = PlannedStep::runs(host, backup);
        if backed_up {
            backup.work = Work::Done;
        }
        plan.steps.push(backup);
        // The steps before the stop, one line each: a step is a value of its file in `steps/`.
        if let (Staged::NextEnv { path, .. }, Some(head)) = (&target.staged, &head) {
            plan.run(
                host,
                steps::Rehearse {
                    next_env: path.clone(),
                    db_path: db_path.clone(),
                    head: head.clone(),
                },
            );
        }
        let singleuser = policy::singleuser_behind(host, facts, version);
        if let Some(env) = singleuser {
            plan.run(
                host,
                singleuser_work(env, version, facts, SingleUser::Check),
            );
        }
        if host.hub.notify.is_some() {
            plan.run(
                host,
                steps::Notify {
                    message: request.message.replace("{version}", version),
                    grace: request.grace,
                },
            );
        }
        plan.push(
            Step::Stop,
            format!(
                "{}, confirmed when {} is quiet and no process holds {db_path}; from here to health one detached process on the host runs the steps, its record {}",
                host.hub.stop,
                host.hub.health_url,
                record
            ),
            &format!(
                "if it stops the hub but nothing changes after, the hub is started again on its env; once stopped, {db_path} is copied to {} (fsynced, sha256 recorded; fails unchanged if the disk cannot hold it), the way back of every later step",
                steps::kept_database(&db_path)
            ),
            Work::Cutover(Box::new(CutoverWork {
                staged: target.staged.clone(),
                db_path: db_path.clone(),
                record,
                version: version.to_owned(),
                head,
                restart_version: facts.running_version.clone(),
                allow_active_servers: request.allow_active_servers,
            })),
        );
        match &target.staged {
            Staged::NextEnv {
                env,
                path,
                previous,
                replaces_previous,
                ..
            } => plan.push(
                Step::Swap,
                steps::swap_description(env, path, previous, *replaces_previous),
                &format!(
                    "automatic: on a later failure the host swaps {previous}, the env as it was, back in; {ROLLBACK}"
                ),
                Work::InCutover,
            ),
            Staged::InPlace => plan.push(
                Step::Install,
                steps::install_command(
                    host,
                    host.hub.installer,
                    &host.hub.env,
                    version,
                    steps::Source::Staged,
                )
                .to_string(),
                "none automatic: the previous packages are not kept on the host, so a failure from here leaves the hub DOWN with the commands to finish by hand (the database kept at the stop put back first)",
                Work::InCutover,
            ),
            Staged::Nothing => {}
        }
        plan.push(
            Step::UpgradeDb,
            format!(
                "{} (with the hub's environment, from {}, in {})",
                steps::upgrade_db_command(host),
                facts
                    .hub_environment
                    .as_ref()
                    .map_or("the login", |e| e.source.as_str()),
                facts
                    .hub_environment
                    .as_ref()
                    .map_or(host.hub.workdir.as_str(), |e| e.workdir.as_str()),
            ),
            &format!(
                "automatic (killed after {}s): the database kept at the stop is put back, verified by its sha256; {ROLLBACK}",
                host.hub.upgrade_db_timeout.as_secs()
            ),
            Work::InCutover,
        );
        plan.push(
            Step::Start,
            host.hub.start.clone(),
            &format!(
                "automatic: the hub is stopped ({}) and confirmed stopped, then {ROLLBACK_FROM_DB}",
                host.hub.stop
            ),
            Work::InCutover,
        );
        plan.push(
            Step::Health,
            format!(
                "{} reports {version} within {}s",
                host.hub.health_url,
                host.hub.start_timeout.as_secs()
            ),
            &format!("automatic: as for start, {ROLLBACK_FROM_DB}"),
            Work::InCutover,
        );
        if let Some(env) = singleuser {
            plan.run(
                host,
                singleuser_work(env, version, facts, SingleUser::Upgrade),
            );
        }
        Ok(plan)
    }

    /// The plan of a hub that already serves `version`: nothing to do but, maybe, its
    /// single-user env.
    pub fn unchanged(host: &Host, facts: &HostFacts, version: &str) -> UpgradePlan {
        let mut plan = UpgradePlan::begin(
            facts,
            version,
            format!("the hub already serves {version}: it is left untouched"),
        );
        plan.migrations = Some(Vec::new());
        if let Some(env) = policy::singleuser_behind(host, facts, version) {
            plan.run(
                host,
                singleuser_work(env, version, facts, SingleUser::Upgrade),
            );
        }
        plan
    }

    /// A plan to reach `version` that starts with the facts and the policy's `check`, both done.
    fn begin(facts: &HostFacts, version: &str, check: String) -> UpgradePlan {
        let mut plan = UpgradePlan {
            version_before: facts.jupyterhub_version.clone(),
            target: version.to_owned(),
            ..UpgradePlan::default()
        };
        plan.push(
            Step::Facts,
            facts_action(facts),
            NOTHING_CHANGED,
            Work::Done,
        );
        plan.push(Step::Check, check, NOTHING_CHANGED, Work::Done);
        plan
    }

    fn push(&mut self, step: Step, action: String, way_back: &str, work: Work) {
        self.steps.push(PlannedStep {
            step: step.name(),
            phase: step.phase(),
            action,
            way_back: way_back.to_owned(),
            work,
        });
    }

    /// Adds `work`, a step the upgrade job runs, at the end.
    fn run(&mut self, host: &Host, work: impl StepWork + 'static) {
        self.steps.push(PlannedStep::runs(host, work));
    }

    /// The plan as a dry run's recap prints it under the table: a header, then each step with
    /// its phase and its way back.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "target: jupyterhub {} (now {}); dry run: nothing was changed",
                self.target,
                self.version_before.as_deref().unwrap_or("-")
            ),
            format!(
                "pending migrations: {}",
                match self.migrations.as_deref() {
                    None => "read from the installed package (conda resolves it)".to_owned(),
                    Some([]) => "none".to_owned(),
                    Some(migrations) => migrations.join(" -> "),
                }
            ),
        ];
        if !self.packages.is_empty() {
            lines.push(format!("packages to install: {}", self.packages.join(" ")));
        }
        for planned in &self.steps {
            let phase = match planned.phase {
                Phase::Serving => "hub serving",
                Phase::Downtime => "HUB DOWN",
                Phase::Upgraded => "hub serving the target",
            };
            lines.push(format!("{} [{phase}]: {}", planned.step, planned.action));
            lines.push(format!("  way back: {}", planned.way_back));
        }
        lines
    }
}

/// The way back of a step that changes nothing.
const NOTHING_CHANGED: &str = "nothing to undo: nothing is changed";

/// How every automatic rollback ends (`cutover.py`), and what it becomes when it cannot.
const ROLLBACK: &str = "the hub is started and must report its old release at /hub/api (rolled back); if any of it fails the host is left DOWN with the commands to finish by hand (`--no-rollback`: left stopped)";

/// The automatic rollback from the database on.
const ROLLBACK_FROM_DB: &str = "the database kept at the stop is put back (sha256 verified), the env as it was swapped back, and the hub started on its old release (rolled back; DOWN with the commands to finish by hand if any of it fails)";

fn singleuser_work(
    env: &str,
    version: &str,
    facts: &HostFacts,
    mode: SingleUser,
) -> steps::Singleuser {
    steps::Singleuser {
        env: env.to_owned(),
        version: version.to_owned(),
        mode,
        before: facts.singleuser_version.clone(),
    }
}

fn facts_action(facts: &HostFacts) -> String {
    format!(
        "jupyterhub {}, database {} at {}, resolved with the environment of {}",
        facts.jupyterhub_version.as_deref().unwrap_or("-"),
        facts.db_path.as_deref().unwrap_or("-"),
        facts.db_revision_label(),
        facts
            .hub_environment
            .as_ref()
            .map_or("the login", |e| e.source.as_str()),
    )
}

fn check_action(facts: &HostFacts, allowed: bool) -> String {
    match facts.active_servers {
        Some(n) if n > 0 => format!(
            "{n} user server(s) running: {}; counted again right before the stop",
            if allowed {
                "allowed (--allow-active-servers)"
            } else {
                "the upgrade will refuse"
            }
        ),
        _ => "no user server running; counted again right before the stop".to_owned(),
    }
}

fn stage_action(host: &Host, target: &Target) -> String {
    match &target.staged {
        Staged::NextEnv {
            env, path, command, ..
        } => format!(
            "copy {env} to {path}, then {}",
            RemoteCommand::new(&command[0]).args(&command[1..])
        ),
        Staged::InPlace => format!(
            "download jupyterhub=={} and its dependencies into {}",
            target.version,
            steps::stage_dir(host)
        ),
        Staged::Nothing => "nothing to install".to_owned(),
    }
}

// The rollback plan's tests build their host the same way.
#[cfg(test)]
pub(super) mod tests;
