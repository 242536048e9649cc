//! A host's handle on the event stream: what steps use to report progress and output.

use std::future::Future;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{Board, Event, Interrupt, StepTiming, Stream};
use crate::ssh::OutputSink;

/// Sends events about one host. Sending blocks when the reporter is behind (the channel is
/// bounded), which is the backpressure that keeps memory flat however chatty a host is.
#[derive(Debug, Clone)]
pub struct HostEvents {
    host: String,
    tx: SyncSender<Event>,
    /// The host's start: step timings count from it.
    started: Instant,
    /// Every step timed so far, shared by the clones.
    timings: Arc<Mutex<Vec<StepTiming>>>,
    /// Whether the run was asked to stop (Ctrl-C): jobs check it before each step that can
    /// still be left out.
    interrupt: Interrupt,
    /// Where the run's hosts are, for the last words of a second Ctrl-C.
    board: Option<Board>,
}

impl HostEvents {
    /// Events about `host`, sent to `tx`; the host starts now.
    pub fn new(host: &str, tx: SyncSender<Event>) -> Self {
        Self {
            host: host.to_owned(),
            tx,
            started: Instant::now(),
            timings: Arc::default(),
            interrupt: Interrupt::default(),
            board: None,
        }
    }

    /// These events, for a run that `interrupt` may stop and whose hosts `board` keeps.
    pub fn watched(self, interrupt: Interrupt, board: Board) -> Self {
        Self {
            interrupt,
            board: Some(board),
            ..self
        }
    }

    /// The signal that asked the run to stop, if one did: a job starts no new step before its
    /// stop once this is `Some`.
    pub fn interrupted(&self) -> Option<&'static str> {
        self.interrupt.signal()
    }

    /// The run's interrupt, for a step that waits and should stop waiting when asked.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Notes that this host's cutover runs on the host with its record at `record`: if the
    /// controller exits at once (a second Ctrl-C), it says where that record is.
    pub fn cutover_started(&self, record: &str) {
        if let Some(board) = &self.board {
            board.cutover(&self.host, record);
        }
    }

    /// Runs `step`'s future and records when it began and how long it took.
    pub async fn timed<T, E>(
        &self,
        step: &'static str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let began = Instant::now();
        let done = work.await;
        self.timing(step, began, done.is_ok());
        done
    }

    /// Records that `step` ran from `began` until now, and tells the reporters (the log).
    pub fn timing(&self, step: &'static str, began: Instant, ok: bool) {
        let timing = StepTiming {
            step,
            started: began.saturating_duration_since(self.started),
            took: began.elapsed(),
            ok,
        };
        if let Ok(mut timings) = self.timings.lock() {
            timings.push(timing.clone());
        }
        self.send(Event::StepTimed {
            host: self.host.clone(),
            timing,
        });
    }

    /// The steps timed so far, in the order they began.
    pub fn timings(&self) -> Vec<StepTiming> {
        let mut timings = self.timings.lock().map(|t| t.clone()).unwrap_or_default();
        timings.sort_by_key(|t| t.started);
        timings
    }

    /// The host's name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Sends an event, its secrets masked: every line the reporters show or log passes here.
    /// A reporter that has gone away (the run is ending) is not an error.
    pub fn send(&self, mut event: Event) {
        event.mask_secrets();
        let _ = self.tx.send(event);
    }

    /// Reports that the host entered `step`.
    pub fn step(&self, step: &'static str, detail: impl Into<String>) {
        let detail = detail.into();
        if let Some(board) = &self.board {
            board.step(&self.host, step, &crate::secrets::mask(&detail));
        }
        self.send(Event::Step {
            host: self.host.clone(),
            step,
            detail,
        });
    }

    /// Reports that `step` runs `command` (for the log and `-v`, never the bars).
    pub fn command(&self, step: &'static str, command: impl Into<String>) {
        self.send(Event::Command {
            host: self.host.clone(),
            step,
            command: command.into(),
        });
    }

    /// Reports what `step` does, in numbers.
    pub fn summary(&self, step: &'static str, summary: super::Summary) {
        self.send(Event::Summary {
            host: self.host.clone(),
            step,
            summary,
        });
    }

    /// Reports how far `step`'s transfer got.
    pub fn progress(&self, step: &'static str, transfer: super::Transfer) {
        self.send(Event::Progress {
            host: self.host.clone(),
            step,
            transfer,
        });
    }

    /// An [`OutputSink`] that turns a command's output into [`Event::Output`] lines.
    pub fn output(&self) -> LineSink<'_> {
        LineSink {
            events: self,
            partial: [Vec::new(), Vec::new()],
        }
    }
}

