//! The recap: one row per host at the end of a run, and the counts line under it.

use super::RecapColumns;
use crate::runner::{Counts, HostResult, Outcome};

/// The gap between two columns.
const GAP: &str = "  ";

/// The recap: one line per host, never wrapped, with what does not fit in `width` columns said
/// below it, indented and wrapped between words. The host's columns come first (name, result,
/// time), then the job's while they fit; a column that does not (or whose cells are several
/// lines) moves under each host as `name: value`, with the failure, the job's notes and, for a
/// hub left down, what to do. Columns empty for every host are left out. With `color`, the
/// result words are coloured (the caller decides: `NO_COLOR`, `CLICOLOR_FORCE`, a terminal).
pub fn render<R: RecapColumns>(results: &[HostResult<R>], width: u16, color: bool) -> String {
    let width = usize::from(width).max(40);
    let mut headers = vec!["HOST", "RESULT", "TIME"];
    headers.extend(R::headers());
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|result| {
            let mut row = vec![
                result.host.clone(),
                result.outcome.label().to_owned(),
                format!("{:.1}s", result.elapsed.as_secs_f64()),
            ];
            row.extend(result.report.cells());
            row.resize(headers.len(), String::new());
            row
        })
        .collect();
    let columns: Vec<usize> = (0..headers.len())
        .filter(|&c| c < 3 || rows.iter().any(|row| !row[c].is_empty()))
        .collect();
    let column_width = |c: usize| {
        rows.iter()
            .map(|row| row[c].chars().count())
            .chain([headers[c].len()])
            .max()
            .unwrap_or(0)
    };
    // The columns that fit on one line, in order; the first that does not ends the line.
    let mut inline = Vec::new();
    let mut used = 0;
    for &c in &columns {
        let w = column_width(c) + if inline.is_empty() { 0 } else { GAP.len() };
        let multiline = rows.iter().any(|row| row[c].contains('\n'));
        if c >= 3 && (used + w > width || multiline) {
            break;
        }
        used += w;
        inline.push(c);
    }
    let below: Vec<usize> = columns[inline.len()..].to_vec();
    let widths: Vec<usize> = inline.iter().map(|&c| column_width(c)).collect();
    let line = |cells: Vec<String>, paint: Option<&Outcome>| {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push_str(GAP);
            }
            let pad = if i == last {
                0
            } else {
                w - cell.chars().count()
            };
            match paint.filter(|_| i == 1 && color) {
                Some(outcome) => out.push_str(&painted(outcome, cell)),
                None => out.push_str(cell),
            }
            out.push_str(&" ".repeat(pad));
        }
        out.trim_end().to_owned()
    };
    let mut out = vec![line(
        inline.iter().map(|&c| headers[c].to_owned()).collect(),
        None,
    )];
    for (result, row) in results.iter().zip(&rows) {
        out.push(line(
            inline.iter().map(|&c| row[c].clone()).collect(),
            Some(&result.outcome),
        ));
        let mut details = outcome_lines(&result.outcome);
        for &c in &below {
            if !row[c].is_empty() {
                let value = row[c].lines().collect::<Vec<_>>().join(", ");
                details.push(format!("{}: {value}", headers[c].to_lowercase()));
            }
        }
        details.extend(result.report.notes());
        for detail in details {
            out.extend(wrap(&detail, width, 2));
        }
    }
    let counts = Counts::of(results);
    // Rolled back and down are said only when they happened: most runs have neither.
    let rolled_back = match counts.rolled_back {
        0 => String::new(),
        n => format!(" ({n} rolled back)"),
    };
    let down = match counts.down {
        0 => String::new(),
        n => format!(", {n} DOWN"),
    };
    // So are hosts a stopped run left alone.
    let left: String = [
        (counts.interrupted, "interrupted"),
        (counts.not_started, "not started"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!(", {n} {what}"))
    .collect();
    out.push(format!(
        "{} hosts: {} ok, {} failed{rolled_back}{down}, {} unreachable{left}",
        results.len(),
        counts.ok,
        counts.failed,
        counts.unreachable
    ));
    let down: Vec<&str> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Down { .. }))
        .map(|r| r.host.as_str())
        .collect();
    if !down.is_empty() {
        let shout = format!(
            "HUBS LEFT DOWN: {}: their users cannot log in until each is brought back by hand (what to do is under its line above)",
            down.join(", ")
        );
        out.extend(wrap(&shout, width, 0));
    }
    out.join("\n")
}

/// What a host's outcome says under its line: the failure, and for a hub left down, in its own
/// words, that it is down and what to do.
fn outcome_lines(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Ok => Vec::new(),
        Outcome::Failed { step, reason } => vec![format!("failed at {step}: {reason}")],
        Outcome::RolledBack { step, reason } => vec![format!(
            "{step} failed, rolled back (the old release serves again): {reason}"
        )],
        Outcome::Down { step, reason } => vec![
            // The cutover's own reason already shouts it, with the state the host is in.
            if reason.contains("THE HUB IS DOWN") {
                format!("{step} failed: {reason}")
            } else {
                format!("THE HUB IS DOWN: {step} failed: {reason}")
            },
            "what to do: its users cannot log in; bring it back by hand now, with the steps below if any (also in `--report`), then check that /hub/api answers".to_owned(),
        ],
        Outcome::Interrupted { step, reason } => vec![format!("before {step}: {reason}")],
        Outcome::Unreachable { reason, .. } | Outcome::NotStarted { reason } => {
            vec![reason.clone()]
        }
    }
}

