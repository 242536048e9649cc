//! Asking before hubs stop (issue 14), in a real terminal: `upgrade` in a tmux pane shows the
//! one-line summary and waits; `n` changes nothing (no host is even dialled); `--yes`, and stdin
//! that is not a terminal, go ahead without asking. The hosts are a listener that records
//! connections, so no lab is needed.

#[path = "cli/mod.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cli::{Recorder, hubfleet};

/// hubfleet in a pane of a tmux server of its own (a real pty), stopped when dropped.
struct Pane {
    socket: String,
    exit_file: PathBuf,
}

impl Pane {
    /// Runs `hubfleet ARGS` in `dir` as `cli::command` would, in an 120×30 terminal.
    fn start(dir: &Path, args: &[&str]) -> Self {
        let socket = format!("hubfleet-confirm-{}-{}", std::process::id(), args.len());
        let exit_file = dir.join(format!("exit-{}", args.len()));
        let quoted: Vec<String> = args
            .iter()
            .map(|a| shlex::try_quote(a).unwrap().into_owned())
            .collect();
        let script = format!(
            "cd {dir} && env -u HUBFLEET_INVENTORY -u HUBFLEET_BACKUP_DIR -u SSH_AUTH_SOCK HOME={dir} USER=op COLUMNS=120 NO_COLOR=1 {bin} {args}; echo $? > {exit}; sleep 60\n",
            dir = dir.display(),
            bin = env!("CARGO_BIN_EXE_hubfleet"),
            args = quoted.join(" "),
            exit = exit_file.display(),
        );
        let script_file = dir.join(format!("run-{}.sh", args.len()));
        std::fs::write(&script_file, script).unwrap();
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "30",
                "sh",
            ])
            .arg(&script_file)
            .status()
            .expect("tmux (installed by scripts/setup)");
        assert!(status.success());
        Self { socket, exit_file }
    }

    /// What the pane shows now.
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows `text`; the screen then.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no `{text}` in:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `keys` and Enter.
    fn answer(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", keys, "Enter"])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for hubfleet to exit; its exit code.
    fn exit_code(&self) -> i32 {
        let start = Instant::now();
        loop {
            if let Ok(code) = std::fs::read_to_string(&self.exit_file)
                && !code.is_empty()
            {
                return code.trim().parse().unwrap();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "hubfleet did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        // This test's own tmux server, by its socket name: nothing else is touched.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

const SUMMARY: &str = "upgrade 2 hubs (h1, h2) to jupyterhub 6.1.1, 10 at a time: each hub is stopped for its upgrade";

#[test]
fn a_terminal_is_asked_and_no_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = Recorder::start();
    hosts.inventory(dir.path());
    let pane = Pane::start(dir.path(), &["upgrade", "-i", "inv.toml", "--to", "6.1.1"]);
    let screen = pane.wait_for("Continue? [y/N]");
    assert!(screen.contains(SUMMARY), "{screen}");
    assert_eq!(
        hosts.connections(),
        0,
        "a host was dialled before the answer"
    );
    pane.answer("n");
    assert_eq!(pane.exit_code(), 1);
    let screen = pane.screen();
    assert!(
        screen.contains("error: `upgrade` was not confirmed: nothing was changed"),
        "{screen}"
    );
    assert_eq!(hosts.connections(), 0, "a host was dialled after `n`");
}

#[test]
fn yes_and_a_stdin_that_is_no_terminal_are_not_asked() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = Recorder::start();
    hosts.inventory(dir.path());
    let args = [
        "upgrade", "-i", "inv.toml", "--to", "6.1.1", "--limit", "h1",
    ];
    let pane = Pane::start(dir.path(), &[&args[..], &["--yes"]].concat());
    // The listener is no sshd: the host ends unreachable (exit 4), after being dialled.
    assert_eq!(pane.exit_code(), 4, "{}", pane.screen());
    assert!(!pane.screen().contains("Continue?"), "{}", pane.screen());
    assert_eq!(hosts.connections(), 1);
    // Not a terminal (`cli::command` gives no stdin): never asked.
    let run = hubfleet(dir.path(), &args);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!run.stderr.contains("Continue?"), "{}", run.stderr);
    assert_eq!(hosts.connections(), 1);
}
