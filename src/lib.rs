//! hubfleet: upgrade a fleet of JupyterHub servers safely, over SSH, with nothing installed on the
//! hubs.
//!
//! The flow reads off the modules: [`inventory`] → [`plan`] → [`runner`] (one task per host, over
//! one [`ssh`] session) → events → [`reporter`]. [`commands`] wires each subcommand of [`cli`].

pub mod inventory;
pub mod ssh;
