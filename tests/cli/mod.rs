//! The real `hubfleet` binary as an operator runs it, without a lab: a run in a directory that is
//! also `$HOME` (so `~/.ssh` is the test's), with a fixed width and no inherited inventory or
//! agent, and its exit code, stdout and stderr.

// Each test binary uses a different subset of these helpers: as in `tests/lab/mod.rs`, `allow`
// rather than `expect`, which would fail in the binaries that use them all.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// What one run printed and returned.
pub struct Run {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

/// `hubfleet ARGS` in `dir`, to completion.
pub fn hubfleet(dir: &Path, args: &[&str]) -> Run {
    let out = command(dir).args(args).output().expect("run hubfleet");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command [`hubfleet`] runs, to add arguments to or to spawn.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hubfleet"));
    command
        .current_dir(dir)
        .env("HOME", dir)
        .env("USER", "op")
        .env("COLUMNS", "120")
        .env("NO_COLOR", "1")
        .env_remove("HUBFLEET_INVENTORY")
        .env_remove("HUBFLEET_BACKUP_DIR")
        .env_remove("SSH_AUTH_SOCK")
        // Never asked to confirm: a test that answers a prompt gives hubfleet a terminal itself.
        .stdin(std::process::Stdio::null());
    command
}

/// The example inventory of the repository.
pub fn example() -> String {
    format!("{}/inventories/example.toml", env!("CARGO_MANIFEST_DIR"))
}
