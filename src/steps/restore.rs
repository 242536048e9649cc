//! `hubfleet rollback` on one host: [`restore_check`] sends the archive back to its host, which
//! checks and extracts it and says what restoring it would lose and change, read-only; [`restore`]
//! puts it back, run detached like the cutover (`restore.py`, launched and followed through the
//! same record, so it completes if the controller goes away).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::detached::{Followed, Outcome, follow, launch, step_name};
use super::script::describe;
use crate::host_scripts::{LockRef, RestoreArgs, RestoreCheckArgs, ScriptArgs};
use crate::inventory::Host;
use crate::runner::{Ended, HostEvents, StepFailure};
use crate::ssh::{OutputSink, Session};

/// Rows of the live database that the archive's snapshot does not have: what a rollback loses.
/// `None` where a table is not in both (an older or newer schema).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Losses {
    /// Users created since the archive.
    pub users: Option<u64>,
    /// API tokens issued since.
    pub tokens: Option<u64>,
    /// Servers recorded since.
    pub servers: Option<u64>,
    /// The first few new users' names.
    pub new_users: Vec<String>,
}

impl Losses {
    /// `2 users (late-row, bob), 1 token, 0 servers`.
    pub fn describe(&self) -> String {
        let count = |n: Option<u64>, what: &str| match n {
            Some(1) => format!("1 {what}"),
            Some(n) => format!("{n} {what}s"),
            None => format!("? {what}s"),
        };
        let mut users = count(self.users, "user");
        if !self.new_users.is_empty() {
            users.push_str(&format!(" ({})", self.new_users.join(", ")));
        }
        format!(
            "{users}, {}, {} newer than the archive",
            count(self.tokens, "token"),
            count(self.servers, "server")
        )
    }
}

/// A live file that differs from the archive's copy.
#[derive(Debug, Clone, Deserialize)]
pub struct Differing {
    /// Where it lives.
    pub live: String,
    /// The extracted copy.
    pub archived: String,
    /// The copy's sha256, from the manifest.
    pub sha256: String,
}

/// The env an upgrade kept, `ENV.hubfleet-previous`, if there is one.
#[derive(Debug, Clone, Deserialize)]
pub struct PreviousEnv {
    /// Its path.
    pub path: String,
    /// Its jupyterhub, if it imports.
    pub version: Option<String>,
    /// Whether its alembic revisions include the archive's.
    pub knows_revision: bool,
}

/// What the host's check found.
#[derive(Debug, Clone, Deserialize)]
pub struct Inspection {
    /// Where the archive is extracted on the host (kept for the restore; `None` in a dry run).
    pub stage: Option<String>,
    /// What restoring it would lose.
    pub losses: Losses,
    /// The files that differ.
    pub differing: Vec<Differing>,
    /// `ENV.hubfleet-previous`.
    pub previous_env: Option<PreviousEnv>,
}

/// Sends `archive` to the host, which checks and extracts it and counts what restoring it would
/// lose (`args` says what to compare; with `args.keep` the extracted copy stays for [`restore`]).
pub async fn restore_check(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    archive: &Path,
    args: &RestoreCheckArgs<'_>,
) -> Result<Inspection, StepFailure> {
    let failure = |reason: String| StepFailure {
        step: "check",
        reason,
        ended: Ended::Failed,
    };
    events.step(
        "check",
        format!("send {} to the host and compare", archive.display()),
    );
    let file = tokio::fs::File::open(archive)
        .await
        .map_err(|e| failure(format!("cannot open `{}`: {e}", archive.display())))?;
    let command = args
        .command(super::hub_python(host))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .become_(host.hub.become_.clone());
    let (status, stdout, stderr) = session
        .exec_with_input(&command, file)
        .await
        .map_err(|e| failure(crate::error::one_line(&e, &e.hints())))?;
    if !status.success() {
        OutputSink::stderr(&mut events.output(), &stderr);
        let text = String::from_utf8_lossy(&stderr);
        let last = text.lines().rev().find(|l| !l.trim().is_empty());
        return Err(failure(format!(
            "{} ({})",
            last.unwrap_or("no output").trim(),
            describe(status)
        )));
    }
    serde_json::from_slice(&stdout).map_err(|e| {
        failure(format!(
            "the host's check printed something unexpected: {e}"
        ))
    })
}

/// What a rollback left for the report, however it ended.
#[derive(Debug, Default)]
pub struct Restored {
    /// The live database kept before it was replaced, and its sha256.
    pub kept: Option<(String, String)>,
    /// A hub left down: the commands that finish (or undo) the rollback by hand.
    pub by_hand: Vec<String>,
    /// The database's revision once restored.
    pub revision: Option<String>,
}

/// Puts the archive back on the host, detached, and follows it to its end. `lock`: the run's host
/// lock, handed to the restore as to a cutover, so that it stays held while the restore runs.
pub async fn restore(
    host: &Host,
    session: &Session,
    events: &HostEvents,
    args: RestoreArgs<'_>,
    lock: Option<LockRef<'_>>,
    restored: &mut Restored,
) -> Result<(), StepFailure> {
    let status = args.record.to_owned();
    let pid = launch(host, session, &status, args, lock).await?;
    let Followed {
        followed,
        step,
        result,
        kept,
        ..
    } = follow(host, session, events, &status, pid).await;
    restored.kept = kept;
    let failed = |step: &str, reason: String, ended: Ended| StepFailure {
        step: step_name(step),
        reason,
        ended,
    };
    match result {
        Some(Outcome::Ok { revision, .. }) => {
            restored.revision = Some(revision);
            Ok(())
        }
        Some(Outcome::Failed { step, reason } | Outcome::RolledBack { step, reason }) => {
            Err(failed(&step, reason, Ended::Failed))
        }
        Some(Outcome::Down {
            step,
            reason,
            state,
            by_hand,
        }) => {
            restored.by_hand = by_hand;
            Err(failed(
                &step,
                format!(
                    "{reason}; THE HUB IS DOWN: {state}; the commands that finish by hand are under the recap and in the report"
                ),
                Ended::Down,
            ))
        }
        None => Err(StepFailure {
            step,
            reason: format!(
                "following the rollback ended without its result ({}); the host carries on by itself (pid {pid}, its record in {status})",
                match followed {
                    Ok(status) => describe(status),
                    Err(e) => crate::error::one_line(&e, &e.hints()),
                }
            ),
            ended: Ended::Failed,
        }),
    }
}
