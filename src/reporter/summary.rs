//! The summary of a run: what the recap shows, as a value that is also written as JSON.

use serde::Serialize;

use crate::runner::Counts;
use crate::runner::HostResult;

/// The version of the JSON report's shape; bumped on any incompatible change. 2: an upgrade's
/// `plan` is the typed plan (steps with their phase, action and way back), no longer lines.
pub const SCHEMA_VERSION: u32 = 2;

/// One run's results, hosts in inventory order.
#[derive(Debug, Clone, Serialize)]
pub struct Summary<R> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The subcommand (`exec`, `upgrade`…).
    pub command: String,
    /// Counts of outcomes.
    pub counts: Counts,
    /// The exit code hubfleet returns for this run.
    pub exit_code: u8,
    /// Every host's result.
    pub hosts: Vec<HostResult<R>>,
}

impl<R: Serialize> Summary<R> {
    /// The summary of `results` of `command`.
    pub fn new(command: &str, results: Vec<HostResult<R>>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            command: command.to_owned(),
            counts: Counts::of(&results),
            exit_code: crate::exit_code::for_counts(Counts::of(&results)),
            hosts: results,
        }
    }

    /// Pretty JSON, stable in field and host order.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    #[derive(serde::Serialize)]
    struct Report {
        #[serde(serialize_with = "crate::lossy_path::serialize")]
        archive: Option<PathBuf>,
    }

    #[test]
    fn a_path_that_is_not_utf8_does_not_cost_the_report() {
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/backups/caf\xe9/h1.tar.gz"));
        let json = serde_json::to_string(&Report {
            archive: Some(path),
        })
        .unwrap();
        assert_eq!(json, "{\"archive\":\"/backups/caf\u{fffd}/h1.tar.gz\"}");
        let none = serde_json::to_string(&Report { archive: None }).unwrap();
        assert_eq!(none, r#"{"archive":null}"#);
    }
}
