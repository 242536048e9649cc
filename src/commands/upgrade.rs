//! `hubfleet upgrade --to VERSION`: JupyterHub's upgrade procedure on every selected hub,
//! safely. The per-host work is [`crate::jobs::UpgradeJob`], which builds each host's plan
//! ([`crate::plan::UpgradePlan`]) and executes it; `upgrade --help` lists the steps
//! ([`crate::step::Step`]). Before it: `latest` is resolved once for the run, and in a terminal
//! the operator is asked before hubs stop.

use std::sync::Arc;
use std::time::Duration;

use super::confirm::{confirm, some_names};
use super::{Fleet, RunOptions};
use crate::cli::UpgradeArgs;
use crate::error::FatalError;
use crate::jobs::{Pinned, ResolveLatest, UpgradeJob, UpgradeReport};
use crate::printer::{Printer, Verbosity};
use crate::runner::HostResult;
use crate::target_version::TargetVersion;

/// Upgrades every selected host (or, with `--dry-run`, prints each host's plan).
pub fn run(args: &UpgradeArgs, printer: &Printer) -> Result<u8, FatalError> {
    let to = TargetVersion::parse(&args.to)?;
    let options = RunOptions {
        command: "upgrade",
        targets: crate::inventory::Targets::Hubs,
        fleet: &args.fleet,
        logs: Some(&args.backups.dir),
        rollout: Some(&args.rollout),
    };
    let fleet = Fleet::prepare(&options, printer)?;
    let pinned = match to {
        TargetVersion::Latest if !fleet.hosts.is_empty() => match pin_latest(&fleet) {
            Ok(pinned) => Some(pinned),
            // No selected hub could resolve it: those failures are the run's result.
            Err(results) => return Ok(fleet.finish(results)),
        },
        _ => None,
    };
    if let Some(pinned) = pinned
        .as_ref()
        .filter(|_| printer.verbosity > Verbosity::Quiet)
    {
        printer.err(&pinned.line());
    }
    let version = pinned
        .as_ref()
        .map_or_else(|| to.to_string(), |p| p.version.clone());
    if !args.dry_run {
        let summary = summary(&fleet, &version, pinned.as_ref(), args.fleet.forks);
        confirm("upgrade", &summary, args.confirm.yes)?;
    }
    let job = UpgradeJob {
        to: version,
        backup_dir: args.backups.dir.clone(),
        dry_run: args.dry_run,
        allow_active_servers: args.allow_active_servers,
        rollback: !args.no_rollback,
        message: args.message.clone(),
        grace: Duration::from_secs(args.grace),
        holder: crate::steps::LockHolder::this_run("upgrade"),
        pinned,
    };
    fleet.run(Arc::new(job))
}

/// Resolves `latest` on the first selected hub, or on the next when one cannot answer (each
/// change-free). When none can, their results are the run's.
fn pin_latest(fleet: &Fleet<'_>) -> Result<Pinned, Vec<HostResult<UpgradeReport>>> {
    let mut failed = Vec::new();
    for host in &fleet.hosts {
        let result = fleet
            .run_on(std::slice::from_ref(host), Arc::new(ResolveLatest), None)
            .pop();
        if let Some(result) = result {
            if let Some(version) = result.report.version {
                return Ok(Pinned {
                    host: result.host,
                    version,
                });
            }
            failed.push(HostResult {
                host: result.host,
                outcome: result.outcome,
                elapsed: result.elapsed,
                report: UpgradeReport::default(),
                steps: result.steps,
            });
        }
    }
    Err(failed)
}

/// The one line said before asking: how many hubs, which release, how many at once.
fn summary(fleet: &Fleet<'_>, version: &str, pinned: Option<&Pinned>, forks: u16) -> String {
    let hubs = &fleet.hosts;
    let latest = pinned.map_or_else(String::new, |p| {
        format!(" (latest, resolved on {})", p.host)
    });
    format!(
        "upgrade {} hub{} ({}) to jupyterhub {version}{latest}, {forks} at a time: each hub is stopped for its upgrade",
        hubs.len(),
        if hubs.len() == 1 { "" } else { "s" },
        some_names(hubs.iter().map(|h| h.name.as_str())),
    )
}
