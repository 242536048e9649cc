//! The inventory: hosts, groups and their variables, read from TOML and resolved before any
//! connection is made.

mod error;
mod extra_vars;
mod host;
mod limit;
mod raw;
mod resolve;
mod ssh_config;

pub use error::{InventoryError, Location};
pub use extra_vars::{connection_vars, parse_extra_vars};
pub use host::{Host, Hub, Installer, ServiceEnvironment};
pub use limit::Limit;
pub use raw::RawVars;
pub use resolve::{Inventory, ResolveContext};
pub use ssh_config::SshConfig;

/// Why `name` cannot name a host, if it cannot: each host's backups and logs live in a
/// directory of its name, which must stay one plain directory inside the backup directory.
pub fn host_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('.') {
        Some("starts with `.`")
    } else if name.contains(['/', '\\']) {
        Some("contains a slash")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
