//! The real `hubfleet` binary as an operator runs it, without a lab: a run in a directory that is
//! also `$HOME` (so `~/.ssh` is the test's), with a fixed width and no inherited inventory or
//! agent, and its exit code, stdout and stderr.

// Each test binary uses a different subset of these helpers: as in `tests/lab/mod.rs`, `allow`
// rather than `expect`, which would fail in the binaries that use them all.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;

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

/// A TCP port that records every connection made to it: the address of every host of the
/// inventory it writes.
pub struct Recorder {
    /// The port.
    pub port: u16,
    /// Every connection, as it is accepted.
    pub connections: mpsc::Receiver<std::net::TcpStream>,
}

impl Recorder {
    /// Listens on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, connections) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if tx.send(stream).is_err() {
                    break;
                }
            }
        });
        Self { port, connections }
    }

    /// An inventory of two hosts, both on this port, written to `dir/inv.toml`.
    pub fn inventory(&self, dir: &Path) {
        self.inventory_with(&dir.join("inv.toml"), "[hosts.h1]\n");
    }

    /// An inventory of two hosts on this port written to `path`, `h1` declared by the TOML `h1`
    /// (a test's bad value), then a good `h2`.
    pub fn inventory_with(&self, path: &Path, h1: &str) {
        let port = self.port;
        std::fs::write(
            path,
            format!(
                "[defaults]\naddress = \"127.0.0.1\"\nport = {port}\nconnect_timeout = 5\n\
                 host_key_policy = \"accept-new\"\n{h1}[hosts.h2]\n"
            ),
        )
        .unwrap();
    }

    /// How many connections were made since the last call.
    pub fn connections(&self) -> usize {
        self.connections.try_iter().count()
    }
}
