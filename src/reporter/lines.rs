//! Plain progress lines, for logs and pipes: one timestamped line per host start, step and
//! finish, no escape codes.

use crate::printer::{Printer, Verbosity};
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

    /// Shows one event. Commands only with `-v`: the steps say what they do.
    pub fn handle(&mut self, event: &Event) {
        if matches!(event, Event::Command { .. }) && self.printer.verbosity < Verbosity::Verbose {
            return;
        }
        if let Some(line) = render(event, &timestamp()) {
            match event {
                Event::Output { stream, .. } => {
                    self.printer.host_output(*stream == Stream::Stdout, &line)
                }
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
        // The bars' words; plain lines already say what each step does.
        Event::HostStarted { .. } | Event::StepTimed { .. } | Event::Summary { .. } => None,
        Event::Step { host, step, detail } => Some(format!("{time} {host} {step} {detail}")),
        Event::Command {
            host,
            step,
            command,
        } => Some(format!("{time} {host} {step} $ {command}")),
        Event::Progress {
            host,
            step,
            transfer,
        } => Some(format!("{time} {host} {step} {transfer}")),
        Event::Output { host, line, .. } => Some(format!("{host} | {line}")),
        Event::RunStopping { reason } => Some(format!(
            "{time} run stopping: {reason}; no new host starts, hosts in their cutover are followed to their end"
        )),
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
            Outcome::Interrupted { step, reason } => {
                format!("{time} {host} interrupted before {step}: {reason}")
            }
            Outcome::NotStarted { reason } => format!("{time} {host} {reason}"),
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

    #[test]
    fn a_transfer_shows_its_bytes_of_the_total_and_its_rate() {
        let event = Event::Progress {
            host: "h1".into(),
            step: "backup",
            transfer: crate::runner::Transfer {
                bytes: 412 << 20,
                total: Some(1 << 30),
                elapsed: Duration::from_secs(2),
            },
        };
        assert_eq!(
            render(&event, "12:00:00").unwrap(),
            "12:00:00 h1 backup 412.0 MiB/1.0 GiB 206.0 MiB/s"
        );
        let command = Event::Command {
            host: "h1".into(),
            step: "stop",
            command: "systemctl stop jupyterhub".into(),
        };
        assert_eq!(
            render(&command, "12:00:00").unwrap(),
            "12:00:00 h1 stop $ systemctl stop jupyterhub"
        );
    }
}
