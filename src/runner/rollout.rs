//! How a run releases its hosts: in batches (`--serial`, `--canary`), within a failure budget
//! (`--max-fail`), until it is interrupted (Ctrl-C). Once the run stops, no new host starts;
//! hosts already running finish, and those in their cutover are followed to their end.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::{Board, FailureBudget, Interrupt, Serial};

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

    /// Why the gate is closed, if it is.
    pub(super) fn reason(&self) -> Option<StopReason> {
        self.reason.lock().ok().and_then(|r| r.clone())
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
}
