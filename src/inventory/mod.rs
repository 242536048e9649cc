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
pub use extra_vars::parse_extra_vars;
pub use host::{Host, Hub, Installer};
pub use limit::Limit;
pub use raw::RawVars;
pub use resolve::{Inventory, ResolveContext};
pub use ssh_config::SshConfig;

#[cfg(test)]
mod tests;
