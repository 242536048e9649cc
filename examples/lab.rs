//! The lab for humans: real sshds and JupyterHubs on loopback addresses, left running so you can
//! point hubfleet at them.
//!
//! ```text
//! scripts/setup
//! cargo run --example lab -- up --hosts 5 --dir /tmp/hubfleet-lab --subnet 127.0.10
//! hubfleet -i /tmp/hubfleet-lab/inventory.toml …
//! cargo run --example lab -- down --dir /tmp/hubfleet-lab
//! ```
//!
//! `up` on a directory that holds a lab takes that lab down first; `down` is idempotent. Both stop
//! processes only by the pids recorded in the directory's `lab-state`.

#[path = "../tests/lab/mod.rs"]
mod lab;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, ValueEnum};
use lab::{Hubs, Lab};

/// Bring a hubfleet lab up or down.
#[derive(Debug, Parser)]
enum Cli {
    /// Start a lab (taking down a lab already in `--dir`).
    Up {
        /// Number of hosts.
        #[arg(long, default_value_t = 5)]
        hosts: usize,
        /// The lab directory; it is kept.
        #[arg(long, default_value = "/tmp/hubfleet-lab")]
        dir: PathBuf,
        /// The hosts' subnet, `127.A.B` (hosts are `127.A.B.1..=N`); random if not given.
        #[arg(long)]
        subnet: Option<String>,
        /// What runs on each host besides sshd.
        #[arg(long, value_enum, default_value_t = HubsArg::Running)]
        hubs: HubsArg,
        /// The JupyterHub release to install.
        #[arg(long, default_value = "4.1.6")]
        jupyterhub: String,
        /// Host addresses per sshd (at most 16); 1 lets you stop one host alone.
        #[arg(long, default_value_t = 1)]
        addresses_per_sshd: usize,
    },
    /// Stop every process of the lab in `--dir`.
    Down {
        /// The lab directory.
        #[arg(long, default_value = "/tmp/hubfleet-lab")]
        dir: PathBuf,
    },
}

/// [`Hubs`] as a command-line value.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum HubsArg {
    None,
    Installed,
    Running,
}

#[expect(
    clippy::print_stdout,
    reason = "an example's output is for the human who ran it"
)]
fn main() -> Result<()> {
    match Cli::parse() {
        Cli::Up {
            hosts,
            dir,
            subnet,
            hubs,
            jupyterhub,
            addresses_per_sshd,
        } => {
            let started = Instant::now();
            let mut builder = Lab::builder()
                .hosts(hosts)
                .dir(&dir)
                .hubs(match hubs {
                    HubsArg::None => Hubs::None,
                    HubsArg::Installed => Hubs::Installed,
                    HubsArg::Running => Hubs::Running,
                })
                .jupyterhub(&jupyterhub)
                .addresses_per_sshd(addresses_per_sshd);
            if let Some(subnet) = subnet {
                builder = builder.subnet(lab::parse_subnet(&subnet)?);
            }
            let lab = builder.start()?;
            let [a, b, c] = lab.subnet();
            let what = match lab.hubs() {
                Hubs::None => "sshd only".to_owned(),
                Hubs::Installed => format!("JupyterHub {} installed, stopped", lab.release()),
                Hubs::Running => format!("JupyterHub {} running", lab.release()),
            };
            println!(
                "lab up in {:.1} s: {hosts} hosts at {a}.{b}.{c}.1-{hosts}:22022, {what}",
                started.elapsed().as_secs_f64()
            );
            println!("inventory: {}", lab.inventory().display());
            let dir = lab.detach();
            println!(
                "take it down with: cargo run --example lab -- down --dir {}",
                dir.display()
            );
        }
        Cli::Down { dir } => {
            Lab::down(&dir)?;
            println!("lab in {} is down", dir.display());
        }
    }
    Ok(())
}
