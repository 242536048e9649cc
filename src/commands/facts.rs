//! `hubfleet facts`: what each hub host runs, in one round trip per host.

use std::sync::Arc;

use super::{RunOptions, run_job};
use crate::cli::FactsArgs;
use crate::error::FatalError;
use crate::facts::HostFacts;
use crate::inventory::Host;
use crate::printer::Printer;
use crate::runner::{HostEvents, HostJob, RecapColumns, StepFailure};
use crate::ssh::Session;

/// Gathers and shows the facts of every selected host.
pub fn run(args: &FactsArgs, printer: &Printer) -> Result<u8, FatalError> {
    let options = RunOptions {
        command: "facts",
        target: &args.target,
        forks: args.forks.into(),
        report: args.report.as_deref(),
        json: args.json,
    };
    run_job(&options, Arc::new(FactsJob), printer)
}

struct FactsJob;

impl HostJob for FactsJob {
    type Report = HostFacts;

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut HostFacts,
    ) -> Result<(), StepFailure> {
        *report = crate::steps::gather_facts(host, session, events).await?;
        Ok(())
    }
}

impl RecapColumns for HostFacts {
    fn headers() -> Vec<&'static str> {
        vec![
            "VERSION", "PYTHON", "DATABASE", "REVISION", "SERVING", "SERVERS", "FREE", "NOTES",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        // The full URL (masked) is in `--json`; the table keeps to what fits.
        let database = match (&self.db_backend, self.db_size) {
            (Some(backend), Some(size)) => format!("{backend} {}", bytes(size)),
            (Some(backend), None) => backend.clone(),
            _ => "-".to_owned(),
        };
        vec![
            or_dash(self.jupyterhub_version.clone()),
            self.python_version.clone(),
            database,
            self.db_revision_label(),
            or_dash(self.running_version.clone()),
            or_dash(self.active_servers.map(|n| n.to_string())),
            or_dash(self.free_disk.map(bytes)),
            self.problems.join("; "),
        ]
    }
}

/// A byte count for people: `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(122_880), "120.0 KiB");
        assert_eq!(super::bytes(79_973_724_160), "74.5 GiB");
    }
}
