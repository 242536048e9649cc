//! How many hosts ended each way: what the exit code and the recap's last line are computed from.

use super::{HostResult, Outcome};

/// Counts of outcomes in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Hosts that ended ok.
    pub ok: usize,
    /// Hosts reached on which a step failed, rolled back ones included.
    pub failed: usize,
    /// Of the failed hosts, those the host rolled back: the old release serves again.
    pub rolled_back: usize,
    /// Hosts left down: a rollback that could not complete, or `--no-rollback`.
    pub down: usize,
    /// Hosts not reached (no connection, refused host key, no accepted key).
    pub unreachable: usize,
    /// Hosts the run stopped before their stop (Ctrl-C): their hubs untouched.
    #[serde(skip_serializing_if = "is_zero")]
    pub interrupted: usize,
    /// Hosts the run never started: its failure budget was spent, or it was interrupted.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_started: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Counts {
    /// Counts the outcomes of `results`.
    pub fn of<R>(results: &[HostResult<R>]) -> Self {
        let mut counts = Self::default();
        for result in results {
            match result.outcome {
                Outcome::Ok => counts.ok += 1,
                Outcome::Failed { .. } => counts.failed += 1,
                Outcome::RolledBack { .. } => {
                    counts.failed += 1;
                    counts.rolled_back += 1;
                }
                Outcome::Down { .. } => counts.down += 1,
                Outcome::Unreachable { .. } => counts.unreachable += 1,
                Outcome::Interrupted { .. } => counts.interrupted += 1,
                Outcome::NotStarted { .. } => counts.not_started += 1,
            }
        }
        counts
    }
}