/// `cell` in the colour of its outcome (SGR codes: green ok, yellow rolled back, red the rest,
/// bold for a hub left down).
fn painted(outcome: &Outcome, cell: &str) -> String {
    let code = match outcome {
        Outcome::Ok => "32",
        Outcome::RolledBack { .. } => "33",
        Outcome::Down { .. } => "1;31",
        Outcome::Failed { .. } | Outcome::Unreachable { .. } => "31",
        // Left alone, the hub untouched: a warning, not a failure.
        Outcome::Interrupted { .. } | Outcome::NotStarted { .. } => "33",
    };
    format!("\x1b[{code}m{cell}\x1b[0m")
}

/// `text` in lines of at most `width` characters, each indented by `indent` spaces (the lines
/// after the first by two more), broken only between words: a word longer than a line (a long
/// path) stays whole on a line of its own.
fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = " ".repeat(indent);
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let fits = current.chars().count() + 1 + word.chars().count() <= width;
        if !empty && !fits {
            lines.push(std::mem::replace(&mut current, " ".repeat(indent + 2)));
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(word);
        empty = false;
    }
    if !empty {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ssh::SshFailure;

    pub(crate) fn sample() -> Vec<HostResult<()>> {
        let result = |host: &str, outcome, ms| HostResult {
            host: host.to_owned(),
            outcome,
            elapsed: Duration::from_millis(ms),
            report: (),
            steps: Vec::new(),
        };
        vec![
            result("h1", Outcome::Ok, 412),
            result(
                "h2",
                Outcome::Failed {
                    step: "exec".to_owned(),
                    reason: "`false` exited with code 1".to_owned(),
                },
                380,
            ),
            result(
                "h3",
                Outcome::Unreachable {
                    failure: SshFailure::Unreachable,
                    reason: "cannot connect to `h3` (127.0.0.3:22022): Connection refused (os error 111)".to_owned(),
                },
                2,
            ),
        ]
    }

    #[test]
    fn recap_table() {
        insta::assert_snapshot!(render(&sample(), 100, false));
    }

    /// A job's columns, the second one too wide to share a line at 80 columns.
    #[derive(Debug, Clone, Default, serde::Serialize)]
    struct Upgrade {
        version: &'static str,
        archive: &'static str,
    }

    impl RecapColumns for Upgrade {
        fn headers() -> Vec<&'static str> {
            vec!["VERSION", "ARCHIVE"]
        }

        fn cells(&self) -> Vec<String> {
            vec![self.version.to_owned(), self.archive.to_owned()]
        }
    }

    /// At 80 columns: one line per host, never wrapped; what does not fit, the failure and the
    /// down hub's words go below it, broken between words only.
    #[test]
    fn recap_at_80_columns_with_a_failed_and_a_down_host() {
        let result = |host: &str, outcome, version, archive| HostResult {
            host: host.to_owned(),
            outcome,
            elapsed: Duration::from_millis(61_300),
            report: Upgrade { version, archive },
            steps: Vec::new(),
        };
        let results = vec![
            result(
                "hub-paris",
                Outcome::Ok,
                "4.1.6 → 6.1.1",
                "/var/backups/hubfleet/hub-paris/20261207T231500Z.tar.gz (sha256 3f2a9c41d0e8b7a6)",
            ),
            result(
                "hub-berlin",
                Outcome::Failed {
                    step: "stage".to_owned(),
                    reason: "/opt/jupyterhub/env.hubfleet-next/bin/python -m pip install --upgrade jupyterhub==6.1.1 failed: ERROR: No matching distribution found for jupyterhub==6.1.1".to_owned(),
                },
                "4.1.6",
                "/var/backups/hubfleet/hub-berlin/20261207T231502Z.tar.gz (sha256 0b7c55e2a1f3d9c8)",
            ),
            result(
                "hub-madrid",
                Outcome::Down {
                    step: "start".to_owned(),
                    reason: "authenticator refuses 6.1.1 (exit code 1); THE HUB IS DOWN: /opt/jupyterhub/env.hubfleet-previous, the env as it was, is missing".to_owned(),
                },
                "4.1.6 → 6.1.1",
                "",
            ),
        ];
        let recap = render(&results, 80, false);
        for line in recap.lines() {
            let long_word = line.split(' ').any(|w| w.chars().count() > 60);
            assert!(line.chars().count() <= 80 || long_word, "too wide: {line}");
        }
        assert!(!recap.contains('\x1b'), "colour without being asked");
        insta::assert_snapshot!(recap);
        let coloured = render(&results, 80, true);
        assert!(coloured.contains("\x1b[1;31mDOWN\x1b[0m"), "{coloured}");
    }

    /// A rolled-back host counts as failed and says so; a hub left down is its own count.
    #[test]
    fn recap_of_a_rolled_back_and_a_down_host() {
        let mut results = sample();
        results.truncate(1);
        let result = |host: &str, outcome| HostResult {
            host: host.to_owned(),
            outcome,
            elapsed: Duration::from_millis(9000),
            report: (),
            steps: Vec::new(),
        };
        results.push(result(
            "h2",
            Outcome::RolledBack {
                step: "start".to_owned(),
                reason: "authenticator refuses 6.1.1 (exit code 1)".to_owned(),
            },
        ));
        results.push(result(
            "h3",
            Outcome::Down {
                step: "start".to_owned(),
                reason: "authenticator refuses 6.1.1 (exit code 1); THE HUB IS DOWN: /opt/hub.hubfleet-previous, the env as it was, is missing".to_owned(),
            },
        ));
        let counts = Counts::of(&results);
        assert_eq!((counts.failed, counts.rolled_back, counts.down), (1, 1, 1));
        insta::assert_snapshot!(render(&results, 100, false));
    }
}
