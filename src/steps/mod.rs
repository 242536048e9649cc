//! The steps of a host's run, one file each. Steps are async, talk to the host over its session,
//! report through events and never print.

mod backup;
mod gather_facts;
mod hub_control;
mod install;
mod notify;
mod script;
mod stage;
mod upgrade_db;

pub use backup::{BACKUP_SCRIPT, backup, backup_command};
pub use gather_facts::gather_facts;
pub use hub_control::{start_hub, stop_hub};
pub use install::{install, install_command};
pub use notify::notify;
pub use script::{describe, run_command, run_script};
pub use stage::{Target, stage, stage_dir};
pub use upgrade_db::{upgrade_db, upgrade_db_command};

use crate::inventory::Host;

/// The hub env's Python, which runs every script hubfleet sends to a host.
pub fn hub_python(host: &Host) -> String {
    format!("{}/bin/python", host.hub.env.trim_end_matches('/'))
}

/// A byte count for people: `1.5 GiB`.
pub fn human_bytes(n: u64) -> String {
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
        assert_eq!(super::human_bytes(512), "512 B");
        assert_eq!(super::human_bytes(122_880), "120.0 KiB");
        assert_eq!(super::human_bytes(79_973_724_160), "74.5 GiB");
    }
}
