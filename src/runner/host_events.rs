//! A host's handle on the event stream: what steps use to report progress and output.

use std::sync::mpsc::SyncSender;

use super::{Event, Stream};
use crate::ssh::OutputSink;

/// Sends events about one host. Sending blocks when the reporter is behind (the channel is
/// bounded), which is the backpressure that keeps memory flat however chatty a host is.
#[derive(Debug, Clone)]
pub struct HostEvents {
    host: String,
    tx: SyncSender<Event>,
}

impl HostEvents {
    /// Events about `host`, sent to `tx`.
    pub fn new(host: &str, tx: SyncSender<Event>) -> Self {
        Self {
            host: host.to_owned(),
            tx,
        }
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
        self.send(Event::Step {
            host: self.host.clone(),
            step,
            detail: detail.into(),
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

/// Splits output chunks into lines; a last line without a newline is sent on drop.
#[derive(Debug)]
pub struct LineSink<'a> {
    events: &'a HostEvents,
    partial: [Vec<u8>; 2],
}

impl LineSink<'_> {
    fn push(&mut self, stream: Stream, chunk: &[u8]) {
        self.partial[stream as usize].extend_from_slice(chunk);
        while let Some(end) = self.partial[stream as usize]
            .iter()
            .position(|b| *b == b'\n')
        {
            let line: Vec<u8> = self.partial[stream as usize].drain(..=end).collect();
            self.emit(stream, &line[..end]);
        }
    }

    fn emit(&self, stream: Stream, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        self.events.send(Event::Output {
            host: self.events.host.clone(),
            stream,
            line: line.trim_end_matches('\r').to_owned(),
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
