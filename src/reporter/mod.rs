//! Reporters: the only code that renders events, as bars or plain lines, then the recap and the
//! JSON report.

mod bars;
mod host_logs;
mod lines;
mod recap;
mod recap_columns;
mod rollback_columns;
mod summary;
mod upgrade_columns;

/// The reports' path serializer, where it was first ([`crate::lossy_path::serialize`]).
pub use crate::lossy_path::serialize as lossy_path;
pub use host_logs::HostLogs;
pub use recap::render as render_recap;
pub use recap_columns::RecapColumns;
pub use summary::{Envelope, SCHEMA_VERSION, Summary};

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::printer::{Printer, Verbosity};
use crate::runner::Event;

/// Events waiting for the reporter at most; a host that produces faster waits (backpressure).
const EVENT_BUFFER: usize = 1024;

/// The reporter thread: rendering is synchronous and off the async runtime.
pub struct Reporter {
    thread: JoinHandle<()>,
}

impl Reporter {
    /// Starts the reporter; events sent to the returned sender are rendered until every sender
    /// is dropped.
    /// With `logs`, remote output goes to the per-host log files instead of the screen.
    pub fn start(printer: Printer, logs: Option<HostLogs>) -> (SyncSender<Event>, Self) {
        let (tx, rx) = sync_channel(EVENT_BUFFER);
        let thread = std::thread::spawn(move || render_all(printer, logs, rx));
        (tx, Self { thread })
    }

    /// Waits until every event has been rendered and the bars are cleared.
    pub fn finish(self) {
        let _ = self.thread.join();
    }
}

fn render_all(printer: Printer, mut logs: Option<HostLogs>, rx: Receiver<Event>) {
    let mut bars = printer.bars.then(|| bars::Bars::new(printer));
    let mut lines = lines::Lines::new(printer);
    for event in rx {
        let output = matches!(event, Event::Output { .. });
        if let Some(logs) = logs.as_mut() {
            logs.handle(&event);
            if output {
                continue;
            }
        }
        match bars.as_mut() {
            Some(bars) => bars.handle(&event),
            None if printer.verbosity > Verbosity::Quiet || output => lines.handle(&event),
            None => {}
        }
    }
    if let Some(bars) = bars.as_mut() {
        bars.finish();
    }
    if let Some(logs) = logs.as_mut() {
        logs.finish();
    }
}
