//! Progress bars for an interactive terminal: one line per running host with its current step,
//! and an overall bar. Finished hosts leave one line above the bars.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::lines;
use crate::printer::Printer;
use crate::runner::{Event, Stream};

/// At most this many per-host bars are drawn at once, so a large fleet fits on a screen; the
/// overall bar still counts every host.
const MAX_HOST_BARS: usize = 12;

/// Renders events as indicatif bars.
pub struct Bars {
    printer: Printer,
    multi: MultiProgress,
    overall: ProgressBar,
    hosts: HashMap<String, ProgressBar>,
}

impl Bars {
    /// Bars drawn on stderr.
    pub fn new(printer: Printer) -> Self {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} hosts {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        // A bar in a `MultiProgress` is redrawn only when it changes or ticks: without a tick
        // the overall clock would stand at 00:00:00 until the first host finished.
        overall.enable_steady_tick(Duration::from_secs(1));
        Self {
            printer,
            multi,
            overall,
            hosts: HashMap::new(),
        }
    }

    /// Shows one event.
    pub fn handle(&mut self, event: &Event) {
        match event {
            Event::RunStarted { hosts } => self.overall.set_length(*hosts as u64),
            Event::HostStarted { host } => {
                if self.hosts.len() < MAX_HOST_BARS {
                    let bar = self
                        .multi
                        .insert_before(&self.overall, ProgressBar::new_spinner());
                    // `wide_msg` cuts the step's detail (a long command line) at the terminal's
                    // width: a bar that wrapped would take several lines.
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(host.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    self.hosts.insert(host.clone(), bar);
                }
            }
            Event::Step { host, step, detail } => {
                if let Some(bar) = self.hosts.get(host) {
                    bar.set_message(format!("{step} {detail}"));
                }
            }
            Event::Output { host, stream, line } => {
                let line = format!("{host} | {line}");
                // Suspend the bars so a result line is never torn by a redraw.
                self.multi.suspend(|| match stream {
                    Stream::Stdout => self.printer.out(&line),
                    Stream::Stderr => self.printer.err(&line),
                });
            }
            // In the host's log and the report, not on the screen.
            Event::StepTimed { .. } => {}
            Event::HostFinished { host, .. } => {
                if let Some(bar) = self.hosts.remove(host) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                if let Some(line) = lines::render(event, "") {
                    let _ = self.multi.println(line.trim_start());
                }
                self.overall.inc(1);
            }
        }
    }

    /// Clears the bars before the recap is printed.
    pub fn finish(&mut self) {
        for (_, bar) in self.hosts.drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}
