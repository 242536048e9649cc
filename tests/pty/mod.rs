//! A real pseudo-terminal for CLI tests: a tmux server of the test's own running one command in
//! a detached pane, whose screen the test reads and into which it types.

// Each test binary uses a different subset of these helpers (as in `tests/lab/mod.rs`).
#![allow(dead_code)]

use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A tmux server of our own (its own socket) running one command in a detached pane; dropping
/// it kills the server, whether the test passed or not.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `shell_line` in a new `width`×`height` pane.
    pub fn start(shell_line: &str, (width, height): (u16, u16)) -> Tmux {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let tmux = Tmux {
            socket: format!("hubfleet-test-{}-{nanos}", std::process::id()),
        };
        let out = tmux
            .command()
            .args(["new-session", "-d", "-x", &width.to_string()])
            .args(["-y", &height.to_string(), shell_line])
            .output()
            .expect("run tmux (scripts/setup installs it)");
        assert!(out.status.success(), "tmux: {}", text(&out.stderr));
        tmux
    }

    /// `tmux` on our socket, without the user's configuration.
    pub fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    /// The pane as shown (`history`: with the lines scrolled off the top); `escapes` keeps the
    /// escape codes of colours and attributes.
    pub fn capture(&self, history: bool, escapes: bool) -> String {
        let mut command = self.command();
        command.args(["capture-pane", "-p"]);
        if history {
            command.args(["-S", "-"]);
        }
        if escapes {
            command.arg("-e");
        }
        text(&command.output().expect("tmux capture-pane").stdout)
    }
}

impl Tmux {
    /// Types `keys` into the pane, then Enter.
    pub fn answer(&self, keys: &str) {
        let out = self
            .command()
            .args(["send-keys", "-t", "0", keys, "Enter"])
            .output()
            .expect("tmux send-keys");
        assert!(out.status.success(), "tmux: {}", text(&out.stderr));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

/// `command` as one `sh` line: its directory, environment (removed variables too), program and
/// arguments, each single-quoted.
pub fn shell_line(command: &Command) -> String {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
    // `env` takes every `-u NAME` before the first `NAME=VALUE`.
    let mut words = vec!["env".to_owned()];
    let mut set = Vec::new();
    for (key, value) in command.get_envs() {
        match value {
            None => words.extend(["-u".to_owned(), quote(key)]),
            Some(value) => {
                let mut pair = key.to_owned();
                pair.push("=");
                pair.push(value);
                set.push(quote(&pair));
            }
        }
    }
    words.extend(set);
    words.push(quote(command.get_program()));
    words.extend(command.get_args().map(quote));
    let dir = command
        .get_current_dir()
        .expect("hubfleet_at sets the directory");
    format!("cd {} && {}", quote(dir.as_os_str()), words.join(" "))
}
