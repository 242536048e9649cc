//! Steps `stop`, `swap` or `install`, `upgrade-db`, `start` and `health`: the downtime, run on
//! the host by one detached process (`cutover.py`) that finishes even if the controller's
//! connection drops, while the controller follows its record and reports each step as usual.
//!
//! The record is a file of JSON lines beside the database ([`Cutover::record`]); the controller
//! removes it once it has the result, so a record left on a host is the trace of a cutover whose
//! controller went away: the next run reads it and reports how that cutover ended
//! ([`earlier_cutover`]) before it removes it, and the launcher refuses to start beside it.
//!
//! Once the stop is confirmed the cutover keeps the database as it is ([`kept_database`]), and a
//! failure after anything changed is rolled back on the host; the result says how the host ended:
//! upgraded, rolled back, or down (with the commands that finish by hand).

use crate::facts::alembic::Revisions;
use crate::host_scripts::{Change, CutoverArgs, HubEnvironmentArgs, LockRef};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{ExitStatus, OutputSink, RemoteCommand, Session};

use super::Staged;
use super::detached::{Followed, Outcome, Record, follow, launch, step_name};

/// The cutover of one host: what changes, and what must hold afterwards.
#[derive(Debug, Clone)]
pub struct Cutover<'a> {
    /// What takes the old release's place: the env `stage` readied is swapped in, or the
    /// packages it downloaded are installed.
    pub staged: &'a Staged,
    /// The hub's SQLite database: no process may have it open once the hub is stopped.
    pub db_path: &'a str,
    /// The cutover's record, beside the database: where `gather.py` said (`cutover_record.py`
    /// makes the path, and nothing else does).
    pub record: &'a str,
    /// The release `/hub/api` must report at the end.
    pub version: &'a str,
    /// The revision upgrade-db must reach; `None` where it is known only once installed (conda).
    pub head: Option<&'a str>,
    /// The release the hub serves now: if the cutover stops it but changes nothing, it is
    /// started again on it.
    pub restart_version: Option<&'a str>,
    /// Whether the hub may be stopped with user servers running: checked again right before
    /// the stop, since users may have started servers while the upgrade got ready.
    pub allow_active_servers: bool,
    /// Whether a failure after the stop is rolled back (`--no-rollback` leaves it stopped).
    pub rollback: bool,
    /// The run's host lock, handed to the cutover; its run token is the one the staged env must
    /// carry.
    pub lock: LockRef<'a>,
}

/// Where the cutover keeps the database as it was at the stop: beside it, so on the same
/// filesystem (the copy is cheap and its rename back is atomic).
pub fn kept_database(db_path: &str) -> String {
    format!("{db_path}.hubfleet-at-stop")
}

/// What a cutover leaves for the report, however it ended.
#[derive(Debug, Default)]
pub struct WayBack {
    /// The database as it was at the stop, kept beside it (removed once the target serves).
    pub kept_db: Option<String>,
    /// Its sha256, as the cutover recorded it right after the copy.
    pub kept_sha256: Option<String>,
    /// A hub left down: the commands that finish the way back by hand, in order.
    pub by_hand: Vec<String>,
}

/// How a cutover ended well.
#[derive(Debug, Default)]
pub struct CutoverDone {
    /// Where the env as it was is kept (a swap).
    pub previous_env: Option<String>,
    /// The database's revision after upgrade-db.
    pub revision: String,
    /// The target's alembic revisions, read once it was installed (conda).
    pub revisions: Option<Revisions>,
}

/// The swap, as the plan and the progress line say it.
pub fn swap_description(env: &str, next: &str, previous: &str, replaces_previous: bool) -> String {
    // Plain ASCII: an arrow like ⇄ has an ambiguous width, and the progress bars would miscount it.
    let replacing = if replaces_previous {
        " (replacing the env an earlier upgrade kept there)"
    } else {
        ""
    };
    format!("exchange {env} with {next}; the env as it was is kept at {previous}{replacing}")
}