/// The longest line kept whole: a longer one (a minified JSON on stdout) is sent in pieces of
/// about this size, so memory stays bounded however long a line is.
const MAX_LINE: usize = 64 * 1024;

/// Splits output chunks into lines; a last line without a newline is sent on drop.
#[derive(Debug)]
pub struct LineSink<'a> {
    events: &'a HostEvents,
    partial: [Vec<u8>; 2],
}

impl LineSink<'_> {
    fn push(&mut self, stream: Stream, chunk: &[u8]) {
        // Only the new chunk is searched for newlines: a long line arriving in many chunks costs
        // its length, not its length squared.
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut self.partial[stream as usize]);
            line.extend_from_slice(&rest[..end]);
            self.emit(stream, &line);
            rest = &rest[end + 1..];
        }
        self.partial[stream as usize].extend_from_slice(rest);
        if self.partial[stream as usize].len() >= MAX_LINE {
            let piece = std::mem::take(&mut self.partial[stream as usize]);
            self.emit(stream, &piece);
        }
    }

    fn emit(&self, stream: Stream, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        // A host's escape sequences or carriage returns would move the cursor over other hosts'
        // lines and bars: control characters but tabs are shown as U+FFFD.
        let line: String = line
            .trim_end_matches('\r')
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect();
        self.events.send(Event::Output {
            host: self.events.host.clone(),
            stream,
            line,
        });
    }
}

impl OutputSink for LineSink<'_> {
    fn stdout(&mut self, chunk: &[u8]) {
        self.push(Stream::Stdout, chunk);
    }

    fn stderr(&mut self, chunk: &[u8]) {
        self.push(Stream::Stderr, chunk);
    }
}

impl Drop for LineSink<'_> {
    fn drop(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.partial[stream as usize]);
            if !rest.is_empty() {
                self.emit(stream, &rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(feed: impl FnOnce(&mut LineSink<'_>)) -> Vec<String> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1 << 16);
        let events = HostEvents::new("h1", tx);
        {
            let mut sink = events.output();
            feed(&mut sink);
        }
        drop(events);
        rx.iter()
            .filter_map(|e| match e {
                Event::Output { line, .. } => Some(line),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn timed_steps_are_kept_in_the_order_they_began_and_logged() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let events = HostEvents::new("h1", tx);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let early = std::time::Instant::now();
        runtime.block_on(async {
            let slow = events.timed("stage", async {
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                Ok::<(), ()>(())
            });
            let fast = events.timed("backup", async { Err::<(), ()>(()) });
            let _ = tokio::join!(slow, fast);
        });
        events.timing("facts", early, true);
        let timings = events.timings();
        let steps: Vec<_> = timings.iter().map(|t| (t.step, t.ok)).collect();
        assert_eq!(steps, [("facts", true), ("stage", true), ("backup", false)]);
        assert!(timings[1].took >= std::time::Duration::from_millis(30));
        drop(events);
        let timed = rx
            .iter()
            .filter(|e| matches!(e, Event::StepTimed { .. }))
            .count();
        assert_eq!(timed, 3);
    }

    #[test]
    fn a_line_longer_than_the_limit_comes_in_bounded_pieces() {
        let lines = lines_of(|sink| {
            for _ in 0..100 {
                sink.stdout(&[b'x'; 10_000]);
            }
            sink.stdout(b"\nnext\n");
        });
        assert_eq!(lines.iter().map(String::len).sum::<usize>(), 1_000_000 + 4);
        assert!(lines.iter().all(|l| l.len() < MAX_LINE + 10_000));
        assert_eq!(lines.last().unwrap(), "next");
    }

    #[test]
    fn escape_sequences_cannot_reach_the_terminal() {
        let lines = lines_of(|sink| sink.stdout(b"\x1b[2J\x1b[Hcleared\rover\ttab\r\n"));
        assert_eq!(lines, ["\u{FFFD}[2J\u{FFFD}[Hcleared\u{FFFD}over\ttab"]);
    }

    #[test]
    fn chunks_become_lines_and_the_last_partial_line_is_kept() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let events = HostEvents::new("h1", tx);
        {
            let mut sink = events.output();
            sink.stdout(b"hel");
            sink.stdout(b"lo\nwor");
            sink.stderr(b"oops\r\n");
            sink.stdout(b"ld");
        }
        drop(events);
        let lines: Vec<(Stream, String)> = rx
            .iter()
            .map(|e| match e {
                Event::Output { stream, line, .. } => (stream, line),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            lines,
            [
                (Stream::Stdout, "hello".to_owned()),
                (Stream::Stderr, "oops".to_owned()),
                (Stream::Stdout, "world".to_owned()),
            ]
        );
    }
}
