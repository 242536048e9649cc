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

use serde::Deserialize;

use crate::facts::alembic::Revisions;
use crate::host_scripts::{
    Change, CutoverArgs, FollowArgs, HubEnvironmentArgs, LaunchArgs, LockRef, ScriptArgs,
};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{ExitStatus, OutputSink, RemoteCommand, Session};

use super::Staged;

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

/// What following a detached script's record gave: how the follower ended, the step running
/// last, the result, and what the record said on the way.
pub(super) struct Followed {
    /// How `follow.py` ended (a lost connection is an error).
    pub(super) followed: Result<ExitStatus, crate::ssh::SshError>,
    /// The step the record named last.
    pub(super) step: &'static str,
    /// The result line, if it came.
    pub(super) result: Option<Outcome>,
    /// The target's alembic revisions, read once installed (conda).
    pub(super) revisions: Option<Revisions>,
    /// The database kept at the stop, and its sha256.
    pub(super) kept: Option<(String, String)>,
}

/// Follows the record at `status` of the detached script `pid` (the cutover, or a rollback's
/// restore), turning its lines into the host's events as they come; once its result is read, the
/// record is removed.
pub(super) async fn follow(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    status: &str,
    pid: u32,
) -> Followed {
    let follow = FollowArgs { status, pid }
        .command(super::hub_python(host))
        .become_(host.hub.become_.clone());
    let mut record = Record::new(events);
    let followed = session.exec(&follow, &mut record).await;
    record.step_ended(matches!(record.result, Some(Outcome::Ok { .. })));
    if record.result.is_some() {
        remove_record(host, session, status).await;
    }
    Followed {
        followed,
        step: record.step,
        result: record.result,
        revisions: record.revisions,
        kept: record.kept,
    }
}

/// Removes a record read to its result: it has served, and the next cutover refuses to start
/// beside a record nobody read (best effort: the next run reads it again otherwise).
pub async fn remove_record(host: &Host, session: &Session, record: &str) {
    let remove = RemoteCommand::new("rm")
        .args(["-f", "--", record])
        .become_(host.hub.become_.clone());
    let _ = session.exec_capture(&remove).await;
}

/// Starts `args`'s script detached on the host, its record at `status`; its pid.
pub(super) async fn launch<A: ScriptArgs>(
    host: &Host,
    session: &Session,
    status: &str,
    args: A,
    lock: Option<LockRef<'_>>,
) -> Result<u32, StepFailure> {
    let launch = LaunchArgs {
        record: status,
        script: A::SCRIPT.source,
        lock,
        args,
    };
    let launch = launch
        .command(super::hub_python(host))
        .become_(host.hub.become_.clone());
    // From here on the host may be stopping the hub: a failure says where to look.
    let unsure = |why: String| StepFailure {
        step: "stop",
        reason: format!(
            "{why}; the cutover may be running on the host: its record is {status}; run the upgrade again to see where it got"
        ),
        ended: Ended::Failed,
    };
    let (exit, stdout, stderr) = session
        .exec_capture(&launch)
        .await
        .map_err(|e| unsure(crate::error::one_line(&e, &e.hints())))?;
    let stdout = String::from_utf8_lossy(&stdout);
    match (exit, stdout.lines().last().map(|l| l.trim().parse())) {
        (ExitStatus::Code(0), Some(Ok(pid))) => Ok(pid),
        // Refused before anything was started (a cutover of an earlier run still runs).
        (ExitStatus::Code(3), _) => Err(StepFailure {
            step: "stop",
            reason: String::from_utf8_lossy(&stderr).trim().to_owned(),
            ended: Ended::Failed,
        }),
        _ => Err(unsure(format!(
            "starting the cutover gave {} and no pid: {}",
            super::describe(exit),
            String::from_utf8_lossy(&stderr).trim()
        ))),
    }
}

/// The result line of a detached script's record.
#[derive(Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub(super) enum Outcome {
    Ok {
        previous: Option<String>,
        revision: String,
    },
    Failed {
        step: String,
        reason: String,
    },
    #[serde(rename = "rolled-back")]
    RolledBack {
        step: String,
        reason: String,
    },
    Down {
        step: String,
        reason: String,
        state: String,
        by_hand: Vec<String>,
    },
}

