//! The downtime benchmark of issue 4: how long a hub is down (stop → `/hub/api` reports the new
//! version) when `hubfleet upgrade --to 6.1.1` upgrades it from 4.1.6, against JupyterHub's
//! documented order done naively over OpenSSH on another hub of the same lab, in the same run:
//!
//! ```text
//! ssh HOST 'stop.sh; pip install -U jupyterhub==6.1.1; cd HUBDIR && PATH=ENV/bin:$PATH jupyterhub upgrade-db -f CONFIG; start.sh'
//! ```
//!
//! then polling `/hub/api` until it reports 6.1.1. Both hubs' pip get packages from the same
//! source: by default PyPI, each host with an empty cache, as the issue's reference (baselines.md:
//! 30.7 s, pip 19.7 s of it); `--source wheelhouse` runs offline from the lab's wheelhouse.
//! A poller outside both tools also watches each hub every 100 ms, the same way for both.
//!
//! `scripts/bench-downtime [--source index|wheelhouse]`; target: hubfleet ≤ 0.5 × naive.

#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "bench_support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use lab::{Hubs, Lab};
use support::{PackageSource, Watcher, secs, verdict};

const FROM: &str = "4.1.6";
const TO: &str = "6.1.1";

/// Upgrade one lab hub with hubfleet and another naively over ssh, in one run.
#[derive(Debug, Parser)]
struct Args {
    /// The hubfleet binary (a release build).
    #[arg(long)]
    hubfleet: PathBuf,
    /// Where both hubs' pip gets the target: the issue's reference installs from the index.
    #[arg(long, value_enum, default_value = "index")]
    source: PackageSource,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "bench-downtime: starting a 2-host lab with JupyterHub {FROM} running"
    )?;
    let lab = Lab::builder()
        .hosts(2)
        .hubs(Hubs::Running)
        .jupyterhub(FROM)
        .start()?;
    args.source.apply(&lab)?;
    support::compile_like_pip(&lab)?;

    writeln!(
        out,
        "bench-downtime: h1 with hubfleet upgrade --to {TO} (backup and download while up)"
    )?;
    let watcher = Watcher::start(support::public_addr(&lab.hosts()[0]), TO);
    let (fleet_wall, fleet_down, timeline) = hubfleet_upgrade(&lab, &args.hubfleet)?;
    let fleet_seen = watcher.finish();

    writeln!(
        out,
        "bench-downtime: h2 naively: stop, pip install -U, upgrade-db, start over one ssh"
    )?;
    let watcher = Watcher::start(support::public_addr(&lab.hosts()[1]), TO);
    let naive = support::naive_upgrade(&lab, 1, TO)?;
    let naive_seen = watcher.finish();

    let ratio = fleet_down / naive.downtime;
    writeln!(
        out,
        "\nper-host downtime, JupyterHub {FROM} -> {TO} on the lab (stop -> /hub/api reports {TO}), {}; load average {}",
        args.source.label(),
        support::load_average()
    )?;
    let seen = |s: Option<f64>| s.map_or("?".to_owned(), |s| format!("{s:.1} s"));
    writeln!(
        out,
        "{:<44} {:>10} {:>18}",
        "", "downtime", "seen by a poller"
    )?;
    writeln!(
        out,
        "{:<44} {:>8.1} s {:>18}",
        "naive over OpenSSH",
        naive.downtime,
        seen(naive_seen)
    )?;
    writeln!(
        out,
        "{:<44} {:>8.1} s {:>18}",
        "hubfleet upgrade (report.downtime_seconds)",
        fleet_down,
        seen(fleet_seen)
    )?;
    writeln!(
        out,
        "ratio hubfleet/naive: {ratio:.2} (target <= 0.50: {}); by the poller: {}",
        verdict(ratio <= 0.5),
        match (fleet_seen, naive_seen) {
            (Some(f), Some(n)) => format!("{:.2}", f / n),
            _ => "?".to_owned(),
        }
    )?;
    writeln!(
        out,
        "naive steps: stop {:.1} s, pip install {:.1} s, upgrade-db {:.1} s, start.sh {:.1} s, start -> healthy {:.1} s",
        naive.steps[0], naive.steps[1], naive.steps[2], naive.steps[3], naive.steps[4]
    )?;
    writeln!(
        out,
        "hubfleet upgrade wall (facts, backup, download while up, then the downtime): {:.1} s",
        secs(fleet_wall)
    )?;
    writeln!(
        out,
        "hubfleet's steps, from the report (began after the host's start, took):\n{}",
        timeline.join("\n")
    )?;
    Ok(())
}

/// `hubfleet upgrade` on h1 only: its wall time, the downtime it reports, and its steps' timings
/// as the report gives them (`hosts[].steps`), one line each.
fn hubfleet_upgrade(lab: &Lab, hubfleet: &Path) -> Result<(Duration, f64, Vec<String>)> {
    let (run, json) = support::run_upgrade(lab, hubfleet, TO, Some(&lab.hosts()[0].name))?;
    let down = json["hosts"][0]["report"]["downtime_seconds"]
        .as_f64()
        .with_context(|| format!("no downtime in the report: {json}"))?;
    let steps = json["hosts"][0]["steps"]
        .as_array()
        .with_context(|| format!("no step timings in the report: {json}"))?;
    let timeline = steps
        .iter()
        .map(|s| {
            format!(
                "  {:<12} {:>6.1} s {:>6.1} s{}",
                s["step"].as_str().unwrap_or("?"),
                s["started"].as_f64().unwrap_or(f64::NAN),
                s["took"].as_f64().unwrap_or(f64::NAN),
                if s["ok"] == true { "" } else { "  FAILED" }
            )
        })
        .collect();
    Ok((run.wall, down, timeline))
}
