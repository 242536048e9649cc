//! hubfleet: upgrade a fleet of JupyterHub servers safely, over SSH, with nothing installed on the
//! hubs.
//!
//! The flow reads off the modules: [`inventory`] → [`plan`] (each host's [`step`]s, decided once
//! from its [`facts`]) → [`runner`] (one task per host, over one [`ssh`] session, running a job of
//! [`jobs`] that calls the [`steps`]) → events → [`reporter`]. [`commands`] wires each subcommand
//! of [`cli`] to them.

pub mod archive;
pub mod atomic_file;
pub mod backup_dir;
pub mod cli;
pub mod commands;
pub mod debug_log;
pub mod error;
pub mod exit_code;
pub mod facts;
pub mod host_scripts;
pub mod human_bytes;
pub mod installer;
pub mod inventory;
pub mod jobs;
pub mod lossy_path;
pub mod plan;
pub mod printer;
pub mod reporter;
pub mod runner;
pub mod seconds;
pub mod secrets;
pub mod ssh;
pub mod step;
pub mod step_failure;
pub mod steps;
pub mod target_version;
pub mod writable;
