//! `hubfleet facts`: what each hub host runs, in one round trip per host.

use std::sync::Arc;

use super::{RunOptions, run_job};
use crate::cli::FactsArgs;
use crate::error::FatalError;
use crate::facts::HostFacts;
use crate::human_bytes::human_bytes;
use crate::inventory::Host;
use crate::printer::Printer;
use crate::reporter::RecapColumns;
use crate::runner::{HostEvents, HostJob, StepFailure};
use crate::ssh::Session;

/// Gathers and shows the facts of every selected host.
pub fn run(args: &FactsArgs, printer: &Printer) -> Result<u8, FatalError> {
    let options = RunOptions {
        command: "facts",
        targets: crate::inventory::Targets::Hubs,
        fleet: &args.fleet,
        logs: None,
        rollout: None,
    };
    let code = run_job(&options, Arc::new(FactsJob), printer)?;
    if !args.fleet.output.json {
        printer.out(&controller_space(&args.backups.dir));
    }
    Ok(code)
}

/// The controller's side of the disk question: free space where the archives would go.
fn controller_space(dir: &std::path::Path) -> String {
    // The directory may not exist yet: measured where it would be.
    match crate::backup_dir::free_space(dir) {
        Ok(free) => format!(
            "controller: {} free for backups in `{}`",
            human_bytes(free),
            dir.display()
        ),
        Err(e) => format!(
            "controller: cannot measure free space in `{}`: {e}",
            dir.display()
        ),
    }
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
        let facts = crate::steps::gather_facts(host, session, events);
        *report = events.timed("facts", facts).await?;
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
        let database = match self.db_size {
            Some(size) if self.db_backend.is_some() => {
                format!("{} {}", self.database_label(), human_bytes(size))
            }
            _ => self.database_label(),
        };
        vec![
            or_dash(self.jupyterhub_version.clone()),
            self.python_version.clone(),
            database,
            self.db_revision_label(),
            or_dash(self.running_version.clone()),
            or_dash(self.active_servers.map(|n| n.to_string())),
            or_dash(self.free_disk.map(human_bytes)),
            self.lock
                .as_ref()
                .and_then(crate::facts::LockState::note)
                .iter()
                .chain(&self.problems)
                .chain(&self.blockers)
                .cloned()
                .chain(self.database_warnings())
                .collect::<Vec<_>>()
                .join("; "),
        ]
    }
}