/// Starts the cutover on the host, detached, and follows it to its result; what it kept and what
/// is left to do by hand go to `way_back`.
pub async fn cutover(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    cutover: &Cutover<'_>,
    way_back: &mut WayBack,
) -> Result<CutoverDone, StepFailure> {
    let status = cutover.record;
    let line = |step: &'static str, command: RemoteCommand| {
        command.to_command_line().map_err(|e| StepFailure {
            step,
            reason: e.to_string(),
            ended: Ended::Failed,
        })
    };
    let change = match cutover.staged {
        Staged::NextEnv {
            env,
            path,
            previous,
            replaces_previous,
            ..
        } => Change::Swap {
            env,
            next: path,
            previous,
            replaces_previous: *replaces_previous,
            text: swap_description(env, path, previous, *replaces_previous),
            token: cutover.lock.run,
        },
        Staged::InPlace => Change::Install {
            command: line(
                "install",
                super::install_command(
                    host,
                    host.hub.installer,
                    &host.hub.env,
                    cutover.version,
                    super::Source::Staged,
                ),
            )?,
            downloads: super::stage_dir(host),
        },
        Staged::Nothing => Change::Nothing,
    };
    let args = CutoverArgs {
        record: status,
        stop: &host.hub.stop,
        stop_timeout: host.hub.stop_timeout.as_secs(),
        start: &host.hub.start,
        start_timeout: host.hub.start_timeout.as_secs(),
        url: &host.hub.health_url,
        db: cutover.db_path,
        version: cutover.version,
        head: cutover.head,
        restart_version: cutover.restart_version,
        allow_active_servers: cutover.allow_active_servers,
        env_python: super::hub_python(host),
        hub: HubEnvironmentArgs::of(host),
        upgrade_db: line("upgrade-db", super::upgrade_db_command(host))?,
        upgrade_db_timeout: host.hub.upgrade_db_timeout.as_secs(),
        kept_db: kept_database(cutover.db_path),
        rollback: cutover.rollback,
        reinstall_previous: cutover.restart_version.map(|previous| {
            super::install_command(
                host,
                host.hub.installer,
                &host.hub.env,
                previous,
                super::Source::Index,
            )
            .become_(host.hub.become_.clone())
            .to_string()
        }),
        change,
        lock: cutover.lock,
    };
    let pid = launch(host, session, status, args, Some(cutover.lock)).await?;
    events.cutover_started(status);
    let Followed {
        followed,
        step,
        result,
        revisions,
        kept,
    } = follow(host, session, events, status, pid).await;
    if let Some((path, sha256)) = kept {
        way_back.kept_db = Some(path);
        way_back.kept_sha256 = Some(sha256);
    }
    let lost = |why: String| StepFailure {
        step,
        reason: format!(
            "{why}; the host carries on by itself (pid {pid}, its record in {status}): run the upgrade again to see where it got"
        ),
        ended: Ended::Failed,
    };
    if let Some(ended) = ended(result, revisions, way_back) {
        return ended;
    }
    match followed {
        Err(e) => Err(lost(format!(
            "lost the connection during the cutover: {}",
            crate::error::one_line(&e, &e.hints())
        ))),
        Ok(ExitStatus::Code(3)) => Err(StepFailure {
            step,
            reason: format!(
                "the cutover on the host (pid {pid}) ended without a result: see its record in {status}"
            ),
            ended: Ended::Failed,
        }),
        Ok(status) => Err(lost(format!(
            "following the cutover ended without its result ({})",
            super::describe(status)
        ))),
    }
}

/// How a cutover ended, from the result its record holds; `None` without one.
fn ended(
    result: Option<Outcome>,
    revisions: Option<Revisions>,
    way_back: &mut WayBack,
) -> Option<Result<CutoverDone, StepFailure>> {
    Some(match result? {
        Outcome::Ok { previous, revision } => Ok(CutoverDone {
            previous_env: previous,
            revision,
            revisions,
        }),
        Outcome::Failed { step, reason } => Err(StepFailure {
            step: step_name(&step),
            reason,
            ended: Ended::Failed,
        }),
        Outcome::RolledBack { step, reason } => Err(StepFailure {
            step: step_name(&step),
            reason,
            ended: Ended::RolledBack,
        }),
        Outcome::Down {
            step,
            reason,
            state,
            by_hand,
        } => {
            way_back.by_hand = by_hand;
            Err(StepFailure {
                step: step_name(&step),
                reason: format!(
                    "{reason}; THE HUB IS DOWN: {state}; the commands that finish by hand are under the recap and in the report"
                ),
                ended: Ended::Down,
            })
        }
    })
}

/// The record of an earlier cutover that no controller read to its end (its controller was
/// killed, lost, or exited at a second Ctrl-C), as the facts found it beside the database: its
/// lines are reported as they were recorded, and how it ended is returned (`None`: it holds no
/// result, the cutover died without one). The caller removes the record only once it is read.
pub fn earlier_cutover(
    events: &HostEvents,
    text: &str,
    way_back: &mut WayBack,
) -> Option<Result<CutoverDone, StepFailure>> {
    let mut record = Record {
        replay: true,
        ..Record::new(events)
    };
    record.stdout(text.as_bytes());
    record.stdout(b"\n");
    let Record {
        result,
        revisions,
        kept,
        ..
    } = record;
    if let Some((path, sha256)) = kept {
        way_back.kept_db = Some(path);
        way_back.kept_sha256 = Some(sha256);
    }
    ended(result, revisions, way_back)
}
