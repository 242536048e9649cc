//! Reporters: the only code that renders events, as bars or plain lines, then the recap and the
//! JSON report.

mod bars;
mod lines;
mod recap;
mod summary;

pub use recap::{Counts, render as render_recap};
pub use summary::{SCHEMA_VERSION, Summary};

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
    pub fn start(printer: Printer) -> (SyncSender<Event>, Self) {
        let (tx, rx) = sync_channel(EVENT_BUFFER);
        let thread = std::thread::spawn(move || render_all(printer, rx));
        (tx, Self { thread })
    }

    /// Waits until every event has been rendered and the bars are cleared.
    pub fn finish(self) {
        let _ = self.thread.join();
    }
}

fn render_all(printer: Printer, rx: Receiver<Event>) {
    if printer.bars {
        let mut bars = bars::Bars::new(printer);
        for event in rx {
            bars.handle(&event);
        }
        bars.finish();
    } else {
        let mut lines = lines::Lines::new(printer);
        for event in rx {
            let progress = !matches!(event, Event::Output { .. });
            if printer.verbosity > Verbosity::Quiet || !progress {
                lines.handle(&event);
            }
        }
    }
}
