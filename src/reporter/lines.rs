//! Plain progress lines, for logs and pipes: one timestamped line per host start, step and
//! finish, no escape codes.

use crate::printer::Printer;
use crate::runner::{Event, Outcome, Stream};

/// Renders events as plain lines.
#[derive(Debug)]
pub struct Lines {
    printer: Printer,
}

impl Lines {
    /// Lines through `printer`.
    pub fn new(printer: Printer) -> Self {
        Self { printer }
    }

    /// Shows one event.
    pub fn handle(&mut self, event: &Event) {
        if let Some(line) = render(event, &timestamp()) {
            match event {
                Event::Output {
                    stream: Stream::Stdout,
                    ..
                } => self.printer.out(&line),
                _ => self.printer.err(&line),
            }
        }
    }
}

fn timestamp() -> String {
    jiff::ZonedDateTime::now().strftime("%H:%M:%S").to_string()
}

/// The line for an event, if it has one. Output lines carry no timestamp: they are results.
pub fn render(event: &Event, time: &str) -> Option<String> {
    match event {
        Event::RunStarted { hosts } => Some(format!("{time} run started on {hosts} hosts")),
        Event::HostStarted { .. } | Event::StepTimed { .. } => None,
        Event::Step { host, step, detail } => Some(format!("{time} {host} {step} {detail}")),
        Event::Output { host, line, .. } => Some(format!("{host} | {line}")),
        Event::HostFinished {
            host,
            outcome,
            elapsed,
        } => Some(match outcome {
            Outcome::Ok => format!("{time} {host} ok ({:.1}s)", elapsed.as_secs_f64()),
            Outcome::Failed { step, reason } => {
                format!("{time} {host} failed at {step}: {reason}")
            }
            Outcome::RolledBack { step, reason } => {
                format!("{time} {host} rolled back after {step} failed: {reason}")
            }
            Outcome::Down { step, reason } => {
                format!("{time} {host} DOWN after {step} failed: {reason}")
            }
            Outcome::Unreachable { reason, .. } => {
                format!("{time} {host} {}: {reason}", outcome.label())
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn lines_are_plain_and_name_the_host() {
        let events = [
            Event::RunStarted { hosts: 2 },
            Event::Step {
                host: "h1".into(),
                step: "connect",
                detail: "root@127.0.0.1:22".into(),
            },
            Event::Output {
                host: "h1".into(),
                stream: Stream::Stdout,
                line: "hello".into(),
            },
            Event::HostFinished {
                host: "h1".into(),
                outcome: Outcome::Ok,
                elapsed: Duration::from_millis(1234),
            },
            Event::HostFinished {
                host: "h2".into(),
                outcome: Outcome::Failed {
                    step: "exec".into(),
                    reason: "`false` exited with code 1".into(),
                },
                elapsed: Duration::from_millis(5),
            },
            Event::HostFinished {
                host: "h3".into(),
                outcome: Outcome::RolledBack {
                    step: "start".into(),
                    reason: "authenticator refuses 6.1.1 (exit code 1)".into(),
                },
                elapsed: Duration::from_millis(5),
            },
            Event::HostFinished {
                host: "h4".into(),
                outcome: Outcome::Down {
                    step: "start".into(),
                    reason: "authenticator refuses 6.1.1 (exit code 1); THE HUB IS DOWN: …".into(),
                },
                elapsed: Duration::from_millis(5),
            },
        ];
        let rendered: Vec<String> = events
            .iter()
            .filter_map(|e| render(e, "12:00:00"))
            .collect();
        insta::assert_snapshot!(rendered.join("\n"));
    }
}
