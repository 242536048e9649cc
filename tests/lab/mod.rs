//! The lab: N real "hosts" on this machine for hubfleet's integration tests and README demo.
//!
//! Each host is its own OpenSSH `sshd` on a loopback address `127.A.B.i:22022` and its own hub
//! directory with a real JupyterHub (venv, config, start/stop scripts, populated SQLite database).
//! [`Lab::builder`] brings a lab up, [`Lab::inventory`] is a hubfleet inventory for it, and
//! dropping the [`Lab`] stops every process it started, by pid. Run `scripts/setup` once first.
//!
//! ```ignore
//! let lab = Lab::builder().hosts(5).hubs(Hubs::Running).jupyterhub("4.1.6").start()?;
//! let out = lab.hubfleet_at(env!("CARGO_BIN_EXE_hubfleet")).arg("-i").arg(lab.inventory()).output()?;
//! ```
//!
//! [`DatabaseServer`] starts a private PostgreSQL or MariaDB server, and [`Lab::move_hub_to`]
//! moves a hub onto it.
//!
//! Environment: `HUBFLEET_LAB_CACHE` (default `~/.cache/hubfleet-lab`, filled by `scripts/setup`),
//! `HUBFLEET_LAB_KEEP=1` keeps a test's lab directory (its processes are still stopped),
//! `HUBFLEET_LAB_TRACE=1` prints how long each stage of a start took. A test process killed
//! before its `Lab` dropped leaves processes behind; `cargo run --example lab -- down --dir
//! /tmp/hubfleet-lab-XXXXXX` stops them by the pids recorded there.

// Each test binary (and examples/lab.rs) uses a different subset of the harness, so whether an
// item or re-export is unused depends on the includer: the one place we `allow` rather than
// `expect` (an `expect` would fail in the binaries that do use everything).
#![allow(dead_code, unused_imports)]

mod builder;
mod cache;
mod database;
mod handle;
mod host;
mod http;
mod hub;
mod hub_database;
mod inventory;
mod jump_net;
mod netns;
pub mod runs;
mod seed;
pub mod sshd;
pub mod subnet;
mod teardown;
mod trace;

pub use builder::{Hubs, LabBuilder, parse_subnet};
pub use cache::Cache;
pub use database::{Backend, DatabaseServer};
pub use handle::Lab;
pub use host::LabHost;
pub use hub::{HubFiles, shell_quote};
pub use hub_database::HubOnServer;
pub use jump_net::{JumpNet, NetNames};
pub use netns::Netns;
pub use seed::Seed;

/// Output bytes as text, for assertions and their messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
