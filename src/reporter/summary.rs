//! The summary of a run: what the recap shows, as a value that is also written as JSON.

use serde::Serialize;

use crate::runner::Counts;
use crate::runner::HostResult;

/// The version of the JSON envelope's shape; bumped on any incompatible change. 2: an upgrade's
/// `plan` is the typed plan (steps with their phase, action and way back), no longer lines; every
/// subcommand's JSON is this envelope (`inventory --json` was a bare list of hosts).
pub const SCHEMA_VERSION: u32 = 2;

/// The one shape of every command's JSON (`--json`, `--report`): the schema version and the
/// command first, then the command's own fields (`body`), which always include `exit_code`.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope<B> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The subcommand (`exec`, `upgrade`…).
    pub command: String,
    /// What the command says: a fleet run's [`Summary`], the inventory's hosts, archives.
    #[serde(flatten)]
    pub body: B,
}

impl<B: Serialize> Envelope<B> {
    /// `body`, the result of `command`, in the envelope.
    pub fn new(command: &str, body: B) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            command: command.to_owned(),
            body,
        }
    }

    /// Pretty JSON, stable in field and host order.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// One fleet run's results, hosts in inventory order: the body of its [`Envelope`].
#[derive(Debug, Clone, Serialize)]
pub struct Summary<R> {
    /// Counts of outcomes.
    pub counts: Counts,
    /// The exit code hubfleet returns for this run.
    pub exit_code: u8,
    /// Why the run stopped before every host had its turn (`--max-fail`, Ctrl-C).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The file naming the failed and unreachable hosts, for `--limit @FILE`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::lossy_path::serialize"
    )]
    pub retry_file: Option<std::path::PathBuf>,
    /// Every host's result.
    pub hosts: Vec<HostResult<R>>,
}

impl<R: Serialize> Summary<R> {
    /// The summary of `results`.
    pub fn new(results: Vec<HostResult<R>>) -> Self {
        Self {
            counts: Counts::of(&results),
            exit_code: crate::exit_code::for_counts(Counts::of(&results)),
            stopped: None,
            retry_file: None,
            hosts: results,
        }
    }

    /// The hosts to try again: those that failed (rolled back and down included) or could not
    /// be reached, in inventory order.
    pub fn to_retry(&self) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|h| h.outcome.counts_as_failed())
            .map(|h| h.host.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    /// The envelope's fields come first, then the body's, in their declared order.
    #[test]
    fn the_envelope_leads_and_the_body_follows() {
        #[derive(serde::Serialize)]
        struct Body {
            exit_code: u8,
            hosts: Vec<&'static str>,
        }
        let json = super::Envelope::new(
            "inventory",
            Body {
                exit_code: 0,
                hosts: vec!["h1"],
            },
        )
        .to_json();
        let keys: Vec<_> = json
            .lines()
            .filter_map(|l| l.strip_prefix("  \""))
            .map(|l| l.split('"').next().unwrap())
            .collect();
        assert_eq!(keys, ["schema_version", "command", "exit_code", "hosts"]);
        assert!(json.contains("\"schema_version\": 2"), "{json}");
    }
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
