//! `--to latest`, resolved once per run: on the first selected hub (the next one if it cannot
//! answer), by the same dry-run resolution `upgrade --dry-run` does, then pinned for every host,
//! so one run cannot land hubs on different releases because their package indexes differ
//! (issue 14).

use serde::Serialize;

use crate::inventory::Host;
use crate::runner::{HostEvents, HostJob, StepFailure};
use crate::ssh::Session;
use crate::steps;

/// Resolves `latest` on one host, changing nothing there (the stage's dry run).
#[derive(Debug, Clone, Copy, Default)]
pub struct ResolveLatest;

/// What resolving `latest` found on a host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resolved {
    /// The release `latest` is on that host.
    pub version: Option<String>,
}

impl HostJob for ResolveLatest {
    type Report = Resolved;

    async fn run(
        &self,
        host: &Host,
        session: &Session,
        events: &HostEvents,
        report: &mut Resolved,
    ) -> Result<(), StepFailure> {
        let facts = events
            .timed("facts", steps::gather_facts(host, session, events))
            .await?;
        let stage = steps::stage(host, &facts, session, events, "latest", None, None);
        let target = events.timed("stage", stage).await?;
        report.version = Some(target.version);
        Ok(())
    }
}

/// The release `latest` was pinned to, and where it was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The host that resolved it.
    pub host: String,
    /// The release.
    pub version: String,
}

impl Pinned {
    /// The line that says so, in the plan and on stderr.
    pub fn line(&self) -> String {
        format!(
            "latest resolved on {}: {}, pinned for every host of this run",
            self.host, self.version
        )
    }

    /// A failure to ready the pinned release on another host, said as such: that host's index
    /// may not offer it, which is why it is refused rather than given its own `latest`.
    pub fn refusal(&self, failure: StepFailure) -> StepFailure {
        StepFailure {
            reason: format!(
                "jupyterhub {} (`latest` as resolved on {}, pinned for the run) cannot be readied on this host, nothing was changed: {} (upgrade this host alone with `--to VERSION`, or give it an index that offers {})",
                self.version, self.host, failure.reason, self.version
            ),
            ..failure
        }
    }
}
