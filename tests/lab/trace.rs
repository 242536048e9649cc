//! `HUBFLEET_LAB_TRACE=1`: one stderr line per stage of bringing a lab up, with the time since
//! the start, to see where a slow lab spends it.

use std::time::Instant;

/// Times the stages of one lab start.
#[derive(Debug)]
pub struct Trace {
    start: Instant,
    on: bool,
}

impl Trace {
    /// Starts the clock; prints only with `HUBFLEET_LAB_TRACE=1`.
    pub fn start() -> Trace {
        let on = std::env::var_os("HUBFLEET_LAB_TRACE").is_some_and(|v| v == "1");
        Trace {
            start: Instant::now(),
            on,
        }
    }

    /// Reports that `stage` is done.
    #[expect(clippy::print_stderr, reason = "tracing is opt-in output for a human")]
    pub fn done(&self, stage: &str) {
        if self.on {
            eprintln!("lab: {:6.2} s {stage}", self.start.elapsed().as_secs_f64());
        }
    }
}
