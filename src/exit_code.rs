//! hubfleet's exit codes, decided here and nowhere else (documented in the README).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every host ok |
//! | 1 | nothing ran: bad inventory, `--limit`, arguments or an internal error |
//! | 2 | some host failed, or was rolled back after a failure; `verify`: some archive has an error |
//! | 4 | some host was unreachable (connection, host key or authentication refused) |
//! | 8 | some hub is left down: its rollback could not complete, or `--no-rollback` |
//! | 16 | the run stopped early: some host was interrupted before its stop or never started |
//! | 128+N | a second signal N (130: Ctrl-C) exited at once |
//!
//! The codes add up: 6 is failed and unreachable, 10 failed and down, 18 failed and stopped.

use crate::runner::Counts;

/// Nothing ran.
pub const USAGE: u8 = 1;
/// Some host failed.
pub const FAILED: u8 = 2;
/// Some host was unreachable.
pub const UNREACHABLE: u8 = 4;
/// Some hub is left down and needs a hand.
pub const DOWN: u8 = 8;
/// The run stopped early (failure budget, Ctrl-C): some host was left alone, its hub untouched.
pub const STOPPED: u8 = 16;

/// A second signal exited at once: as a shell reports a process killed by it.
pub fn for_signal(signal: &str) -> u8 {
    let number = match signal {
        "SIGHUP" => 1,
        "SIGINT" => 2,
        _ => 15,
    };
    128 + number
}

/// The exit code of a run with these counts.
pub fn for_counts(counts: Counts) -> u8 {
    let mut code = 0;
    if counts.failed > 0 {
        code |= FAILED;
    }
    if counts.unreachable > 0 {
        code |= UNREACHABLE;
    }
    if counts.down > 0 {
        code |= DOWN;
    }
    if counts.interrupted + counts.not_started > 0 {
        code |= STOPPED;
    }
    code
}

/// The exit code of `hubfleet verify`, given how many archives have an error finding.
pub fn for_archives(bad: usize) -> u8 {
    if bad > 0 { FAILED } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_combine_failed_and_unreachable() {
        let c = |ok, failed, rolled_back, down, unreachable| {
            for_counts(Counts {
                ok,
                failed,
                rolled_back,
                down,
                unreachable,
                ..Counts::default()
            })
        };
        assert_eq!(
            [
                c(3, 0, 0, 0, 0),
                c(2, 1, 0, 0, 0),
                c(2, 1, 1, 0, 0),
                c(2, 0, 0, 0, 1),
                c(1, 1, 0, 0, 1),
                c(2, 0, 0, 1, 0),
                c(0, 1, 1, 1, 1),
            ],
            [0, 2, 2, 4, 6, 8, 14]
        );
        let stopped = |interrupted, not_started| Counts {
            failed: 1,
            interrupted,
            not_started,
            ..Counts::default()
        };
        assert_eq!(for_counts(stopped(0, 4)), 18);
        assert_eq!(for_counts(stopped(2, 0)), 18);
        assert_eq!(
            ["SIGINT", "SIGTERM", "SIGHUP"].map(for_signal),
            [130, 143, 129]
        );
    }
}
