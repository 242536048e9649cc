//! The inventory: hosts, groups and their variables, read from TOML and resolved before any
//! connection is made.

mod did_you_mean;
mod error;
mod extra_vars;
mod host;
mod limit;
mod raw;
mod resolve;
mod ssh_config;
mod ssh_config_file;
mod ssh_g;

pub use crate::installer::Installer;
pub use did_you_mean::DidYouMean;
pub use error::{InventoryError, Location};
pub use extra_vars::{connection_vars, parse_extra_vars};
pub use host::{Host, Hub, Role, ServiceEnvironment};
pub use limit::{Limit, Targets};
pub use raw::RawVars;
pub use resolve::{Inventory, ResolveContext};
pub use ssh_config::{SshConfig, SshSettings};

pub use crate::backup_dir::host_name_problem;

#[cfg(test)]
mod tests;
