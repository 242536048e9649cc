//! hubfleet's exit codes, decided here and nowhere else (documented in the README).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every host ok |
//! | 1 | nothing ran: bad inventory, `--limit`, arguments or an internal error |
//! | 2 | some host failed, or was rolled back after a failure; `verify`: some archive has an error |
//! | 4 | some host was unreachable (connection, host key or authentication refused) |
//! | 8 | some hub is left down: its rollback could not complete, or `--no-rollback` |
//!
//! The codes add up: 6 is failed and unreachable, 10 failed and down, 14 all three.

use crate::runner::Counts;

/// Nothing ran.
pub const USAGE: u8 = 1;
/// Some host failed.
pub const FAILED: u8 = 2;
/// Some host was unreachable.
pub const UNREACHABLE: u8 = 4;
/// Some hub is left down and needs a hand.
pub const DOWN: u8 = 8;

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
    }
}
