//! How a run releases its hosts: in batches (`--serial`, `--canary`), within a failure budget
//! (`--max-fail`), until it is interrupted (Ctrl-C). Once the run stops, no new host starts;
//! hosts already running finish, and those in their cutover are followed to their end.

use std::fmt;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

use super::{Board, Event, FailureBudget, Interrupt, Outcome, Serial};

/// The rules a run releases its hosts by.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// The batches: a batch starts only when the previous one is done and within the budget.
    pub serial: Serial,
    /// How many failed hosts the run tolerates.
    pub budget: FailureBudget,
    /// Ctrl-C, SIGTERM, SIGHUP.
    pub interrupt: Interrupt,
    /// Where each host is, for a second Ctrl-C's last words.
    pub board: Board,
}

impl Default for Rollout {
    /// Every host at once, the run never stopped early by failures of some hosts.
    fn default() -> Self {
        Self {
            serial: Serial::all_at_once(),
            budget: FailureBudget::default(),
            interrupt: Interrupt::default(),
            board: Board::default(),
        }
    }
}

/// Why a run stopped starting hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// More hosts failed than the budget tolerates.
    BudgetSpent {
        /// The budget.
        budget: FailureBudget,
        /// The host whose failure spent it.
        by: String,
    },
    /// A signal asked the run to stop.
    Interrupted {
        /// `SIGINT`, `SIGTERM` or `SIGHUP`.
        signal: &'static str,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BudgetSpent {
                budget: FailureBudget::WholeBatch,
                by,
            } => write!(
                f,
                "every host of a batch failed, the last {by} (`--max-fail` sets another budget)"
            ),
            Self::BudgetSpent { budget, by } => {
                write!(f, "the failure budget ({budget}) was spent by {by}")
            }
            Self::Interrupted { signal } => write!(f, "interrupted by {signal}"),
        }
    }
}

/// Closed once the run stops: no host starts after that. Clones share it; the first reason
/// stays.
#[derive(Debug, Clone, Default)]
pub(super) struct Gate {
    reason: Arc<Mutex<Option<StopReason>>>,
}

impl Gate {
    /// Closes the gate for `reason`; `true` if it was open.
    pub(super) fn close(&self, reason: StopReason) -> bool {
        let Ok(mut current) = self.reason.lock() else {
            return false;
        };
        let first = current.is_none();
        if first {
            *current = Some(reason);
        }
        first
    }

    /// Closes the gate for `reason` and, the first time, tells the reporters why no new host
    /// starts.
    pub(super) fn stop(&self, reason: StopReason, events: &SyncSender<Event>) {
        let text = reason.to_string();
        if self.close(reason) {
            let _ = events.send(Event::RunStopping { reason: text });
        }
    }

    /// Why the gate is closed, if it is.
    pub(super) fn reason(&self) -> Option<StopReason> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }
}

/// The failed hosts of a run and of its current batch, counted as each host ends (before its
/// slot is given back), so that the budget is spent before the next host could start.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    counts: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    run_failed: usize,
    batch_failed: usize,
    batch_size: usize,
    last_failed: Option<String>,
}

impl Tally {
    /// A batch of `size` hosts begins.
    pub(super) fn new_batch(&self, size: usize) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.batch_failed = 0;
            counts.batch_size = size;
            counts.last_failed = None;
        }
    }

    /// `host` ended with `outcome`: a failure may spend `budget`, which closes `gate`.
    pub(super) fn count(
        &self,
        host: &str,
        outcome: &Outcome,
        budget: FailureBudget,
        gate: &Gate,
        events: &SyncSender<Event>,
    ) {
        if !outcome.counts_as_failed() {
            return;
        }
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        counts.run_failed += 1;
        counts.batch_failed += 1;
        counts.last_failed = Some(host.to_owned());
        if budget.is_spent(
            counts.run_failed,
            counts.batch_failed,
            counts.batch_size,
            false,
        ) {
            let by = host.to_owned();
            gate.stop(StopReason::BudgetSpent { budget, by }, events);
        }
    }

    /// The batch has ended and hosts are left: a budget spent by the batch as a whole (every
    /// host of it failed, without `--max-fail`) closes `gate`.
    pub(super) fn batch_done(
        &self,
        budget: FailureBudget,
        gate: &Gate,
        events: &SyncSender<Event>,
    ) {
        let Ok(counts) = self.counts.lock() else {
            return;
        };
        if let Some(by) = counts.last_failed.clone()
            && budget.is_spent(
                counts.run_failed,
                counts.batch_failed,
                counts.batch_size,
                true,
            )
        {
            gate.stop(StopReason::BudgetSpent { budget, by }, events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_to_stop_stays_and_says_why() {
        let gate = Gate::default();
        assert_eq!(gate.reason(), None);
        let spent = StopReason::BudgetSpent {
            budget: FailureBudget::Hosts(0),
            by: "h1".to_owned(),
        };
        assert!(gate.close(spent.clone()));
        assert!(!gate.close(StopReason::Interrupted { signal: "SIGINT" }));
        assert_eq!(gate.reason(), Some(spent.clone()));
        assert_eq!(
            spent.to_string(),
            "the failure budget (--max-fail 0) was spent by h1"
        );
        let whole = StopReason::BudgetSpent {
            budget: FailureBudget::WholeBatch,
            by: "h2".to_owned(),
        };
        assert_eq!(
            whole.to_string(),
            "every host of a batch failed, the last h2 (`--max-fail` sets another budget)"
        );
        assert_eq!(
            StopReason::Interrupted { signal: "SIGTERM" }.to_string(),
            "interrupted by SIGTERM"
        );
    }

    #[test]
    fn failures_spend_the_budget_as_hosts_end_and_batches_close() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let failed = Outcome::RolledBack {
            step: "start".to_owned(),
            reason: "x".to_owned(),
        };
        // --max-fail 1: the second failed host spends it, whichever batch it is in.
        let (gate, tally) = (Gate::default(), Tally::default());
        let budget = FailureBudget::Hosts(1);
        tally.new_batch(1);
        tally.count("h1", &failed, budget, &gate, &tx);
        tally.batch_done(budget, &gate, &tx);
        assert_eq!(gate.reason(), None);
        tally.new_batch(2);
        tally.count("h2", &Outcome::Ok, budget, &gate, &tx);
        tally.count("h3", &failed, budget, &gate, &tx);
        let spent = StopReason::BudgetSpent {
            budget,
            by: "h3".to_owned(),
        };
        assert_eq!(gate.reason(), Some(spent));
        // Without --max-fail, only a batch that failed whole, once it is done.
        let (gate, tally) = (Gate::default(), Tally::default());
        let budget = FailureBudget::WholeBatch;
        tally.new_batch(2);
        tally.count("h1", &failed, budget, &gate, &tx);
        tally.count("h2", &failed, budget, &gate, &tx);
        assert_eq!(gate.reason(), None);
        tally.batch_done(budget, &gate, &tx);
        assert!(matches!(gate.reason(), Some(StopReason::BudgetSpent { by, .. }) if by == "h2"));
        drop(tx);
        let stopping: Vec<Event> = rx.iter().collect();
        assert_eq!(
            stopping.len(),
            2,
            "one line each time a run stops: {stopping:?}"
        );
    }
}
