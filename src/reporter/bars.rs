//! Progress bars for an interactive terminal: one line per running host and an overall line.
//!
//! A host's line shows whether its hub serves or is **down** (with a clock since the stop), and
//! every step it runs right now with a few words each (stage and backup run side by side): never
//! a command line, which belongs in the per-host log and `-v`. The overall line counts hosts
//! done, failed, and down now. Finished hosts leave one line above the bars.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use indexmap::IndexMap;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::lines;
use crate::printer::Printer;
use crate::runner::{Event, Outcome, Stream, Summary};
use crate::step::{Phase, Step};

/// At most this many per-host bars are drawn at once, so a large fleet fits on a screen; the
/// overall bar still counts every host.
const MAX_HOST_BARS: usize = 12;

/// `wide_msg` cuts the message at the terminal's width: a bar that wrapped would take several
/// lines.
const SERVING: &str = "{spinner} {prefix:.bold} {wide_msg}";
/// The clock (`elapsed_precise`) is reset at the stop.
const DOWN: &str = "{spinner} {prefix:.bold} DOWN {elapsed_precise:.red.bold} {wide_msg}";

/// One host's line: what runs now, and whether its hub is down.
struct HostBar {
    bar: ProgressBar,
    /// The steps running now, in the order they began, each with its latest words.
    activities: IndexMap<&'static str, String>,
    /// What shows between two steps: the last one and how it ended.
    last: String,
    down: bool,
    /// What steps do in numbers, from typed data: shown instead of their words.
    summaries: HashMap<&'static str, Summary>,
}

impl HostBar {
    fn show(&self) {
        let message: Vec<String> = self
            .activities
            .iter()
            .map(|(step, detail)| match self.summaries.get(step) {
                Some(summary) => format!("{step} {summary}"),
                None => format!("{step} {detail}").trim_end().to_owned(),
            })
            .collect();
        if message.is_empty() {
            self.bar.set_message(self.last.clone());
        } else {
            self.bar.set_message(message.join(" | "));
        }
    }

    fn set_down(&mut self, down: bool) {
        if self.down == down {
            return;
        }
        self.down = down;
        self.bar.set_style(style(if down { DOWN } else { SERVING }));
        if down {
            self.bar.reset_elapsed();
        }
    }
}

/// Renders events as indicatif bars.
pub struct Bars {
    printer: Printer,
    multi: MultiProgress,
    overall: ProgressBar,
    hosts: HashMap<String, HostBar>,
    /// Hosts whose hub is down right now (bar or not).
    down: HashSet<String>,
    failed: u64,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
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
            down: HashSet::new(),
            failed: 0,
        }
    }

    /// `done 2, failed 1, down now 1`.
    fn count(&self) {
        let done = self.overall.position();
        let mut message = format!("done {done}, failed {}", self.failed);
        if !self.down.is_empty() {
            message.push_str(&format!(", DOWN NOW {}", self.down.len()));
        }
        self.overall.set_message(message);
    }

    /// Whether `step` means the hub is down from its start until the health check passes.
    fn marks_down(step: &str) -> bool {
        Step::ALL
            .iter()
            .any(|s| s.name() == step && s.phase() == Phase::Downtime)
    }

    /// Shows one event.
    pub fn handle(&mut self, event: &Event) {
        match event {
            Event::RunStarted { hosts } => {
                self.overall.set_length(*hosts as u64);
                self.count();
            }
            Event::HostStarted { host } => {
                if self.hosts.len() < MAX_HOST_BARS {
                    let bar = self
                        .multi
                        .insert_before(&self.overall, ProgressBar::new_spinner());
                    bar.set_style(style(SERVING));
                    bar.set_prefix(host.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    let host_bar = HostBar {
                        bar,
                        activities: IndexMap::new(),
                        last: String::new(),
                        down: false,
                        summaries: HashMap::new(),
                    };
                    self.hosts.insert(host.clone(), host_bar);
                }
            }
            Event::Step { host, step, detail } => {
                if Self::marks_down(step) && self.down.insert(host.clone()) {
                    self.count();
                }
                if let Some(host_bar) = self.hosts.get_mut(host) {
                    if Self::marks_down(step) {
                        host_bar.set_down(true);
                    }
                    host_bar.activities.insert(step, detail.clone());
                    host_bar.show();
                }
            }
            Event::Summary {
                host,
                step,
                summary,
            } => {
                if let Some(host_bar) = self.hosts.get_mut(host) {
                    host_bar.summaries.insert(step, summary.clone());
                    host_bar.show();
                }
            }
            Event::Progress {
                host,
                step,
                transfer,
            } => {
                if let Some(host_bar) = self.hosts.get_mut(host) {
                    host_bar.activities.insert(step, transfer.to_string());
                    host_bar.show();
                }
            }
            Event::StepTimed { host, timing } => {
                // The hub is back once its health check passed.
                if timing.step == Step::Health.name() && timing.ok {
                    if self.down.remove(host) {
                        self.count();
                    }
                    if let Some(host_bar) = self.hosts.get_mut(host) {
                        host_bar.set_down(false);
                    }
                }
                if let Some(host_bar) = self.hosts.get_mut(host) {
                    host_bar.activities.shift_remove(timing.step);
                    host_bar.last = match host_bar.summaries.get(timing.step) {
                        Some(summary) if timing.ok => format!("{} {summary}", timing.step),
                        _ => {
                            let ended = if timing.ok { "done" } else { "failed" };
                            format!("{} {ended}", timing.step)
                        }
                    };
                    host_bar.show();
                }
            }
            // In the host's log, and with `-v` in plain lines: never on a bar.
            Event::Command { .. } => {}
            Event::RunStopping { .. } => {
                if let Some(line) = lines::render(event, "") {
                    let _ = self.multi.println(line.trim_start());
                }
            }
            Event::Output { host, stream, line } => {
                let line = format!("{host} | {line}");
                // Suspend the bars so a result line is never torn by a redraw.
                let stdout = *stream == Stream::Stdout;
                self.multi
                    .suspend(|| self.printer.host_output(stdout, &line));
            }
            Event::HostFinished { host, outcome, .. } => {
                if let Some(host_bar) = self.hosts.remove(host) {
                    host_bar.bar.finish_and_clear();
                    self.multi.remove(&host_bar.bar);
                }
                if let Some(line) = lines::render(event, "") {
                    let _ = self.multi.println(line.trim_start());
                }
                // A hub that ends down stays counted down; any other end (upgraded, rolled back,
                // failed before its stop) has it serving.
                if !matches!(outcome, Outcome::Down { .. }) {
                    self.down.remove(host);
                }
                if !matches!(outcome, Outcome::Ok) {
                    self.failed += 1;
                }
                self.overall.inc(1);
                self.count();
            }
        }
    }

    /// Clears the bars before the recap is printed.
    pub fn finish(&mut self) {
        for (_, host_bar) in self.hosts.drain() {
            host_bar.bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}
