//! The recap: one row per host at the end of a run, and the counts line under it.

use comfy_table::{ContentArrangement, Table, presets};

use super::RecapColumns;
use crate::runner::{Counts, HostResult, Outcome};

/// The recap table, `width` columns wide at most. Columns that are empty for every host (no
/// failure detail, no notes) are left out, so the width goes to what has something to say.
pub fn render<R: RecapColumns>(results: &[HostResult<R>], width: u16) -> String {
    let mut headers = vec!["HOST", "RESULT", "TIME"];
    headers.extend(R::headers());
    headers.push("DETAIL");
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|result| {
            let detail = match &result.outcome {
                Outcome::Ok => String::new(),
                Outcome::Failed { step, reason } => format!("{step}: {reason}"),
                Outcome::RolledBack { step, reason } => {
                    format!("{step} failed, rolled back: {reason}")
                }
                Outcome::Down { step, reason } => format!("{step} failed: {reason}"),
                Outcome::Unreachable { reason, .. } => reason.clone(),
            };
            let mut row = vec![
                result.host.clone(),
                result.outcome.label().to_owned(),
                format!("{:.1}s", result.elapsed.as_secs_f64()),
            ];
            row.extend(result.report.cells());
            row.push(detail);
            row
        })
        .collect();
    let keep: Vec<usize> = (0..headers.len())
        .filter(|&c| {
            c < 2
                || rows
                    .iter()
                    .any(|row| row.get(c).is_some_and(|cell| !cell.is_empty()))
        })
        .collect();
    let mut table = Table::new();
    table
        .load_style(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(keep.iter().map(|&c| headers[c]));
    for row in &rows {
        table.add_row(
            keep.iter()
                .map(|&c| row.get(c).cloned().unwrap_or_default()),
        );
    }
    let mut notes = String::new();
    for result in results {
        let lines = result.report.notes();
        if !lines.is_empty() {
            notes.push_str(&format!("\n{}:\n", result.host));
            for line in lines {
                notes.push_str(&format!("  {line}\n"));
            }
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
    format!(
        "{table}{notes}\n{} hosts: {} ok, {} failed{rolled_back}{down}, {} unreachable",
        results.len(),
        counts.ok,
        counts.failed,
        counts.unreachable
    )
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
        insta::assert_snapshot!(render(&sample(), 100));
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
        insta::assert_snapshot!(render(&results, 100));
    }
}
