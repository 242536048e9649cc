//! `--max-fail`: how many failed hosts a run tolerates before no new host starts, with the
//! meaning of Ansible's `max_fail_percentage` and its rule without one (a batch that failed
//! whole stops the run). Rolled-back, down and unreachable hosts count as failed: their upgrade
//! did not happen.

use std::fmt;
use std::str::FromStr;

/// The failure budget of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailureBudget {
    /// No `--max-fail`: as Ansible, the run stops only when every host of a batch failed.
    #[default]
    WholeBatch,
    /// `--max-fail N`: the run tolerates N failed hosts in all; `0` stops at the first.
    Hosts(usize),
    /// `--max-fail N%`: as Ansible's `max_fail_percentage`, the run stops once more than N % of
    /// the hosts of a batch failed.
    Percent(u8),
}

impl FailureBudget {
    /// Whether the budget is spent, now that `batch_failed` of a batch of `batch_size` hosts and
    /// `run_failed` hosts of the whole run failed; `batch_done` says the batch has ended.
    pub fn is_spent(
        self,
        run_failed: usize,
        batch_failed: usize,
        batch_size: usize,
        batch_done: bool,
    ) -> bool {
        match self {
            Self::WholeBatch => batch_done && batch_size > 0 && batch_failed == batch_size,
            Self::Hosts(n) => run_failed > n,
            Self::Percent(p) => batch_failed * 100 > usize::from(p) * batch_size,
        }
    }
}

impl fmt::Display for FailureBudget {
    /// As the operator wrote it: `--max-fail 0`, or what the default does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WholeBatch => f.write_str("a whole batch failed"),
            Self::Hosts(n) => write!(f, "--max-fail {n}"),
            Self::Percent(p) => write!(f, "--max-fail {p}%"),
        }
    }
}

/// Why a `--max-fail` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a failure budget: give a number of hosts (`0` stops at the first failure) or a percentage of a batch, `0%` to `100%`"
)]
pub struct FailureBudgetError(String);

impl FromStr for FailureBudget {
    type Err = FailureBudgetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || FailureBudgetError(text.to_owned());
        match text.trim().strip_suffix('%') {
            Some(percent) => match percent.parse::<u8>() {
                Ok(p @ 0..=100) => Ok(Self::Percent(p)),
                _ => Err(refuse()),
            },
            None => text.trim().parse().map(Self::Hosts).map_err(|_| refuse()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_spent_as_ansible_spends_them() {
        let budget = |text: &str| text.parse::<FailureBudget>().unwrap();
        // (budget, run failed, batch failed, batch size, batch done) → spent
        let cases = [
            (budget("0"), 1, 1, 5, false, true),
            (budget("0"), 0, 0, 5, true, false),
            (budget("2"), 2, 1, 2, true, false),
            (budget("2"), 3, 1, 2, false, true),
            // Strictly more than the percentage of the batch.
            (budget("0%"), 1, 1, 4, false, true),
            (budget("25%"), 1, 1, 4, false, false),
            (budget("25%"), 2, 2, 4, false, true),
            (budget("50%"), 5, 1, 2, false, false),
            (budget("100%"), 4, 4, 4, true, false),
            // Without --max-fail: only a batch that failed whole, once it is done.
            (FailureBudget::WholeBatch, 1, 1, 1, true, true),
            (FailureBudget::WholeBatch, 1, 1, 2, false, false),
            (FailureBudget::WholeBatch, 2, 1, 2, true, false),
            (FailureBudget::WholeBatch, 2, 2, 2, false, false),
        ];
        for (budget, run, batch, size, done, spent) in cases {
            assert_eq!(
                budget.is_spent(run, batch, size, done),
                spent,
                "{budget}: {run} in the run, {batch} of {size} in the batch"
            );
        }
    }

    #[test]
    fn budgets_parse_and_say_themselves_as_written() {
        for text in ["0", "3", "0%", "20%", "100%"] {
            let budget: FailureBudget = text.parse().unwrap();
            assert_eq!(budget.to_string(), format!("--max-fail {text}"));
        }
        for bad in ["", "-1", "101%", "x", "1.5", "%"] {
            let error = bad.parse::<FailureBudget>().unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("`{bad}` is not a failure budget"))
            );
        }
    }
}