/// One line of the record.
#[derive(Deserialize)]
struct Line {
    step: Option<String>,
    text: Option<String>,
    output: Option<String>,
    revisions: Option<Revisions>,
    result: Option<String>,
    kept: Option<String>,
    sha256: Option<String>,
}

/// The step names the cutover reports, as the runner's events name them: a name the record
/// does not know (a newer `cutover.py` than this controller) is reported as `cutover`.
pub(super) fn step_name(step: &str) -> &'static str {
    // The rollback is not a step of the plan: it is what the downtime's steps do when one fails.
    if step == "rollback" {
        return "rollback";
    }
    crate::step::Step::of_cutover(step).map_or("cutover", crate::step::Step::name)
}

/// What the display says of a cutover step while it runs: the step's own description; `None`
/// for lines that are themselves the account (the rollback's, or a step this controller does
/// not know), shown as they come.
fn words(step: &str) -> Option<&'static str> {
    crate::step::Step::of_cutover(step).map(crate::step::Step::description)
}

/// Turns the record's lines into the host's events as they arrive.
struct Record<'a> {
    events: &'a HostEvents,
    partial: Vec<u8>,
    /// The step running now, named in a failure to follow.
    step: &'static str,
    /// When the step running now began, as its first line arrived (the record streams live).
    began: Option<std::time::Instant>,
    result: Option<Outcome>,
    revisions: Option<Revisions>,
    /// The database kept at the stop, and its sha256.
    kept: Option<(String, String)>,
    /// Whether the record is read after its cutover ended (an earlier run's), not followed live.
    replay: bool,
}

impl<'a> Record<'a> {
    /// A record read from its first line, its events sent to `events`.
    fn new(events: &'a HostEvents) -> Self {
        Self {
            events,
            partial: Vec::new(),
            step: "stop",
            began: None,
            result: None,
            revisions: None,
            kept: None,
            replay: false,
        }
    }

    /// Times the step running now, if any, as ended.
    fn step_ended(&mut self, ok: bool) {
        if let Some(began) = self.began.take() {
            self.events.timing(self.step, began, ok);
        }
    }

    fn line(&mut self, raw: &[u8]) {
        let Ok(line) = serde_json::from_slice::<Line>(raw) else {
            // Not a record: the cutover's Python itself complaining.
            let mut output = self.events.output();
            output.stderr(raw);
            output.stderr(b"\n");
            return;
        };
        if line.result.is_some() {
            self.result = serde_json::from_slice(raw).ok();
        } else if let (Some(step), Some(text)) = (&line.step, line.text) {
            let step = step_name(step);
            // An earlier run's cutover, read afterwards: its lines are told as that record's,
            // not as steps this run takes.
            if self.replay {
                self.events.step("record", format!("{step}: {text}"));
                self.step = step;
                return;
            }
            let new_step = self.began.is_none() || step != self.step;
            if new_step {
                self.step_ended(true);
                self.began = Some(std::time::Instant::now());
            }
            // What the host runs goes to the log, the display gets a few words per step; the
            // rollback's lines are its account, shown as they are.
            match words(step) {
                Some(words) => {
                    self.events.command(step, text);
                    if new_step {
                        self.events.step(step, words);
                    }
                }
                None => self.events.step(step, text),
            }
            self.step = step;
        } else if let Some(output) = line.output {
            let mut sink = self.events.output();
            sink.stdout(output.as_bytes());
            sink.stdout(b"\n");
        } else if line.revisions.is_some() {
            self.revisions = line.revisions;
        } else if let (Some(kept), Some(sha256)) = (line.kept, line.sha256) {
            self.kept = Some((kept, sha256));
        }
    }
}

impl OutputSink for Record<'_> {
    fn stdout(&mut self, chunk: &[u8]) {
        self.partial.extend_from_slice(chunk);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.partial.drain(..=end).collect();
            self.line(&raw[..end]);
        }
    }

    fn stderr(&mut self, chunk: &[u8]) {
        let mut output = self.events.output();
        output.stderr(chunk);
    }
}
