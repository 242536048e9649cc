//! A script run detached on the host (the cutover, a rollback's restore): started by
//! `launch.py` in a session of its own, so that it finishes even if the controller's connection
//! drops, its record (JSON lines beside the database) followed by `follow.py` and turned into the
//! host's events as they come. Once the result is read, the record is removed.

use serde::Deserialize;

use crate::facts::alembic::Revisions;
use crate::host_scripts::{FollowArgs, LaunchArgs, LockRef, ScriptArgs};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{ExitStatus, OutputSink, RemoteCommand, Session};

use super::script::{describe, hub_python};

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
        .command(hub_python(host))
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
        .command(hub_python(host))
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
            describe(exit),
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
pub(super) struct Record<'a> {
    pub(super) events: &'a HostEvents,
    pub(super) partial: Vec<u8>,
    /// The step running now, named in a failure to follow.
    pub(super) step: &'static str,
    /// When the step running now began, as its first line arrived (the record streams live).
    pub(super) began: Option<std::time::Instant>,
    pub(super) result: Option<Outcome>,
    pub(super) revisions: Option<Revisions>,
    /// The database kept at the stop, and its sha256.
    pub(super) kept: Option<(String, String)>,
    /// Whether the record is read after its cutover ended (an earlier run's), not followed live.
    pub(super) replay: bool,
}

impl<'a> Record<'a> {
    /// A record read from its first line, its events sent to `events`.
    pub(super) fn new(events: &'a HostEvents) -> Self {
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
