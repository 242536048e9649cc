//! hubfleet's exit codes, decided here and nowhere else (documented in the README).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every host ok |
//! | 1 | nothing ran: bad inventory, `--limit`, arguments or an internal error |
//! | 2 | some host failed (and every other host was reached); `verify`: some archive has an error |
//! | 4 | some host was unreachable (connection, host key or authentication refused) |
//! | 6 | both: some host failed and some host was unreachable |

use crate::reporter::Counts;

/// Nothing ran.
pub const USAGE: u8 = 1;
/// Some host failed.
pub const FAILED: u8 = 2;
/// Some host was unreachable.
pub const UNREACHABLE: u8 = 4;

/// The exit code of a run with these counts.
pub fn for_counts(counts: Counts) -> u8 {
    let mut code = 0;
    if counts.failed > 0 {
        code |= FAILED;
    }
    if counts.unreachable > 0 {
        code |= UNREACHABLE;
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
        let c = |ok, failed, unreachable| {
            for_counts(Counts {
                ok,
                failed,
                unreachable,
            })
        };
        assert_eq!(
            [c(3, 0, 0), c(2, 1, 0), c(2, 0, 1), c(1, 1, 1)],
            [0, 2, 4, 6]
        );
    }
}
