//! Where every command's results go, the same way for all: the human text or `--json` on stdout,
//! and the same JSON envelope ([`Envelope`]) to `--report FILE` when asked.

use serde::Serialize;

use crate::cli::OutputArgs;
use crate::error::{FatalError, render};
use crate::printer::Printer;
use crate::reporter::Envelope;

/// Checks that the `--report` file can be written, before anything runs: a report lost after a
/// fleet was upgraded would be found too late.
pub(super) fn probe(output: &OutputArgs) -> Result<(), FatalError> {
    match &output.report {
        Some(path) => {
            crate::writable::probe_file(path).map_err(|source| FatalError::ReportUnwritable {
                path: path.clone(),
                source,
            })
        }
        None => Ok(()),
    }
}

/// Prints `body` (the result of `command`) as JSON with `--json`, else `human`'s text, and writes
/// the JSON to the `--report` file. The command has run by now: a report that cannot be written
/// is said, and the command's exit code stands — "nothing ran" would send the operator to run
/// it all again.
pub(super) fn emit<B: Serialize>(
    output: &OutputArgs,
    printer: &Printer,
    command: &str,
    body: B,
    human: impl FnOnce() -> String,
) {
    let envelope = Envelope::new(command, body);
    let json = (output.json || output.report.is_some()).then(|| envelope.to_json());
    match &json {
        Some(json) if output.json => printer.out(json),
        _ => printer.out(&human()),
    }
    if let (Some(path), Some(json)) = (&output.report, &json)
        && let Err(source) = crate::atomic_file::write(path, json.as_bytes())
    {
        let error = FatalError::Report {
            path: path.clone(),
            source,
        };
        printer.err(&render(&error, &error.hints()));
    }
}
