//! hubfleet: upgrade a fleet of JupyterHub servers safely, over SSH, with nothing installed on the
//! hubs.
//!
//! The flow reads off the modules: [`inventory`] → [`runner`] (one task per host, over one [`ssh`]
//! session) → events → [`reporter`]. [`commands`] wires each subcommand of [`cli`] to them.

pub mod archive;
pub mod atomic_file;
pub mod cli;
pub mod commands;
pub mod error;
pub mod exit_code;
pub mod facts;
pub mod host_scripts;
pub mod human_bytes;
pub mod inventory;
pub mod printer;
pub mod reporter;
pub mod runner;
pub mod seconds;
pub mod secrets;
pub mod ssh;
pub mod steps;
